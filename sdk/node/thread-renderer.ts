/** The main thread's handle on the render thread (render-thread.ts): one render in flight at a time. */
import { Worker } from 'node:worker_threads';
import type { RendererInfo } from '../../worker/engine/avatar-renderer.ts';
import type { RenderInput } from '../../worker/engine/interfaces.ts';
import { R2TalkerError } from '../../worker/errors.ts';
import type { FromRenderThread, RenderThreadInit, ToRenderThread } from './render-thread.ts';

const START_TIMEOUT_MS = 180_000;

export interface RgbaFrame {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export class ThreadRenderer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: RgbaFrame) => void; reject: (e: Error) => void }>();
  private destroyed = false;

  private constructor(
    private readonly worker: Worker,
    readonly info: RendererInfo,
    /** Why WebGPU is not used, or null. */
    readonly gpuNote: string | null,
  ) {
    worker.on('message', (m: FromRenderThread) => {
      if (m.kind === 'frame') {
        this.pending.get(m.id)?.resolve({ width: m.width, height: m.height, data: m.data });
        this.pending.delete(m.id);
      } else if (m.kind === 'failed' && m.id !== null) {
        this.pending.get(m.id)?.reject(new R2TalkerError('INTERNAL', `render failed: ${m.message}`));
        this.pending.delete(m.id);
      }
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', () => this.failAll(new Error('the render thread exited')));
  }

  /** Starts the thread and resolves once its renderer is built (WebGPU pipelines compile here). */
  static start(init: RenderThreadInit): Promise<ThreadRenderer> {
    const worker = new Worker(new URL('./render-thread-boot.mjs', import.meta.url), { workerData: init });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new R2TalkerError('INTERNAL', `the render thread did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      const first = (m: FromRenderThread) => {
        clearTimeout(timer);
        worker.off('message', first);
        if (m.kind === 'ready') resolve(new ThreadRenderer(worker, m.info, m.gpuNote));
        else {
          void worker.terminate();
          reject(new R2TalkerError('INTERNAL', `the renderer could not start: ${m.kind === 'failed' ? m.message : m.kind}`));
        }
      };
      worker.on('message', first);
      worker.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  render(input: RenderInput): Promise<RgbaFrame> {
    if (this.destroyed) return Promise.reject(new Error('render after destroy'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'render', id, input } satisfies ToRenderThread);
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.worker.postMessage({ kind: 'destroy' } satisfies ToRenderThread);
    // Give Dawn a moment to release the device, then make sure the thread is gone.
    await new Promise((r) => setTimeout(r, 100));
    await this.worker.terminate();
  }
}
