/**
 * Everything fixed for one synthetic subject (camera, person, background) and the pure
 * function that renders one frame of it from that frame's motion. Being a pure function of
 * (size, seed, motion frame), frames can be rendered in any thread in any order and still
 * give the same bytes.
 */
import type { SynthCamera } from './camera.ts';
import { landmarks3d, makeIdentity, type FaceIdentity } from './face.ts';
import { faceFeatures } from './features.ts';
import { makeBackground } from './background.ts';
import type { MotionFrame } from './motion.ts';
import { FrameRenderer, type RenderedFrame } from './render-frame.ts';

export interface SynthScene {
  size: number;
  seed: number;
  cam: SynthCamera;
  id: FaceIdentity;
  /** bc.jpg's pixels as written (8-bit), so frames are composited over exactly those values. */
  background: Uint8Array;
  backgroundUnit: Float32Array;
}

/** The scene filmed by `cam` (camera.ts makeCamera: square, even side). */
export function makeScene(cam: SynthCamera, seed: number): SynthScene {
  const size = cam.width;
  const bg = makeBackground(size, size, seed);
  const background = Uint8Array.from(bg, (v) => Math.round(v * 255));
  return { size, seed, cam, id: makeIdentity(seed), background, backgroundUnit: Float32Array.from(background, (v) => v / 255) };
}

export function renderSceneFrame(scene: SynthScene, m: MotionFrame): RenderedFrame {
  const lm = landmarks3d(scene.id, m.expression);
  return new FrameRenderer(scene.cam, scene.id, m.head, faceFeatures(scene.id, m.expression, lm), scene.backgroundUnit, scene.seed).render();
}
