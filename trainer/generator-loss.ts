/**
 * The landmark generator's loss terms, each returning its value and adding its gradient
 * w.r.t. the model's z-scored outputs `z` ([frames][204]) into `dz`. All are divided by the
 * same `norm` (frames x 204 in the batch) so that their weights compare.
 *
 * - `mseLoss`: weighted MSE against the target track, mouth points optionally scaled per frame.
 * - `closureBestLoss`: a bilabial closure's sealed-lips shape is asked of the best frame within
 *   +-radius of its labelled centre, not of every frame there. The labels' clocks disagree by
 *   up to most of a 40 ms frame between sources (assets/generator/README.md, "Why closures
 *   drop"); weighting every frame near the centre makes the MSE optimum a half-open mouth on
 *   all of them, while the best frame lets the model seal the lips once, where the audio says.
 * - `closureHoldLoss`: the sealed-lips shape of the centre is asked of every frame within
 *   +-radius, so the lips stay sealed for the whole closure (a bilabial stop or /m/ holds the
 *   lips shut for 50-120 ms, two to three frames), not for one frame that a label a frame off
 *   the sound, or a model a frame early, misses.
 * - `stillnessLoss`: the change between consecutive outputs on frames whose target is at rest
 *   (silence), so that a quiet room's spectral flicker does not make the mouth twitch.
 */
import { LANDMARK_DIM } from '../worker/landmarks/model.ts';

/** First landmark dimension of the mouth points (48-67). */
export const MOUTH_DIM0 = 48 * 3;

/**
 * Weighted MSE of z against target rows [t0, t0+frames); writes (not adds) dL/dz when `dz` is
 * given. `fw` (indexed like the target's frames) scales the mouth dimensions of each frame.
 */
export function mseLoss(z: Float32Array, target: Float32Array, t0: number, frames: number, w: Float32Array, norm: number, dz: Float32Array | null, fw: Float32Array | null = null): number {
  let loss = 0;
  for (let t = 0; t < frames; t++) {
    const f = fw ? fw[t0 + t] : 1;
    for (let d = 0; d < LANDMARK_DIM; d++) {
      const wd = d >= MOUTH_DIM0 ? w[d] * f : w[d];
      const e = z[t * LANDMARK_DIM + d] - target[(t0 + t) * LANDMARK_DIM + d];
      loss += wd * e * e;
      if (dz) dz[t * LANDMARK_DIM + d] = (2 * wd * e) / norm;
    }
  }
  return loss / norm;
}

/** Mouth-point squared error of output frame `t` against target row `row`. */
function mouthError(z: Float32Array, t: number, target: Float32Array, row: number, w: Float32Array): number {
  let e = 0;
  for (let d = MOUTH_DIM0; d < LANDMARK_DIM; d++) {
    const x = z[t * LANDMARK_DIM + d] - target[row * LANDMARK_DIM + d];
    e += w[d] * x * x;
  }
  return e;
}

/**
 * For each closure centre c (frame index within the segment), `weight` x the smallest
 * mouth-point error, over output frames c-radius..c+radius inside the segment, against the
 * target at the centre (target row t0 + c). The gradient goes to that best frame only (a
 * tie keeps the earliest), which is the derivative wherever the minimum is unique.
 */
export function closureBestLoss(z: Float32Array, target: Float32Array, t0: number, frames: number, closures: readonly number[], radius: number, weight: number, w: Float32Array, norm: number, dz: Float32Array): number {
  let loss = 0;
  for (const c of closures) {
    if (!(c >= 0 && c < frames)) continue;
    let best = -1;
    let bestErr = Infinity;
    for (let t = Math.max(0, c - radius); t <= Math.min(frames - 1, c + radius); t++) {
      const e = mouthError(z, t, target, t0 + c, w);
      if (e < bestErr) {
        bestErr = e;
        best = t;
      }
    }
    loss += weight * bestErr;
    for (let d = MOUTH_DIM0; d < LANDMARK_DIM; d++) {
      dz[best * LANDMARK_DIM + d] += (2 * weight * w[d] * (z[best * LANDMARK_DIM + d] - target[(t0 + c) * LANDMARK_DIM + d])) / norm;
    }
  }
  return loss / norm;
}

/**
 * For each closure centre c (frame index within the segment), `weight` x the mouth-point error
 * of every output frame c-radius..c+radius inside the segment against the target at the
 * centre (target row t0 + c): the lips held sealed across the closure.
 */
export function closureHoldLoss(z: Float32Array, target: Float32Array, t0: number, frames: number, closures: readonly number[], radius: number, weight: number, w: Float32Array, norm: number, dz: Float32Array): number {
  let loss = 0;
  for (const c of closures) {
    if (!(c >= 0 && c < frames)) continue;
    for (let t = Math.max(0, c - radius); t <= Math.min(frames - 1, c + radius); t++) {
      loss += weight * mouthError(z, t, target, t0 + c, w);
      for (let d = MOUTH_DIM0; d < LANDMARK_DIM; d++) {
        dz[t * LANDMARK_DIM + d] += (2 * weight * w[d] * (z[t * LANDMARK_DIM + d] - target[(t0 + c) * LANDMARK_DIM + d])) / norm;
      }
    }
  }
  return loss / norm;
}

/** `weight` x the weighted squared change between output frames t-1 and t wherever both are `still`. */
export function stillnessLoss(z: Float32Array, still: Uint8Array, frames: number, weight: number, w: Float32Array, norm: number, dz: Float32Array): number {
  let loss = 0;
  for (let t = 1; t < frames; t++) {
    if (!still[t] || !still[t - 1]) continue;
    for (let d = 0; d < LANDMARK_DIM; d++) {
      const x = z[t * LANDMARK_DIM + d] - z[(t - 1) * LANDMARK_DIM + d];
      loss += weight * w[d] * x * x;
      const g = (2 * weight * w[d] * x) / norm;
      dz[t * LANDMARK_DIM + d] += g;
      dz[(t - 1) * LANDMARK_DIM + d] -= g;
    }
  }
  return loss / norm;
}

/**
 * Frames of z-scored target rows [t0, t0+frames) at the rest pose: every template-space offset
 * (target x outScale + outMean) within `tolerance` of 0. Template tracks sit exactly at rest
 * in silence and pass through it only briefly between words.
 */
export function restFrames(target: Float32Array, t0: number, frames: number, outMean: Float32Array, outScale: Float32Array, tolerance: number): Uint8Array {
  const out = new Uint8Array(frames);
  for (let t = 0; t < frames; t++) {
    let rest = 1;
    for (let d = 0; d < LANDMARK_DIM && rest; d++) {
      if (Math.abs(target[(t0 + t) * LANDMARK_DIM + d] * outScale[d] + outMean[d]) > tolerance) rest = 0;
    }
    out[t] = rest;
  }
  return out;
}
