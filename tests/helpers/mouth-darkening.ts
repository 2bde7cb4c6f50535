/**
 * How much an avatar's mouth box darkens (0..255 levels) when the landmarks of a subject's
 * widest-open training frame replace those of its most closed one, rendered at the closed
 * frame's pose by the CPU reference: does the trained head answer the landmarks with a mouth?
 * Shared by tests/unit/nerf-prior.test.ts and bench/prior/compare.ts.
 */
import type { TrainingData } from '../../trainer/nerf/data.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { mouthBox } from '../../worker/metrics/mouth.ts';
import { computeFilm, LandmarkConditioner } from '../../worker/model/conditioning.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { avatarLandmarkMap } from '../../worker/model/landmark-map.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';

export interface MouthDarkening {
  /** Mean luma of the box, closed landmarks minus open ones, 0..255. */
  levels: number;
  /** Inner-lip gap (pixels, 2-D landmarks 66 - 62) of the open frame minus the closed one. */
  landmarkGap: number;
}

export function mouthDarkening(subject: TrainingData, avatar: Avatar): MouthDarkening {
  // An avatar trained from a prior answers the subject's landmarks through its map.
  const data = avatarLandmarkMap(avatar) ? subject.mappedTo(avatar.landmarkStats!) : subject;
  const frames = data.train.split.frames;
  const gap = (i: number) => {
    const l = data.frame('train', i).lms;
    return l[66 * 2 + 1] - l[62 * 2 + 1];
  };
  let closed = 0;
  let open = 0;
  for (let i = 0; i < frames.length; i++) {
    if (gap(i) < gap(closed)) closed = i;
    if (gap(i) > gap(open)) open = i;
  }
  const weights = loadModelWeights(avatar);
  const renderer = new CpuRenderer(weights, avatar.camera);
  const conditioner = new LandmarkConditioner(weights, data.train.stats);
  const W = data.width;
  const box = mouthBox(data.frame('train', open).lms, W, data.height, 0.2);
  const luma = (i: number) => {
    conditioner.reset();
    const film = computeFilm(weights, conditioner.code(data.points('train', i, avatar.config.condition.window)));
    const img = renderer.render({ film1: film.film1, film2: film.film2, pose: frames[closed].pose, eye: 0.25 }).image;
    let sum = 0;
    let n = 0;
    for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++, n++) sum += 0.299 * img[3 * (y * W + x)] + 0.587 * img[3 * (y * W + x) + 1] + 0.114 * img[3 * (y * W + x) + 2];
    return (255 * sum) / n;
  };
  return { levels: luma(closed) - luma(open), landmarkGap: gap(open) - gap(closed) };
}

/** The index of the quietest of `frames` audio frames of `perFrame` samples (least energy). */
export function quietestFrame(samples: Float32Array, perFrame: number, frames: number): number {
  let quietest = 0;
  let least = Infinity;
  for (let i = 0; i < frames; i++) {
    let e = 0;
    for (let k = i * perFrame; k < (i + 1) * perFrame; k++) e += samples[k] ** 2;
    if (e < least) [least, quietest] = [e, i];
  }
  return quietest;
}
