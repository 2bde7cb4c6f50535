/** A FrameRenderer whose work happens in a render worker (render-worker.ts), via comlink. */
import * as Comlink from 'comlink';
import type { FrameRenderer, RenderInput, RenderedFrame } from './interfaces.ts';
import type { QualityState } from './quality-governor.ts';
import type { RenderInit, RenderInitResult, RenderWorkerApi } from './render-worker.ts';

/** A render worker that does not answer init in this long is presumed hung (shader compile, driver). */
const INIT_TIMEOUT_MS = 60_000;

export class RemoteRenderer implements FrameRenderer {
  private worker: Worker | null;
  private readonly api: Comlink.Remote<RenderWorkerApi>;
  /** Renders in flight: a terminated worker never answers, so destroy() must settle them. */
  private readonly pending = new Set<(reason: Error) => void>();
  readonly isPlaceholder = false;

  private constructor(
    worker: Worker,
    readonly init: RenderInitResult,
    api: Comlink.Remote<RenderWorkerApi>,
  ) {
    this.worker = worker;
    this.api = api;
  }

  get name(): string {
    return this.init.info.backend;
  }

  /** Starts a render worker and initialises it; rejects (and ends the worker) on failure. */
  static async start(params: RenderInit, scriptUrl: URL): Promise<RemoteRenderer> {
    const worker = new Worker(scriptUrl);
    const api = Comlink.wrap<RenderWorkerApi>(worker);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // Copied, not transferred: the engine keeps the bytes to rebuild after an option change.
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the render worker did not start within ${INIT_TIMEOUT_MS / 1000} s`)), INIT_TIMEOUT_MS);
      });
      const init = await Promise.race([api.init(params), timeout]);
      return new RemoteRenderer(worker, init, api);
    } catch (e) {
      worker.terminate();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  render(input: RenderInput): Promise<RenderedFrame> {
    if (!this.worker) return Promise.reject(new Error(`${this.name}: render after destroy`));
    return new Promise<RenderedFrame>((resolve, reject) => {
      this.pending.add(reject);
      this.api.render(input).then(resolve, reject).finally(() => this.pending.delete(reject));
    });
  }

  loseDevice(): Promise<boolean> {
    return this.worker ? this.api.loseDevice() : Promise.resolve(false);
  }

  gpuBytes(): Promise<number> {
    return this.worker ? this.api.gpuBytes() : Promise.resolve(0);
  }

  quality(): Promise<QualityState | null> {
    return this.worker ? this.api.quality() : Promise.resolve(null);
  }

  recoveries(): Promise<number> {
    return this.worker ? this.api.recoveries() : Promise.resolve(0);
  }

  destroy(): void {
    if (!this.worker) return;
    const gone = new Error(`${this.name}: the renderer was replaced or destroyed during a render`);
    for (const reject of this.pending) reject(gone);
    this.pending.clear();
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
    this.worker = null;
  }
}
