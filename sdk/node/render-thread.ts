/**
 * The avatar worker's render thread (node:worker_threads). Renders run here so the main
 * thread stays free for the audio track, RPCs and the room: a CPU-reference frame blocks
 * its thread for the whole render, and Node's `webgpu` package polls GPU work in a busy loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Avatar } from '../../worker/avatar/types.ts';
import { AvatarRenderer, type RendererChoice } from '../../worker/engine/avatar-renderer.ts';
import type { RenderInput } from '../../worker/engine/interfaces.ts';

export interface RenderThreadInit {
  avatar: Avatar;
  isDemo: boolean;
  choice: RendererChoice;
  /** Load the `webgpu` package (Dawn) in this thread and render with it when it gives an adapter. */
  webgpu: boolean;
}

export type ToRenderThread = { kind: 'render'; id: number; input: RenderInput } | { kind: 'destroy' };
export type FromRenderThread =
  | { kind: 'ready'; info: AvatarRenderer['info']; gpuNote: string | null }
  | { kind: 'frame'; id: number; width: number; height: number; data: Uint8ClampedArray }
  | { kind: 'failed'; id: number | null; message: string };

const port = parentPort;
if (!port) throw new Error('render-thread.ts runs only as a worker thread');
const init = workerData as RenderThreadInit;

// Held for the thread's life: Dawn tears its instance down under a live device when the
// GPU object is collected.
let gpu: GPU | undefined;
let gpuNote: string | null = null;
if (init.webgpu) {
  try {
    const webgpu = await import('webgpu');
    Object.assign(globalThis, webgpu.globals);
    gpu = webgpu.create([]) as GPU;
  } catch (e) {
    gpuNote = `the webgpu package could not be loaded (${e instanceof Error ? e.message : String(e)})`;
  }
}

try {
  const renderer = await AvatarRenderer.create(init.avatar, init.isDemo, gpu ? init.choice : { ...init.choice, backend: 'cpu' }, { gpu, compile: 'sync' });
  port.postMessage({ kind: 'ready', info: renderer.info, gpuNote: gpuNote ?? renderer.info.gpuProblem } satisfies FromRenderThread);
  port.on('message', (m: ToRenderThread) => {
    if (m.kind === 'destroy') {
      renderer.destroy();
      port.close();
      return;
    }
    renderer.render(m.input).then(
      (f) => {
        if (f.kind !== 'rgba') throw new Error('the avatar renderer returned a bitmap in Node');
        port.postMessage({ kind: 'frame', id: m.id, width: f.width, height: f.height, data: f.data } satisfies FromRenderThread, [f.data.buffer]);
      },
    ).catch((e: unknown) => port.postMessage({ kind: 'failed', id: m.id, message: e instanceof Error ? e.message : String(e) } satisfies FromRenderThread));
  });
} catch (e) {
  port.postMessage({ kind: 'failed', id: null, message: e instanceof Error ? e.message : String(e) } satisfies FromRenderThread);
}
