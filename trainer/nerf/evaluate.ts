/**
 * Held-out evaluation during training: the current weights are packed into an Avatar and
 * rendered by the engine's own CPU reference renderer (worker/model/cpu-renderer.ts), so the
 * PSNR reported is what a user of the written .r2t will see, not a training-path estimate.
 * Each frame's landmark window goes through the same conditioning as at training (no lip EMA:
 * frames are scored one by one).
 */
import { mouthPsnr } from '../../worker/metrics/mouth.ts';
import { psnr } from '../../worker/metrics/psnr.ts';
import { LandmarkConditioner, computeFilm } from '../../worker/model/conditioning.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import type { SplitName } from '../../worker/subject/layout.ts';
import type { TrainingData } from './data.ts';

export interface HeldOutMetrics {
  psnr: number;
  mouthPsnr: number;
  frames: number;
}

/** Evenly spaced frame indices, at most `max` of n. */
export function evalFrameIndices(n: number, max: number): number[] {
  const k = Math.max(1, Math.min(n, max));
  return Array.from({ length: k }, (_, i) => Math.floor((i * n) / k));
}

/**
 * Mean PSNR and mouth PSNR over frames of a split. `head` mode composites the head over each
 * frame's own torso-over-background image (what the head stage trains against); `full` mode
 * scores the renderer's complete frame (head over the trained torso over bc.jpg).
 */
export async function evaluateAvatar(avatar: Avatar, data: TrainingData, split: SplitName, frames: number[], mode: 'head' | 'full'): Promise<HeldOutMetrics & { images: Float32Array[] }> {
  const weights = loadModelWeights(avatar);
  const renderer = new CpuRenderer(weights, avatar.camera);
  const stats = data.splitData(split).stats;
  const conditioner = new LandmarkConditioner(weights, { mean: stats.mean, std: stats.std });
  const W = data.width;
  const H = data.height;
  let sum = 0;
  let mouthSum = 0;
  const images: Float32Array[] = [];
  for (const i of frames) {
    const f = data.frame(split, i);
    conditioner.reset();
    const code = conditioner.code(data.points(split, i, avatar.config.condition.window));
    const film = computeFilm(weights, code);
    const eye = data.splitData(split).eye[i];
    const r = renderer.render({ film1: film.film1, film2: film.film2, pose: f.pose, eye });
    const gt = await data.images(split, i);
    let image = r.image;
    if (mode === 'head') {
      image = new Float32Array(W * H * 3);
      for (let p = 0; p < W * H; p++) {
        const rest = 1 - r.weightSum[p];
        for (let k = 0; k < 3; k++) image[3 * p + k] = Math.min(1, Math.max(0, r.headRgb[3 * p + k] + rest * gt.headBackground[3 * p + k]));
      }
    }
    const a = { width: W, height: H, channels: 3, data: image };
    const b = { width: W, height: H, channels: 3, data: gt.image };
    sum += psnr(a, b);
    mouthSum += mouthPsnr(a, b, f.lms);
    images.push(image);
  }
  return { psnr: sum / frames.length, mouthPsnr: mouthSum / frames.length, frames: frames.length, images };
}
