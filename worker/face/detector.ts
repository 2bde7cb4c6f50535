/**
 * Face detection with MediaPipe's BlazeFace (the 256x256 "back camera" model, which finds
 * smaller and farther faces than the selfie model). Anchor generation, box decoding and
 * weighted non-maximum suppression follow MediaPipe's published calculator options for this
 * model: strides 16 (2 anchors a cell) and 32 (6 anchors a cell), offsets in input pixels.
 */
import { cropToFrame, sampleCrop, type CropRect, type RgbFrame } from './crop.ts';
import { runGraphModel, type GraphModel } from './graph-model.ts';

export const DETECTOR_INPUT = 256;

/** BlazeFace keypoints, subject's side: right eye, left eye, nose tip, mouth, right ear, left ear. */
export type DetectionKeypoints = [number, number][];

export interface FaceDetection {
  /** Box in frame pixels. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
  keypoints: DetectionKeypoints;
}

export interface DetectOptions {
  /** Minimum sigmoid score to keep a candidate (MediaPipe uses 0.5 for this model). */
  minScore?: number;
  /** Candidates overlapping more than this are merged into one face. */
  iou?: number;
}

let anchorCache: Float32Array | null = null;

/** Anchor centres in input pixels, in the order the model's two heads emit them. */
export function blazeFaceAnchors(): Float32Array {
  if (anchorCache) return anchorCache;
  const out: number[] = [];
  for (const [stride, perCell] of [
    [16, 2],
    [32, 6],
  ]) {
    const cells = Math.ceil(DETECTOR_INPUT / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let a = 0; a < perCell; a++) out.push((x + 0.5) * stride, (y + 0.5) * stride);
      }
    }
  }
  anchorCache = Float32Array.from(out);
  return anchorCache;
}

function iou(a: FaceDetection, b: FaceDetection): number {
  const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const inter = ix * iy;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

/** Decodes raw scores [N] and regressors [N,16] (input pixels) into candidate detections in
 * input pixels; exported so the decoding can be tested without the model. */
export function decodeBlazeFace(scores: Float32Array, regs: Float32Array, minScore: number): FaceDetection[] {
  const anchors = blazeFaceAnchors();
  const n = anchors.length / 2;
  if (scores.length !== n || regs.length !== n * 16) {
    throw new Error(`BlazeFace output: expected ${n} scores and ${n * 16} regressors, got ${scores.length} and ${regs.length}`);
  }
  const out: FaceDetection[] = [];
  for (let i = 0; i < n; i++) {
    const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, scores[i]))));
    if (!(score >= minScore)) continue;
    const ax = anchors[2 * i];
    const ay = anchors[2 * i + 1];
    const r = regs.subarray(i * 16, i * 16 + 16);
    const cx = ax + r[0];
    const cy = ay + r[1];
    const keypoints: DetectionKeypoints = [];
    for (let k = 0; k < 6; k++) keypoints.push([ax + r[4 + 2 * k], ay + r[5 + 2 * k]]);
    out.push({ x0: cx - r[2] / 2, y0: cy - r[3] / 2, x1: cx + r[2] / 2, y1: cy + r[3] / 2, score, keypoints });
  }
  return out;
}

/** MediaPipe's "weighted" suppression: overlapping candidates are averaged, weighted by score,
 * which steadies the box from frame to frame better than keeping the single best. */
export function weightedNms(cands: FaceDetection[], iouThreshold: number): FaceDetection[] {
  const rest = [...cands].sort((a, b) => b.score - a.score);
  const out: FaceDetection[] = [];
  while (rest.length) {
    const best = rest[0];
    const group = rest.filter((c) => iou(best, c) > iouThreshold);
    const keep = rest.filter((c) => iou(best, c) <= iouThreshold);
    const wsum = group.reduce((s, c) => s + c.score, 0);
    const avg = (f: (c: FaceDetection) => number): number => group.reduce((s, c) => s + c.score * f(c), 0) / wsum;
    out.push({
      x0: avg((c) => c.x0),
      y0: avg((c) => c.y0),
      x1: avg((c) => c.x1),
      y1: avg((c) => c.y1),
      score: best.score,
      keypoints: best.keypoints.map((_, k) => [avg((c) => c.keypoints[k][0]), avg((c) => c.keypoints[k][1])] as [number, number]),
    });
    rest.length = 0;
    rest.push(...keep);
  }
  return out;
}

/** Detects faces in a whole frame (letterboxed to a square so faces keep their aspect). */
export function detectFaces(model: GraphModel, frame: RgbFrame, opts: DetectOptions = {}): FaceDetection[] {
  const rect: CropRect = { cx: frame.width / 2, cy: frame.height / 2, size: Math.max(frame.width, frame.height), angle: 0 };
  const input = sampleCrop(frame, rect, DETECTOR_INPUT, -1, 1);
  const outs = runGraphModel(model, input, [1, DETECTOR_INPUT, DETECTOR_INPUT, 3]);
  // The converted graph emits the two heads separately: scores [512|384,1], regressors [512|384,16].
  const bySize = [...outs.values()].sort((a, b) => a.length - b.length);
  const [s384, s512, r384, r512] = bySize;
  if (!s384 || s384.length !== 384 || s512.length !== 512 || r384.length !== 384 * 16 || r512.length !== 512 * 16) {
    throw new Error(`BlazeFace graph: unexpected output sizes ${bySize.map((a) => a.length).join(',')}`);
  }
  const scores = new Float32Array(896);
  scores.set(s512, 0);
  scores.set(s384, 512);
  const regs = new Float32Array(896 * 16);
  regs.set(r512, 0);
  regs.set(r384, 512 * 16);
  const faces = weightedNms(decodeBlazeFace(scores, regs, opts.minScore ?? 0.5), opts.iou ?? 0.3);
  const toFrame = (x: number, y: number): [number, number] => cropToFrame(rect, DETECTOR_INPUT, x, y);
  return faces.map((f) => {
    const [x0, y0] = toFrame(f.x0, f.y0);
    const [x1, y1] = toFrame(f.x1, f.y1);
    return { x0, y0, x1, y1, score: f.score, keypoints: f.keypoints.map(([x, y]) => toFrame(x, y)) };
  });
}
