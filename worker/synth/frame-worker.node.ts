/** Worker thread of frame-pool.node.ts: renders synthetic frames on request, one at a time. */
import { parentPort } from 'node:worker_threads';
import type { SynthCamera } from './camera.ts';
import type { MotionFrame } from './motion.ts';
import { makeScene, renderSceneFrame, type SynthScene } from './scene.ts';

export interface FrameRequest {
  cam: SynthCamera;
  seed: number;
  k: number;
  motion: MotionFrame;
}

export type FrameReply = { k: number; ok: true; rgb: Uint8Array; labels: Uint8Array; torso: Uint8Array } | { k: number; ok: false; message: string };

let scene: SynthScene | null = null;

function sameCamera(a: SynthCamera, b: SynthCamera): boolean {
  return a.width === b.width && a.height === b.height && a.focal === b.focal && a.cx === b.cx && a.cy === b.cy && a.centre.every((v, i) => v === b.centre[i]);
}
const port = parentPort;
if (!port) throw new Error('frame-worker.node.ts must run as a worker thread');
port.on('message', (req: FrameRequest) => {
  try {
    if (!scene || !sameCamera(scene.cam, req.cam) || scene.seed !== req.seed) scene = makeScene(req.cam, req.seed);
    const f = renderSceneFrame(scene, req.motion);
    const reply: FrameReply = { k: req.k, ok: true, ...f };
    port.postMessage(reply, [f.rgb.buffer, f.labels.buffer, f.torso.buffer] as ArrayBuffer[]);
  } catch (e) {
    const reply: FrameReply = { k: req.k, ok: false, message: e instanceof Error ? e.message : String(e) };
    port.postMessage(reply);
  }
});
