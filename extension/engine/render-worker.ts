/**
 * Render worker: hosts one FrameRenderer off the engine worker's thread, so a slow render
 * never delays the pacing of the output frames. Driven through comlink by RemoteRenderer.
 */
import * as Comlink from 'comlink';
import type { FrameRenderer, RenderInput, RenderedFrame } from './interfaces.ts';
import { CpuReferenceRenderer } from './cpu-reference-renderer.ts';

export type RendererKind = 'cpu-reference';

export interface RenderWorkerApi {
  init(kind: RendererKind): Promise<{ name: string; isPlaceholder: boolean }>;
  render(input: RenderInput): Promise<RenderedFrame>;
  destroy(): void;
}

let renderer: FrameRenderer | null = null;

const api: RenderWorkerApi = {
  async init(kind) {
    if (kind !== 'cpu-reference') throw new TypeError(`kind: expected "cpu-reference", got ${JSON.stringify(kind)}`);
    renderer?.destroy();
    renderer = CpuReferenceRenderer.demo();
    return { name: renderer.name, isPlaceholder: renderer.isPlaceholder };
  },
  async render(input) {
    if (!renderer) throw new Error('render worker: init() first');
    const frame = await renderer.render(input);
    return frame.kind === 'rgba' ? Comlink.transfer(frame, [frame.data.buffer]) : Comlink.transfer(frame, [frame.bitmap]);
  },
  destroy() {
    renderer?.destroy();
    renderer = null;
  },
};

Comlink.expose(api);
