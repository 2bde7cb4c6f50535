/**
 * createTalkingHead's options, checked field by field so a wrong call fails at once with
 * the option's name instead of deep in a worker.
 */
import { invalidOption } from './errors.ts';
import type { VideoSinkKind } from './support.ts';

export type AvatarInput = ArrayBuffer | Uint8Array | Blob | string | URL | null;

export interface OutputSize {
  width: number;
  height: number;
}

export interface TalkingHeadOptions {
  /** The .r2t avatar: bytes, a Blob/File, a URL to fetch, or null for the built-in avatar. */
  avatar: AvatarInput;
  /** Capture the microphone (true, or constraints for it). Exactly one of microphone/audioTrack. */
  microphone?: boolean | MediaTrackConstraints;
  /** Drive the face from this audio track instead (stays the caller's: stop() leaves it running). */
  audioTrack?: MediaStreamTrack;
  /** Video track size; default 640x480. */
  size?: OutputSize;
  /** Output frame rate; default 25 (the landmark rate). */
  frameRate?: number;
  /**
   * Base URL of the engine files (engine-worker.js, render-worker.js, render-band-worker.js, mic-tap.js,
   * default-generator.bin from the build's dist/extension/), same origin as the page:
   * browsers only start workers from the page's own origin.
   */
  engineUrl: string | URL;
  /** 'auto' renders with WebGPU where the worker gets an adapter, else the CPU reference. */
  backend?: 'auto' | 'cpu';
  /** Longest side the avatar is rendered at before scaling to `size`; default 256. */
  renderMaxSide?: number;
  /**
   * 'exact' renders the reference frames; 'fast' a fraction of the multiply-adds (PSNR >= 38 dB
   * against exact); 'auto' (default) stays exact while it holds the frame rate, else tries fast
   * mode and keeps it only where it measures faster.
   */
  quality?: 'auto' | 'exact' | 'fast';
  /** 'auto' picks MediaStreamTrackGenerator, else the canvas.captureStream fallback. */
  videoSink?: VideoSinkKind | 'auto';
  /** Added to the measured lip-sync delay of `audioTrack`, ms; default 0. */
  lipSyncOffsetMs?: number;
  /** Blink when idle (default true). */
  idleBlinks?: boolean;
  /** Gentle head motion from the avatar's pose track (default true). */
  idleHeadMotion?: boolean;
}

export interface ResolvedOptions {
  avatar: AvatarInput;
  audio: { kind: 'microphone'; constraints: MediaTrackConstraints | true } | { kind: 'track'; track: MediaStreamTrack };
  size: OutputSize;
  frameRate: number;
  engineUrl: URL;
  backend: 'auto' | 'cpu';
  renderMaxSide: number;
  quality: 'auto' | 'exact' | 'fast';
  videoSink: VideoSinkKind | 'auto';
  lipSyncOffsetMs: number;
  idleBlinks: boolean;
  idleHeadMotion: boolean;
}

export const LIMITS = {
  minSide: 16,
  maxSide: 4096,
  minFrameRate: 1,
  maxFrameRate: 60,
  minRenderSide: 32,
  maxRenderSide: 1024,
  maxLipSyncOffsetMs: 500,
} as const;

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

export function checkSize(v: unknown, field = 'size'): OutputSize {
  if (typeof v !== 'object' || v === null) throw invalidOption(field, '{ width, height }', v);
  const { width, height } = v as Record<string, unknown>;
  // Even sides: I420 encoders halve them, and an odd side is cropped differently per codec.
  const ok = (x: unknown) => isInt(x, LIMITS.minSide, LIMITS.maxSide) && (x as number) % 2 === 0;
  if (!ok(width)) throw invalidOption(`${field}.width`, `an even integer in [${LIMITS.minSide}, ${LIMITS.maxSide}]`, width);
  if (!ok(height)) throw invalidOption(`${field}.height`, `an even integer in [${LIMITS.minSide}, ${LIMITS.maxSide}]`, height);
  return { width: width as number, height: height as number };
}

export function checkAvatar(v: unknown, field = 'avatar'): AvatarInput {
  if (v === null || v instanceof ArrayBuffer || v instanceof Uint8Array || v instanceof URL) return v;
  if (typeof Blob === 'function' && v instanceof Blob) return v;
  if (typeof v === 'string' && v.length > 0) return v;
  throw invalidOption(field, 'an ArrayBuffer, Uint8Array, Blob, URL string, URL or null (built-in head)', v);
}

export function resolveOptions(o: unknown, base: string | undefined = globalThis.location?.href): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw invalidOption('options', 'an object', o);
  const opts = o as Record<string, unknown>;
  if (!('avatar' in opts)) throw invalidOption('avatar', 'an avatar (or null for the built-in head)', undefined);
  const avatar = checkAvatar(opts.avatar);

  const hasMic = opts.microphone !== undefined && opts.microphone !== false;
  const hasTrack = opts.audioTrack !== undefined;
  if (hasMic === hasTrack) throw invalidOption('microphone|audioTrack', 'exactly one of microphone or audioTrack', hasMic ? 'both' : 'neither');
  let audio: ResolvedOptions['audio'];
  if (hasTrack) {
    const t = opts.audioTrack as MediaStreamTrack;
    if (typeof t !== 'object' || t === null || t.kind !== 'audio') throw invalidOption('audioTrack', 'an audio MediaStreamTrack', t);
    if (t.readyState === 'ended') throw invalidOption('audioTrack', 'a live track', 'an ended track');
    audio = { kind: 'track', track: t };
  } else {
    const m = opts.microphone;
    if (m !== true && (typeof m !== 'object' || m === null)) throw invalidOption('microphone', 'true or MediaTrackConstraints', m);
    audio = { kind: 'microphone', constraints: m as MediaTrackConstraints | true };
  }

  const size = opts.size === undefined ? { width: 640, height: 480 } : checkSize(opts.size);
  const frameRate = opts.frameRate ?? 25;
  if (!isInt(frameRate, LIMITS.minFrameRate, LIMITS.maxFrameRate)) throw invalidOption('frameRate', `an integer in [${LIMITS.minFrameRate}, ${LIMITS.maxFrameRate}]`, frameRate);

  if (typeof opts.engineUrl !== 'string' && !(opts.engineUrl instanceof URL)) throw invalidOption('engineUrl', 'the URL of the engine files', opts.engineUrl);
  let engineUrl: URL;
  try {
    engineUrl = new URL(String(opts.engineUrl), base);
  } catch {
    throw invalidOption('engineUrl', 'a valid URL', opts.engineUrl);
  }
  if (!engineUrl.pathname.endsWith('/')) engineUrl = new URL(`${engineUrl.pathname}/`, engineUrl);
  if (base !== undefined && new URL(base).origin !== engineUrl.origin) {
    throw invalidOption('engineUrl', `a URL on the page's origin (${new URL(base).origin}); workers cannot start cross-origin`, engineUrl.href);
  }

  const backend = opts.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'cpu') throw invalidOption('backend', "'auto' or 'cpu'", backend);
  const renderMaxSide = opts.renderMaxSide ?? 256;
  if (!isInt(renderMaxSide, LIMITS.minRenderSide, LIMITS.maxRenderSide)) throw invalidOption('renderMaxSide', `an integer in [${LIMITS.minRenderSide}, ${LIMITS.maxRenderSide}]`, renderMaxSide);
  const quality = opts.quality ?? 'auto';
  if (quality !== 'auto' && quality !== 'exact' && quality !== 'fast') throw invalidOption('quality', "'auto', 'exact' or 'fast'", quality);
  const videoSink = opts.videoSink ?? 'auto';
  if (videoSink !== 'auto' && videoSink !== 'generator' && videoSink !== 'canvas') throw invalidOption('videoSink', "'auto', 'generator' or 'canvas'", videoSink);
  const lipSyncOffsetMs = opts.lipSyncOffsetMs ?? 0;
  if (typeof lipSyncOffsetMs !== 'number' || !Number.isFinite(lipSyncOffsetMs) || Math.abs(lipSyncOffsetMs) > LIMITS.maxLipSyncOffsetMs) {
    throw invalidOption('lipSyncOffsetMs', `a number in [-${LIMITS.maxLipSyncOffsetMs}, ${LIMITS.maxLipSyncOffsetMs}]`, lipSyncOffsetMs);
  }
  const flag = (name: 'idleBlinks' | 'idleHeadMotion'): boolean => {
    const v = opts[name] ?? true;
    if (typeof v !== 'boolean') throw invalidOption(name, 'a boolean', v);
    return v;
  };
  return { avatar, audio, size, frameRate, engineUrl, backend, renderMaxSide, quality, videoSink, lipSyncOffsetMs, idleBlinks: flag('idleBlinks'), idleHeadMotion: flag('idleHeadMotion') };
}
