/**
 * Runs the renderer as fast as it can (capped at the fastest session's frame rate) and keeps
 * only the latest rendered image. Sessions sample it on their own clocks; a slow renderer
 * therefore makes sessions repeat frames, never stall.
 */
import type { FrameRenderer, LandmarkSource } from './interfaces.ts';
import { RateMeter, type Clock, type Timers } from './pacer.ts';
import { BlinkSchedule, blinkEye } from './blinks.ts';

export interface LatestFrame {
  /** Increments with every completed render. */
  version: number;
  bitmap: ImageBitmap;
  timestampUs: number;
  /** Audio-clock instant whose face this frame shows, or null when idle. */
  audioTimeSec: number | null;
}

const RENDER_RATE_WINDOW_MS = 5000;

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
  private renderCount = 0;
  // Seeded so a session's blinks are reproducible; only their timing varies, never their shape.
  private readonly blinks = new BlinkSchedule(0x5eed);
  lastError: Error | null = null;

  constructor(
    private renderer: FrameRenderer,
    private landmarkSource: LandmarkSource,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private options: HubOptions,
  ) {
    // A few renders a second (SwiftShader, the CPU path) need a window of several of them.
    this.meter = new RateMeter(clock, RENDER_RATE_WINDOW_MS);
  }

  get landmarks(): LandmarkSource {
    return this.landmarkSource;
  }

  get latest(): LatestFrame | null {
    return this.latestFrame;
  }

  /** The renderer itself, for test hooks (device loss). */
  get rendererForTests(): FrameRenderer {
    return this.renderer;
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

  /** Renders completed since this hub was made (survives renderer swaps). */
  get renders(): number {
    return this.renderCount;
  }

  setOptions(options: HubOptions): void {
    this.options = options;
  }

  /** Replaces the renderer (avatar switch); the old one is destroyed after its last render. */
  setRenderer(renderer: FrameRenderer, landmarks: LandmarkSource): void {
    const old = this.renderer;
    this.renderer = renderer;
    if (old !== renderer) old.destroy();
    const oldLandmarks = this.landmarkSource;
    this.landmarkSource = landmarks;
    if (oldLandmarks !== landmarks) oldLandmarks.destroy();
  }

  setMaxRate(rate: number): void {
    this.maxRate = Math.max(1, Math.min(120, rate));
  }

  start(): void {
    this.running = true;
    // A stop() still waiting for its last render must not leave two loops rendering at
    // once (an app re-requesting the camera stops and starts the hub back to back).
    if (this.loop) return;
    this.loop = this.run().finally(() => {
      this.loop = null;
      if (this.running) this.start();
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  destroy(): void {
    this.running = false;
    this.wake?.();
    this.latestFrame?.bitmap.close();
    this.latestFrame = null;
    this.renderer.destroy();
    this.landmarkSource.destroy();
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
      const window = this.landmarkSource.latestWindow();
      try {
        const frame = await renderer.render({
          timestampUs,
          landmarks: window?.frames ?? null,
          poseIndex: this.options.idleHeadMotion ? this.frameIndex : 0,
          eye: blinkEye(this.blinks, this.options.idleBlinks, started),
          audioLevel: this.landmarkSource.level(),
        });
        this.frameIndex++;
        const bitmap = frame.kind === 'bitmap' ? frame.bitmap : await createImageBitmap(new ImageData(frame.data, frame.width, frame.height));
        if (!this.running) {
          bitmap.close();
          break;
        }
        const previous = this.latestFrame;
        this.latestFrame = { version: (previous?.version ?? 0) + 1, bitmap, timestampUs, audioTimeSec: window?.audioTimeSec ?? null };
        // Sessions draw from `latest` synchronously inside their tick, so the old bitmap is
        // no longer referenced once replaced.
        previous?.bitmap.close();
        this.meter.mark();
        this.renderCount++;
        this.lastError = null;
      } catch (e) {
        // A render cut short by a renderer swap is not a failure: go on with the new one.
        if (renderer !== this.renderer) continue;
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
