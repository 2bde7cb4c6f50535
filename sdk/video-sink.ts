/**
 * Where the engine's frames become a MediaStreamTrack. The engine paces (one message per
 * output tick); a sink only writes what it is given and keeps the last pixels for repeats.
 */
import type { OutputSize } from './options.ts';
import type { VideoSinkKind } from './support.ts';

export interface VideoSink {
  readonly kind: VideoSinkKind;
  readonly track: MediaStreamTrack;
  /** Writes new pixels (the sink takes ownership of the bitmap). */
  show(bitmap: ImageBitmap, timestampUs: number): Promise<void>;
  /** Writes the held pixels again; false when there are none at the current size. */
  repeat(timestampUs: number): Promise<boolean>;
  resize(size: OutputSize): void;
  readonly written: number;
  readonly repeated: number;
  close(): void;
}

/** MediaStreamTrackGenerator: exact timestamps and sizes (Chromium). */
class GeneratorSink implements VideoSink {
  readonly kind = 'generator' as const;
  readonly track: MediaStreamTrack;
  private readonly writer: WritableStreamDefaultWriter<VideoFrame>;
  private held: ImageBitmap | null = null;
  private lastTs = -1;
  private closed = false;
  written = 0;
  repeated = 0;

  constructor(private size: OutputSize) {
    const gen = new MediaStreamTrackGenerator({ kind: 'video' });
    this.track = gen;
    this.writer = gen.writable.getWriter();
  }

  private ts(t: number): number {
    // Encoders drop frames whose timestamps do not increase.
    this.lastTs = t > this.lastTs ? t : this.lastTs + 1;
    return this.lastTs;
  }

  private fits(b: ImageBitmap): boolean {
    return b.width === this.size.width && b.height === this.size.height;
  }

  async show(bitmap: ImageBitmap, timestampUs: number): Promise<void> {
    if (this.closed || !this.fits(bitmap)) {
      bitmap.close(); // sized for an old configuration: the next frame will fit
      return;
    }
    this.held?.close();
    this.held = bitmap;
    await this.write(new VideoFrame(bitmap, { timestamp: this.ts(timestampUs) }));
    this.written++;
  }

  async repeat(timestampUs: number): Promise<boolean> {
    if (this.closed || !this.held || !this.fits(this.held)) return false;
    await this.write(new VideoFrame(this.held, { timestamp: this.ts(timestampUs) }));
    this.repeated++;
    return true;
  }

  private async write(frame: VideoFrame): Promise<void> {
    try {
      await this.writer.write(frame);
    } finally {
      frame.close();
    }
  }

  resize(size: OutputSize): void {
    this.size = size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held?.close();
    this.held = null;
    this.writer.close().catch(() => undefined);
    this.track.stop();
  }
}

/** canvas.captureStream(): the fallback for browsers without MediaStreamTrackGenerator. */
class CanvasSink implements VideoSink {
  readonly kind = 'canvas' as const;
  readonly track: MediaStreamTrack;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private held: ImageBitmap | null = null;
  private closed = false;
  written = 0;
  repeated = 0;

  constructor(size: OutputSize, frameRate: number) {
    this.canvas = document.createElement('canvas');
    this.canvas.width = size.width;
    this.canvas.height = size.height;
    const ctx = this.canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('canvas 2d context unavailable');
    this.ctx = ctx;
    ctx.fillStyle = '#1d2733';
    ctx.fillRect(0, 0, size.width, size.height);
    const track = this.canvas.captureStream(frameRate).getVideoTracks()[0];
    if (!track) throw new Error('canvas.captureStream() returned no video track');
    this.track = track;
  }

  async show(bitmap: ImageBitmap): Promise<void> {
    if (this.closed) {
      bitmap.close();
      return;
    }
    this.held?.close();
    this.held = bitmap;
    this.ctx.drawImage(bitmap, 0, 0, this.canvas.width, this.canvas.height);
    this.written++;
  }

  async repeat(): Promise<boolean> {
    // Chromium captures a canvas only when it was drawn to: redraw so the far end keeps its rate.
    if (this.closed || !this.held) return false;
    this.ctx.drawImage(this.held, 0, 0, this.canvas.width, this.canvas.height);
    this.repeated++;
    return true;
  }

  resize(size: OutputSize): void {
    this.canvas.width = size.width;
    this.canvas.height = size.height;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held?.close();
    this.held = null;
    this.track.stop();
  }
}

export function createVideoSink(kind: VideoSinkKind, size: OutputSize, frameRate: number): VideoSink {
  return kind === 'generator' ? new GeneratorSink(size) : new CanvasSink(size, frameRate);
}
