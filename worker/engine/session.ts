/**
 * One camera track's worth of output: samples the hub's latest render on its own pacer,
 * scales it to the track's size and posts it to the shim. At most MAX_FRAMES_IN_FLIGHT
 * frames wait for an ack; further ticks are dropped (never queued), so a busy page sees
 * fewer frames, not growing latency.
 */
import { MAX_FRAMES_IN_FLIGHT, isShimToEngine, type EngineToShim, type SessionStats } from './protocol/session.ts';
import type { SessionRequest } from './protocol/session.ts';
import type { FrameHub } from './frame-hub.ts';
import { Pacer, RateMeter, type Clock, type Tick, type Timers } from './pacer.ts';

/** An ack older than this is presumed lost (page frozen, frame dropped), freeing its slot. */
const ACK_TIMEOUT_MS = 2000;
const STATS_INTERVAL_MS = 1000;

export class Session {
  private readonly pacer: Pacer;
  private readonly sentMeter: RateMeter;
  private readonly inFlight = new Map<number, number>();
  private seq = 0;
  private sentVersion = -1;
  private dropped = 0;
  private canvas: OffscreenCanvas;
  private ctx: OffscreenCanvasRenderingContext2D;
  private lastStats = 0;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly port: MessagePort,
    private request: SessionRequest,
    private readonly hub: FrameHub,
    private readonly clock: Clock,
    timers: Timers,
    private readonly onClose: (id: string) => void,
    private readonly onRateChange: () => void = () => undefined,
    private readonly onSync: (lagMs: number, delayMs: number) => void = () => undefined,
    private readonly describe: () => { avatar: string | null; problem: string | null } = () => ({ avatar: null, problem: null }),
  ) {
    this.canvas = new OffscreenCanvas(request.width, request.height);
    this.ctx = Session.context(this.canvas);
    this.sentMeter = new RateMeter(clock);
    this.pacer = new Pacer(request.frameRate, (t) => this.tick(t), clock, timers);
    port.onmessage = (e: MessageEvent) => this.onMessage(e.data);
    port.start();
    this.pacer.start();
  }

  get frameRate(): number {
    return this.request.frameRate;
  }

  private static context(canvas: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
    const ctx = canvas.getContext('2d', { alpha: false, willReadFrequently: false });
    if (!ctx) throw new Error('OffscreenCanvas 2d context unavailable in the engine worker');
    return ctx;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pacer.stop();
    this.inFlight.clear();
    this.port.onmessage = null;
    this.port.close();
    this.onClose(this.id);
  }

  private post(msg: EngineToShim, transfer: Transferable[] = []): void {
    this.port.postMessage(msg, transfer);
  }

  private onMessage(data: unknown): void {
    if (!isShimToEngine(data)) return;
    switch (data.kind) {
      case 'ack':
        this.inFlight.delete(data.seq);
        break;
      case 'configure':
        this.reconfigure({ ...this.request, width: data.width, height: data.height, frameRate: data.frameRate });
        break;
      case 'audio':
        if (data.sampleRate > 0) this.audioSeconds += data.samples.length / data.sampleRate;
        this.lastAudio = this.clock.now();
        this.hub.landmarks.pushAudio(data.samples, data.sampleRate, data.timeSec);
        break;
      case 'sync':
        this.onSync(data.lagMs, data.delayMs);
        break;
      case 'close':
        this.close();
        break;
    }
  }

  private reconfigure(next: SessionRequest): void {
    if (next.width !== this.request.width || next.height !== this.request.height) {
      this.canvas = new OffscreenCanvas(next.width, next.height);
      this.ctx = Session.context(this.canvas);
      this.sentVersion = -1; // force fresh pixels at the new size
    }
    const rateChanged = next.frameRate !== this.request.frameRate;
    this.request = next;
    this.pacer.setFrameRate(next.frameRate);
    if (rateChanged) this.onRateChange();
  }

  private expireAcks(now: number): void {
    for (const [seq, sentAt] of this.inFlight) if (now - sentAt > ACK_TIMEOUT_MS) this.inFlight.delete(seq);
  }

  private audioSeconds = 0;
  private lastAudio = -1;

  /** Clock time (ms) of the last mic chunk from this session's tap, or -1 when none came. */
  get lastAudioAt(): number {
    return this.lastAudio;
  }

  private tick(t: Tick): void {
    if (this.closed) return;
    const now = this.clock.now();
    this.expireAcks(now);
    this.maybeStats(now);
    const latest = this.hub.latest;
    if (!latest) return; // the shim's own first frame stands until the first render
    if (this.inFlight.size >= MAX_FRAMES_IN_FLIGHT) {
      this.dropped++;
      return;
    }
    const seq = this.seq++;
    this.inFlight.set(seq, now);
    this.sentMeter.mark();
    if (latest.version === this.sentVersion) {
      this.post({ kind: 'repeat', seq, timestampUs: t.timestampUs });
      return;
    }
    this.sentVersion = latest.version;
    this.drawCover(latest.bitmap);
    if (this.request.transport === 'bitmap') {
      const bitmap = this.canvas.transferToImageBitmap();
      this.post({ kind: 'frame', seq, timestampUs: t.timestampUs, pixels: { type: 'bitmap', bitmap }, audioTimeSec: latest.audioTimeSec }, [bitmap]);
    } else {
      const { width, height } = this.request;
      const data = this.ctx.getImageData(0, 0, width, height).data.buffer;
      this.post({ kind: 'frame', seq, timestampUs: t.timestampUs, pixels: { type: 'rgba', width, height, data }, audioTimeSec: latest.audioTimeSec }, [data]);
    }
  }

  /** Scales to fill the track (crop the excess), as cameras do for resizeMode crop-and-scale. */
  private drawCover(src: ImageBitmap): void {
    const { width: w, height: h } = this.request;
    const scale = Math.max(w / src.width, h / src.height);
    const sw = w / scale;
    const sh = h / scale;
    this.ctx.drawImage(src, (src.width - sw) / 2, (src.height - sh) / 2, sw, sh, 0, 0, w, h);
  }

  private maybeStats(now: number): void {
    if (now - this.lastStats < STATS_INTERVAL_MS) return;
    this.lastStats = now;
    const stats: SessionStats = {
      renderFps: this.hub.renderRate(),
      renders: this.hub.renders,
      sentFps: this.sentMeter.rate(),
      dropped: this.dropped,
      source: this.hub.sourceName,
      audioSeconds: this.audioSeconds,
      landmarks: this.hub.landmarks.name,
      ...this.describe(),
    };
    this.post({ kind: 'stats', stats });
  }
}
