/**
 * Runs the renderer as fast as it can (capped at the fastest session's frame rate) and keeps
 * only the latest rendered image. Sessions sample it on their own clocks; a slow renderer
 * therefore makes sessions repeat frames, never stall.
 */
import type { FrameRenderer, LandmarkSource } from './interfaces.ts';
import { RateMeter, type Clock, type Timers } from './pacer.ts';

export interface LatestFrame {
  /** Increments with every completed render. */
  version: number;
  bitmap: ImageBitmap;
  timestampUs: number;
}

export interface HubOptions {
  idleHeadMotion: boolean;
  idleBlinks: boolean;
}

export class FrameHub {
  private latestFrame: LatestFrame | null = null;
  private running = false;
  private maxRate = 30;
  private readonly meter: RateMeter;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private frameIndex = 0;
  lastError: Error | null = null;

  constructor(
    private renderer: FrameRenderer,
    readonly landmarks: LandmarkSource,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private options: HubOptions,
  ) {
    this.meter = new RateMeter(clock);
  }

  get latest(): LatestFrame | null {
    return this.latestFrame;
  }

  get sourceName(): string {
    return this.renderer.name;
  }

  get isPlaceholder(): boolean {
    return this.renderer.isPlaceholder;
  }

  renderRate(): number {
    return this.meter.rate();
  }

  setOptions(options: HubOptions): void {
    this.options = options;
  }

  /** Replaces the renderer (avatar switch); the old one is destroyed after its last render. */
  setRenderer(renderer: FrameRenderer): void {
    const old = this.renderer;
    this.renderer = renderer;
    if (old !== renderer) old.destroy();
  }

  setMaxRate(rate: number): void {
    this.maxRate = Math.max(1, Math.min(120, rate));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  destroy(): void {
    this.running = false;
    this.wake?.();
    this.latestFrame?.bitmap.close();
    this.latestFrame = null;
    this.renderer.destroy();
    this.landmarks.destroy();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const h = this.timers.setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        this.timers.clearTimeout(h);
        this.wake = null;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = this.clock.now();
      const timestampUs = Math.round(started * 1000);
      const renderer = this.renderer;
      try {
        const frame = await renderer.render({
          timestampUs,
          landmarks: this.landmarks.landmarksAt(started / 1000),
          poseIndex: this.options.idleHeadMotion ? this.frameIndex : 0,
          eye: null,
          audioLevel: this.landmarks.level(),
        });
        this.frameIndex++;
        const bitmap = frame.kind === 'bitmap' ? frame.bitmap : await createImageBitmap(new ImageData(frame.data, frame.width, frame.height));
        if (!this.running) {
          bitmap.close();
          break;
        }
        const previous = this.latestFrame;
        this.latestFrame = { version: (previous?.version ?? 0) + 1, bitmap, timestampUs };
        // Sessions draw from `latest` synchronously inside their tick, so the old bitmap is
        // no longer referenced once replaced.
        previous?.bitmap.close();
        this.meter.mark();
        this.lastError = null;
      } catch (e) {
        this.lastError = e instanceof Error ? e : new Error(String(e));
        // A failing renderer must not spin the CPU: back off, keep the last good frame.
        await this.sleep(500);
        continue;
      }
      const minInterval = 1000 / this.maxRate;
      const elapsed = this.clock.now() - started;
      await this.sleep(Math.max(0, minInterval - elapsed));
    }
  }
}
