/**
 * Scores an avatar on a subject split (issue 9's `eval`): each frame is rendered from that
 * frame's exact pose and landmark condition (exact-frames.ts) and compared with gt_imgs (the
 * frame over bc.jpg, what the reference evaluates against) by PSNR, SSIM and mouth-region
 * PSNR around the frame's own .lms mouth. Platform-free: the caller supplies the renderer
 * (CPU reference or WebGPU) as a function returning RGBA8.
 */
import type { Avatar } from '../avatar/types.ts';
import type { CameraConfig } from '../avatar/config.ts';
import { ConfigError, R2TalkerError } from '../errors.ts';
import type { FrameInput } from '../model/cpu-renderer.ts';
import type { ModelWeights } from '../model/weights.ts';
import type { SplitName } from '../subject/layout.ts';
import type { Subject, SubjectFrame } from '../subject/reader.ts';
import { exactFrames } from './exact-frames.ts';
import { mouthPsnr } from './mouth.ts';
import { psnr } from './psnr.ts';
import { ssim } from './ssim.ts';

export interface FrameScore {
  imgId: number;
  psnr: number;
  ssim: number;
  mouthPsnr: number;
}

export interface SubjectScores {
  split: SplitName;
  frames: FrameScore[];
  /** Means over frames (the reference's PSNRMeter averages per-frame PSNR). */
  psnr: number;
  ssim: number;
  mouthPsnr: number;
}

/** The head field alone (premultiplied colour and weight sum), for head-only scoring. */
export type HeadRender = (frame: FrameInput) => Promise<{ headRgb: Float32Array; weightSum: Float32Array }>;

export interface EvaluateOptions {
  /** Score only the first N frames of the split. */
  limit?: number;
  /**
   * Score the head alone, composited over the frame's own torso image over bc.jpg, as the head
   * stage trains it (so an avatar whose torso is not trained yet can be judged); given, it
   * replaces `render`.
   */
  renderHead?: HeadRender;
  lipSmoothing?: boolean;
  /** Receives each rendered frame (RGBA8) with its score, in order. */
  onFrame?: (index: number, rgba: Uint8ClampedArray, score: FrameScore) => Promise<void> | void;
  signal?: AbortSignal;
}

/** The avatar must have been trained for this camera: a different one would score a different view. */
export function checkSameCamera(a: CameraConfig, s: CameraConfig, what: string): void {
  const close = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(y));
  if (a.width !== s.width || a.height !== s.height || !close(a.fx, s.fx) || !close(a.cx, s.cx) || !close(a.cy, s.cy)) {
    throw new ConfigError(
      `avatar camera (${a.width}x${a.height}, focal ${a.fx}, cx ${a.cx}, cy ${a.cy}) differs from the camera ` +
        `(${s.width}x${s.height}, focal ${s.fx}, cx ${s.cx}, cy ${s.cy}) in ${what}; evaluate an avatar with the camera it was trained for`,
    );
  }
}

function rgbOf(rgba: Uint8ClampedArray, n: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = rgba[i * 4];
    out[i * 3 + 1] = rgba[i * 4 + 1];
    out[i * 3 + 2] = rgba[i * 4 + 2];
  }
  return out;
}

/** headRgb + (1 - weightSum) * (torso over background), clamped, as RGBA8 with the reference's floor(v * 255). */
async function headOverTorso(subject: Subject, f: SubjectFrame, head: { headRgb: Float32Array; weightSum: Float32Array }): Promise<Uint8ClampedArray> {
  const n = subject.width * subject.height;
  const torso = await subject.loadTorso(f);
  const bg = await subject.loadBackground();
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    const a = torso.data[p * 4 + 3] / 255;
    const rest = 1 - head.weightSum[p];
    for (let c = 0; c < 3; c++) {
      const under = (torso.data[p * 4 + c] / 255) * a + (bg.data[p * 3 + c] / 255) * (1 - a);
      const v = Math.min(1, Math.max(0, head.headRgb[p * 3 + c] + rest * under));
      out[p * 4 + c] = Math.floor(v * 255);
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}

export async function evaluateOnSubject(
  avatar: Avatar,
  weights: ModelWeights,
  subject: Subject,
  split: SplitName,
  render: (frame: FrameInput) => Promise<Uint8ClampedArray>,
  opts: EvaluateOptions = {},
): Promise<SubjectScores> {
  checkSameCamera(avatar.camera, subject.camera, subject.root);
  const data = subject.splits[split];
  if (!data) throw new ConfigError(`split "${split}" was not opened from ${subject.root}`);
  if (avatar.config.condition.numLandmarks !== 68) throw new ConfigError(`avatar: expected a 68-landmark condition (the subject's), got ${avatar.config.condition.numLandmarks}`);
  const n = data.frames.length;
  const limit = Math.min(n, opts.limit ?? n);
  const { width: W, height: H } = subject;
  const scores: FrameScore[] = [];
  let k = 0;
  for (const input of exactFrames(weights, data.poses, data.condition, n, { eye: avatar.config.head.eyeInput ? data.eye : null, lipSmoothing: opts.lipSmoothing })) {
    if (k >= limit) break;
    if (opts.signal?.aborted) throw new R2TalkerError('ABORTED', 'evaluation was cancelled');
    const f = data.frames[k];
    const rgba = opts.renderHead ? await headOverTorso(subject, f, await opts.renderHead(input)) : await render(input);
    const a = { width: W, height: H, channels: 3, data: rgbOf(rgba, W * H) };
    const gt = await subject.loadImage(f, 'gt');
    const b = { width: W, height: H, channels: 3, data: gt.data };
    const score = { imgId: f.imgId, psnr: psnr(a, b), ssim: ssim(a, b), mouthPsnr: mouthPsnr(a, b, f.lms) };
    scores.push(score);
    await opts.onFrame?.(k, rgba, score);
    k++;
  }
  const mean = (key: 'psnr' | 'ssim' | 'mouthPsnr'): number => scores.reduce((s, x) => s + x[key], 0) / scores.length;
  return { split, frames: scores, psnr: mean('psnr'), ssim: mean('ssim'), mouthPsnr: mean('mouthPsnr') };
}
