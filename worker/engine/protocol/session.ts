/**
 * Shim <-> engine worker, over the per-session MessagePort the bridge hands out. The engine
 * paces: one message per output frame tick. A `frame` carries new pixels; a `repeat` asks the
 * shim to write the previous pixels again (rendering slower than the advertised rate).
 * The shim acks every frame/repeat after writing it; the engine keeps at most
 * `MAX_FRAMES_IN_FLIGHT` unacknowledged and drops ticks beyond that (never queues).
 */

export type FrameTransport = 'bitmap' | 'rgba';

export interface SessionRequest {
  width: number;
  height: number;
  frameRate: number;
  /** How pixels cross to the shim: transferred ImageBitmaps, or RGBA ArrayBuffers. */
  transport: FrameTransport;
}

export const MAX_FRAMES_IN_FLIGHT = 2;

/** Pixel payloads the shim can turn into a VideoFrame. */
export type FramePixels =
  | { type: 'bitmap'; bitmap: ImageBitmap }
  | { type: 'rgba'; width: number; height: number; data: ArrayBuffer };

export interface SessionStats {
  /** Frames per second the renderer actually produced over the last window (5 s). */
  renderFps: number;
  /**
   * Renders completed since the engine started (all sessions share them). Monotonic, so a
   * reader can measure the real render rate over any window it likes.
   */
  renders: number;
  /** Frames per second sent (new + repeated). */
  sentFps: number;
  /** Ticks dropped because 2 frames were in flight. */
  dropped: number;
  /** Name of the frame source, e.g. "placeholder" or "cpu-reference". */
  source: string;
  /** Seconds of mic audio the engine has received from this session's tap. */
  audioSeconds: number;
  /** Name of the avatar rendering; null before the engine started. */
  avatar: string | null;
  /** Problem the user should know about (missing avatar, no GPU, no generator), or null. */
  problem: string | null;
  /** Landmark source ("speech" or "level-only"). */
  landmarks: string;
}

export type EngineToShim =
  /**
   * New pixels. `audioTimeSec` is the instant of the mic audio (on the page's AudioContext
   * clock, the tap's timeSec) whose face the pixels show, or null when idle.
   */
  | { kind: 'frame'; seq: number; timestampUs: number; pixels: FramePixels; audioTimeSec: number | null }
  | { kind: 'repeat'; seq: number; timestampUs: number }
  | { kind: 'stats'; stats: SessionStats }
  | { kind: 'error'; code: string; message: string };

export type ShimToEngine =
  | { kind: 'ack'; seq: number }
  | { kind: 'configure'; width: number; height: number; frameRate: number }
  | { kind: 'audio'; samples: Float32Array; sampleRate: number; timeSec: number }
  /** What the shim measured: audio -> face latency and the mic delay it applied, in ms. */
  | { kind: 'sync'; lagMs: number; delayMs: number }
  | { kind: 'close' };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function isSessionRequest(v: unknown): v is SessionRequest {
  if (!isRecord(v)) return false;
  const ok = (x: unknown, hi: number) => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= hi;
  return ok(v.width, 4096) && ok(v.height, 4096) && ok(v.frameRate, 120) && (v.transport === 'bitmap' || v.transport === 'rgba');
}

export function isEngineToShim(v: unknown): v is EngineToShim {
  if (!isRecord(v)) return false;
  switch (v.kind) {
    case 'frame': {
      if (!isSeq(v.seq) || typeof v.timestampUs !== 'number' || !isRecord(v.pixels)) return false;
      if (v.audioTimeSec !== null && !(typeof v.audioTimeSec === 'number' && Number.isFinite(v.audioTimeSec))) return false;
      const p = v.pixels;
      if (p.type === 'bitmap') return p.bitmap instanceof ImageBitmap;
      if (p.type === 'rgba') {
        return isSeq(p.width) && isSeq(p.height) && p.data instanceof ArrayBuffer && p.data.byteLength === (p.width as number) * (p.height as number) * 4;
      }
      return false;
    }
    case 'repeat':
      return isSeq(v.seq) && typeof v.timestampUs === 'number';
    case 'stats':
      return isRecord(v.stats);
    case 'error':
      return typeof v.code === 'string' && typeof v.message === 'string';
    default:
      return false;
  }
}

export function isShimToEngine(v: unknown): v is ShimToEngine {
  if (!isRecord(v)) return false;
  switch (v.kind) {
    case 'ack':
      return isSeq(v.seq);
    case 'configure': {
      const ok = (x: unknown, hi: number) => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= hi;
      return ok(v.width, 4096) && ok(v.height, 4096) && ok(v.frameRate, 120);
    }
    case 'audio':
      return v.samples instanceof Float32Array && v.samples.length <= 48000 && typeof v.sampleRate === 'number' && typeof v.timeSec === 'number';
    case 'sync':
      return typeof v.lagMs === 'number' && Number.isFinite(v.lagMs) && typeof v.delayMs === 'number' && Number.isFinite(v.delayMs);
    case 'close':
      return true;
    default:
      return false;
  }
}
