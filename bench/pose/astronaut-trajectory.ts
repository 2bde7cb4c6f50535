/** The astronaut render's camera and head trajectory (tests/unit/face-video-fit.test.ts's: yaw
 * +-22, pitch +-9, roll +-6 degrees over 24 frames, 44-52 cm from a 512 px camera), for the labs. */
import { mat3Mul, rodrigues, type Mat3 } from '../../worker/face/linalg.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';

export const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
export const DEG = Math.PI / 180;
export const SIZE = 512;
export const FOCAL = 1.3 * SIZE;
export const FRAMES = 24;

export function truePose(i: number): HeadPose {
  const s = i / FRAMES;
  const yaw = 22 * Math.sin(2 * Math.PI * s) * DEG, pitch = 9 * Math.sin(4 * Math.PI * s + 1) * DEG, roll = 6 * Math.sin(2 * Math.PI * s + 2) * DEG;
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, yaw, 0]), mat3Mul(rodrigues([pitch, 0, 0]), rodrigues([0, 0, roll]))));
  return { R, t: [2 * Math.sin(2 * Math.PI * s), 1.5 * Math.cos(2 * Math.PI * s), 48 + 4 * Math.sin(2 * Math.PI * s)] };
}
