/**
 * One fake camera capture: a MediaStreamTrackGenerator fed with frames from the engine, and
 * the session that feeds it. Shared by the original track and its clones; the session ends
 * when the last of them is stopped.
 */
import { isEngineToShim, type EngineToShim, type FramePixels, type SessionStats, type ShimToEngine } from '../../worker/engine/protocol/session.ts';
import type { FrameTransport } from '../protocol/shim-bridge.ts';
import type { BridgeLink } from './bridge-link.ts';
import { newSessionId } from './bridge-link.ts';
import type { ResolvedVideo } from './constraints.ts';

export interface CameraStats extends SessionStats {
  framesWritten: number;
  framesRepeated: number;
  /** Last problem reported by the engine or the link, or null. */
  problem: string | null;
  /** Measured audio -> face latency (median, ms) and the mic delay applied (ms). */
  lagMs: number | null;
  micDelayMs: number | null;
}

/** What a camera source needs from the page-wide shim: one clock and the lip-sync meter. */
export interface SourceHooks {
  /** Timestamp for the next frame, microseconds (the audio clock where the mic runs). */
  nowUs(): number;
  /** A new frame shows the voice at `audioTimeSec`; returns what to report back to the engine. */
  onContent(audioTimeSec: number): void;
  sync(): { lagMs: number | null; delayMs: number | null };
}

type Held = { type: 'bitmap'; bitmap: ImageBitmap } | { type: 'rgba'; width: number; height: number; data: Uint8Array };

export class CameraSource {
  readonly sessionId = newSessionId();
  private readonly writer: WritableStreamDefaultWriter<VideoFrame>;
  private port: MessagePort | null = null;
  private held: Held | null = null;
  private lastTs = -1;
  private refs = 0;
  private ended = false;
  private engineStats: SessionStats = { renderFps: 0, renders: 0, sentFps: 0, dropped: 0, source: 'none', audioSeconds: 0, avatar: null, problem: null, landmarks: 'none' };
  private framesWritten = 0;
  private framesRepeated = 0;
  private problem: string | null = null;
  private readonly endedListeners: (() => void)[] = [];

  private constructor(
    readonly generator: MediaStreamTrackGenerator,
    public settings: ResolvedVideo,
    private readonly link: BridgeLink,
    private readonly transport: FrameTransport,
    private readonly hooks: SourceHooks,
  ) {
    this.writer = generator.writable.getWriter();
  }

  /** Creates the generator, writes a first frame (apps read width/height at once) and opens the engine session. */
  static async create(settings: ResolvedVideo, link: BridgeLink, transport: FrameTransport, hooks: SourceHooks): Promise<CameraSource> {
    const source = new CameraSource(new MediaStreamTrackGenerator({ kind: 'video' }), settings, link, transport, hooks);
    await source.writeStill(null);
    source.open();
    return source;
  }

  onEnded(cb: () => void): void {
    if (this.ended) cb();
    else this.endedListeners.push(cb);
  }

  addRef(): void {
    this.refs++;
  }

  release(): void {
    this.refs = Math.max(0, this.refs - 1);
    if (this.refs === 0) this.end();
  }

  stats(): CameraStats {
    const sync = this.hooks.sync();
    return { ...this.engineStats, framesWritten: this.framesWritten, framesRepeated: this.framesRepeated, problem: this.problem ?? this.engineStats.problem, lagMs: sync.lagMs, micDelayMs: sync.delayMs };
  }

  configure(next: ResolvedVideo): void {
    const resized = next.width !== this.settings.width || next.height !== this.settings.height;
    this.settings = next;
    this.toEngine({ kind: 'configure', width: next.width, height: next.height, frameRate: Math.round(next.frameRate) });
    // Until the engine's first frame at the new size arrives, show the old pixels rescaled so
    // the track's size matches getSettings() immediately.
    if (resized) void this.writeStill(this.problem);
  }

  pushAudio(samples: Float32Array, sampleRate: number, timeSec: number): void {
    this.toEngine({ kind: 'audio', samples, sampleRate, timeSec }, [samples.buffer]);
  }

  private open(): void {
    const { width, height, frameRate } = this.settings;
    this.link
      .openSession(this.sessionId, { width, height, frameRate: Math.round(frameRate), transport: this.transport }, (message) => this.fail(message))
      .then(
        (port) => {
          if (this.ended) {
            port.postMessage({ kind: 'close' } satisfies ShimToEngine);
            port.close();
            return;
          }
          this.port = port;
          port.onmessage = (e: MessageEvent) => {
            if (isEngineToShim(e.data)) this.onEngine(e.data);
          };
          port.start();
        },
        (e: Error) => this.fail(e.message),
      );
  }

  private fail(message: string): void {
    this.problem = message;
    if (!this.ended) void this.writeStill(message);
  }

  private toEngine(msg: ShimToEngine, transfer: Transferable[] = []): void {
    this.port?.postMessage(msg, transfer);
  }

  private nextTimestamp(ts: number): number {
    this.lastTs = ts > this.lastTs ? ts : this.lastTs + 1;
    return this.lastTs;
  }

  private onEngine(msg: EngineToShim): void {
    switch (msg.kind) {
      case 'frame': {
        const frame = this.adopt(msg.pixels);
        if (!frame) return this.ack(msg.seq);
        this.write(this.frameFrom(frame), msg.seq, false);
        if (msg.audioTimeSec !== null) {
          this.hooks.onContent(msg.audioTimeSec);
          this.reportSync();
        }
        return;
      }
      case 'repeat': {
        const held = this.held;
        if (!held || !this.fits(held)) return this.ack(msg.seq);
        this.write(this.frameFrom(held), msg.seq, true);
        return;
      }
      case 'stats':
        this.engineStats = msg.stats;
        return;
      case 'error':
        this.problem = msg.message;
        return;
    }
  }

  private fits(h: Held): boolean {
    const w = h.type === 'bitmap' ? h.bitmap.width : h.width;
    const ht = h.type === 'bitmap' ? h.bitmap.height : h.height;
    return w === this.settings.width && ht === this.settings.height;
  }

  /** Keeps the new pixels for repeats; returns null (and frees them) when sized for an old configuration. */
  private adopt(p: FramePixels): Held | null {
    const held: Held = p.type === 'bitmap' ? p : { type: 'rgba', width: p.width, height: p.height, data: new Uint8Array(p.data) };
    if (this.ended || !this.fits(held)) {
      if (held.type === 'bitmap') held.bitmap.close();
      return null;
    }
    if (this.held?.type === 'bitmap') this.held.bitmap.close();
    this.held = held;
    return held;
  }

  private lastSyncReport = -Infinity;

  /** Tells the engine (for the popup) what lip sync measured, at most once a second. */
  private reportSync(): void {
    const now = performance.now();
    if (now - this.lastSyncReport < 1000) return;
    this.lastSyncReport = now;
    const s = this.hooks.sync();
    if (s.lagMs !== null && s.delayMs !== null) this.toEngine({ kind: 'sync', lagMs: s.lagMs, delayMs: s.delayMs });
  }

  private frameFrom(h: Held): VideoFrame {
    const timestamp = this.nextTimestamp(this.hooks.nowUs());
    if (h.type === 'bitmap') return new VideoFrame(h.bitmap, { timestamp });
    return new VideoFrame(h.data, { format: 'RGBA', codedWidth: h.width, codedHeight: h.height, timestamp });
  }

  private ack(seq: number): void {
    this.toEngine({ kind: 'ack', seq });
  }

  private write(frame: VideoFrame, seq: number | null, repeat: boolean): Promise<void> {
    // Ack as soon as the generator has room (the frame is then the platform's), and only
    // after the write completes when it is backed up: the engine's 2-in-flight cap then
    // measures the page's real ability to take frames without adding a round trip per frame.
    const early = seq !== null && (this.writer.desiredSize ?? 0) > 0;
    const written = this.writer.write(frame);
    if (early) this.ack(seq);
    return written.then(
      () => {
        frame.close();
        if (repeat) this.framesRepeated++;
        else this.framesWritten++;
        if (seq !== null && !early) this.ack(seq);
      },
      () => {
        frame.close();
        this.end();
      },
    );
  }

  /** Writes the held pixels (or a plain card) scaled to the current size, with an optional notice. */
  private async writeStill(notice: string | null): Promise<void> {
    const { width, height } = this.settings;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#1d2733';
    ctx.fillRect(0, 0, width, height);
    const held = this.held;
    if (held) {
      const src = held.type === 'bitmap' ? held.bitmap : await createImageBitmap(new ImageData(new Uint8ClampedArray(held.data), held.width, held.height));
      ctx.drawImage(src, 0, 0, width, height);
      if (held.type === 'rgba') src.close();
    }
    if (notice) {
      ctx.fillStyle = 'rgba(0,0,0,0.6)';
      ctx.fillRect(0, height - Math.max(18, height / 12), width, Math.max(18, height / 12));
      ctx.fillStyle = '#fff';
      ctx.font = `${Math.max(10, Math.round(height / 28))}px sans-serif`;
      ctx.fillText(`R2 Talker: ${notice}`.slice(0, 120), 8, height - Math.max(5, height / 40));
    }
    if (this.ended) return;
    await this.write(new VideoFrame(canvas, { timestamp: this.nextTimestamp(this.hooks.nowUs()) }), null, false);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.toEngine({ kind: 'close' });
    this.port?.close();
    this.port = null;
    this.link.closeSession(this.sessionId);
    if (this.held?.type === 'bitmap') this.held.bitmap.close();
    this.held = null;
    this.writer.close().catch(() => undefined);
    for (const cb of this.endedListeners.splice(0)) cb();
  }
}
