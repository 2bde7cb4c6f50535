/** A FrameRenderer whose work happens in a render worker (render-worker.ts), via comlink. */
import * as Comlink from 'comlink';
import type { FrameRenderer, RenderInput, RenderedFrame } from './interfaces.ts';
import type { RendererKind, RenderWorkerApi } from './render-worker.ts';

export class RemoteRenderer implements FrameRenderer {
  private worker: Worker | null;
  private readonly api: Comlink.Remote<RenderWorkerApi>;

  private constructor(
    worker: Worker,
    readonly name: string,
    readonly isPlaceholder: boolean,
    api: Comlink.Remote<RenderWorkerApi>,
  ) {
    this.worker = worker;
    this.api = api;
  }

  /** Starts a render worker and initialises `kind` in it; rejects (and ends the worker) on failure. */
  static async start(kind: RendererKind, scriptUrl: URL): Promise<RemoteRenderer> {
    const worker = new Worker(scriptUrl);
    const api = Comlink.wrap<RenderWorkerApi>(worker);
    try {
      const info = await api.init(kind);
      return new RemoteRenderer(worker, info.name, info.isPlaceholder, api);
    } catch (e) {
      worker.terminate();
      throw e;
    }
  }

  render(input: RenderInput): Promise<RenderedFrame> {
    if (!this.worker) return Promise.reject(new Error(`${this.name}: render after destroy`));
    return this.api.render(input);
  }

  destroy(): void {
    if (!this.worker) return;
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
    this.worker = null;
  }
}
