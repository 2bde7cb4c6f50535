/**
 * Pictures of a demuxed video track at any time, through WebCodecs' VideoDecoder (a page or a
 * worker: needs VideoDecoder and OffscreenCanvas). Reads forward in decode order and keeps only
 * the frame on screen and the few decoded past it, so memory stays bounded whatever the
 * length; a request earlier than the frame on screen restarts from the key frame before it.
 * The picture at time t is the last frame presented at or before t (the first frame before it
 * starts), as a <video> element shows it.
 */
import { FormatError } from '../errors.ts';
import type { VideoTrack } from './demux.ts';

/** Chunks in the decoder's queue before feeding waits. */
const QUEUE = 4;

/** `p`, or a FormatError when it has not settled within `ms`: a stuck decoder must not hang the caller. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(FormatError.input('video', `the decoder took over ${ms} ms ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Canvas pixels (RGBA) as the RGB the pipeline reads. */
export function rgbaToRgb(rgba: Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i];
    out[j + 1] = rgba[i + 1];
    out[j + 2] = rgba[i + 2];
  }
  return out;
}

export class WebCodecsVideo {
  private decoder: VideoDecoder | null = null;
  private next = 0;
  private flushed = false;
  /** the frame on screen at the last requested time */
  private shown: VideoFrame | null = null;
  /** decoded frames presented after the last requested time, in presentation order */
  private ahead: VideoFrame[] = [];
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  readonly firstUs: number;

  private constructor(
    private readonly track: VideoTrack,
    private readonly config: VideoDecoderConfig,
    private readonly timeoutMs: number,
  ) {
    const ctx = new OffscreenCanvas(track.width, track.height).getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2d OffscreenCanvas context');
    this.ctx = ctx;
    this.firstUs = Math.min(...track.samples.slice(0, 64).map((s) => s.timestampUs));
  }

  /** Null when this browser's WebCodecs cannot decode the track (the caller falls back). */
  static async open(track: VideoTrack, timeoutMs = 20_000): Promise<WebCodecsVideo | null> {
    if (typeof VideoDecoder === 'undefined' || typeof OffscreenCanvas === 'undefined') return null;
    const config: VideoDecoderConfig = { codec: track.codec, codedWidth: track.width, codedHeight: track.height, optimizeForLatency: false };
    if (track.description) config.description = track.description;
    // The container's colour description overrides the bitstream's (see VideoTrack.colorSpace).
    if (track.colorSpace) config.colorSpace = track.colorSpace as VideoColorSpaceInit; // lib.dom lacks bt2020/pq/hlg; Chromium takes them
    const support = await VideoDecoder.isConfigSupported(config).catch(() => ({ supported: false }));
    if (!support.supported) return null;
    return new WebCodecsVideo(track, config, timeoutMs);
  }

  get width(): number {
    return this.track.width;
  }

  get height(): number {
    return this.track.height;
  }

  /** The end of the last frame, in seconds: what a <video> element calls the duration. */
  get durationSeconds(): number {
    let end = 0;
    for (const s of this.track.samples) end = Math.max(end, s.timestampUs + s.durationUs);
    return end / 1e6;
  }

  private restart(fromUs: number): void {
    this.release();
    const samples = this.track.samples;
    // The last key frame presented at or before the target (the first key frame otherwise).
    let start = 0;
    for (let i = 0; i < samples.length; i++) if (samples[i].key && samples[i].timestampUs <= fromUs) start = i;
    this.next = start;
    this.flushed = false;
    this.failure = null;
    const decoder = new VideoDecoder({
      output: (f) => {
        this.ahead.push(f);
        this.poke();
      },
      error: (e) => {
        this.failure = e;
        this.poke();
      },
    });
    decoder.addEventListener('dequeue', () => this.poke());
    decoder.configure(this.config);
    this.decoder = decoder;
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private waitEvent(what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = null;
        reject(FormatError.input('video', `the decoder produced nothing within ${this.timeoutMs} ms ${what}`));
      }, this.timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Moves `ahead` frames presented at or before `us` onto the screen. */
  private advance(us: number): void {
    while (this.ahead.length && this.ahead[0].timestamp <= us) {
      this.shown?.close();
      this.shown = this.ahead.shift()!;
    }
  }

  private async frameAt(us: number): Promise<VideoFrame> {
    const target = Math.max(us, this.firstUs);
    if (!this.decoder || (this.shown && this.shown.timestamp > target)) this.restart(target);
    const samples = this.track.samples;
    for (;;) {
      if (this.failure) throw FormatError.input('video', `the ${this.track.codec} decoder failed at frame ${this.next}: ${this.failure.message}`, this.failure);
      this.advance(target);
      if (this.ahead.length > 0 && this.shown) return this.shown;
      if (this.flushed) {
        if (this.shown) return this.shown;
        if (this.ahead.length) {
          this.shown = this.ahead.shift()!;
          return this.shown;
        }
        throw FormatError.input('video', `the ${this.track.codec} decoder gave no picture for ${samples.length} frames`);
      }
      const decoder = this.decoder!;
      if (this.next >= samples.length) {
        await withTimeout(decoder.flush(), this.timeoutMs, 'to finish the last frames').catch((e) => {
          throw this.failure ? FormatError.input('video', `the ${this.track.codec} decoder failed: ${this.failure.message}`, this.failure) : FormatError.input('video', `the ${this.track.codec} decoder failed: ${(e as Error).message}`, e);
        });
        this.flushed = true;
      } else if (decoder.decodeQueueSize >= QUEUE) {
        await this.waitEvent(`for frame ${this.next}`);
      } else {
        const s = samples[this.next++];
        try {
          decoder.decode(new EncodedVideoChunk({ type: s.key ? 'key' : 'delta', timestamp: s.timestampUs, duration: s.durationUs, data: s.data }));
        } catch (e) {
          throw FormatError.input('video', `the ${this.track.codec} decoder refuses frame ${this.next - 1}: ${(e as Error).message}`, e);
        }
        // Let the decoder's output tasks run before deciding whether more input is needed.
        if (decoder.decodeQueueSize > 0) await this.waitEvent(`for frame ${this.next - 1}`);
      }
    }
  }

  /** The picture shown at `seconds`, as width*height*3 RGB bytes. */
  async grab(seconds: number): Promise<Uint8Array> {
    const frame = await this.frameAt(Math.round(seconds * 1e6));
    const { width: w, height: h } = this.track;
    this.ctx.drawImage(frame, 0, 0, w, h);
    return rgbaToRgb(this.ctx.getImageData(0, 0, w, h).data);
  }

  private release(): void {
    this.shown?.close();
    this.shown = null;
    for (const f of this.ahead) f.close();
    this.ahead = [];
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.decoder = null;
  }

  close(): void {
    this.release();
  }
}
