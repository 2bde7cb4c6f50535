/**
 * From per-frame face meshes to what a subject needs: one focal length for the video, a head
 * pose per frame (temporally smoothed, in the reference's transform convention), the 68 2-D
 * landmarks, the pose-free 3-D condition (idexp) and the eye ratio.
 */
import { smoothPoses } from '../model/poses.ts';
import type { CanonicalFace } from './canonical.ts';
import { eyeRatio, IBUG68_FROM_MESH, meshToIbug68 } from './ibug68.ts';
import { MESH_POINTS } from './mesh.ts';
import { fitStructure } from './structure.ts';
import type { RgbFrame } from './crop.ts';
import { rotationAngle } from './linalg.ts';
import { buildTexture, levelRadii, pyramid, referenceValues, refinePosePhotometric, rigidVertices, toGray } from './photometric.ts';
import { adjustAtFocal, headTransform, liftToHead, solveFocal, type StructureFitter, type AxisPoints, type FrameObservation, type HeadPose, type Intrinsics, type PoseTemplate } from './pose-solver.ts';

/** Mesh points that fix the starting orientation: outer eye corners, forehead, chin. */
export const MESH_AXES: AxisPoints = { rightEye: 33, leftEye: 263, forehead: 10, chin: 152 };
/** Frames used for the focal search: enough spread of poses, bounded cost. */
const FOCAL_FRAMES = 40;
/** Pose smoothing window: +-2 frames (0.2 s at 25 fps) removes landmark jitter without lag
 * a viewer would notice. */
const SMOOTH_RADIUS = 2;
/** Floor of MediaPipe's Procrustes weights, so every stable point counts for something. */
const MIN_WEIGHT = 0.02;
/** Pose/shape alternations of the bundle adjustment. */
const STRUCTURE_ROUNDS = 2;

export interface FittedFrame {
  /** Per-frame solve (template -> OpenCV camera, cm). */
  pose: HeadPose;
  /** Smoothed camera-to-head matrix in the reference convention (row-major 4x4). */
  transform: number[][];
  /** 68 x 2 frame pixels. */
  lms: Float32Array;
  /** 68 x 3 head-space offsets from the canonical face, centimetres. */
  idexp: Float32Array;
  eyeRatio: number;
  /** Root-mean-square reprojection error of the stable points, pixels. */
  rmsPx: number;
}

export interface VideoFit {
  intrinsics: Intrinsics;
  frames: (FittedFrame | null)[];
}

export function poseTemplate(canonical: CanonicalFace): PoseTemplate {
  return {
    points: Float64Array.from(canonical.vertices),
    weights: Float64Array.from(canonical.weights, (w) => (w > 0 ? Math.max(w, MIN_WEIGHT) : 0)),
  };
}

function observation(mesh: Float32Array): FrameObservation {
  const obs = new Float64Array(MESH_POINTS * 2);
  for (let i = 0; i < MESH_POINTS; i++) {
    obs[i * 2] = mesh[i * 3];
    obs[i * 2 + 1] = mesh[i * 3 + 1];
  }
  return { obs, mesh3: Float64Array.from(mesh) };
}

export interface FitOptions {
  /** Known focal length in pixels (skips the search). */
  focal?: number;
  /** Focal search range as multiples of the frame's longer side (default 0.4 .. 10). */
  focalRange?: [number, number];
}

/** Fits the whole video; `meshes[i]` is frame i's 468-point mesh or null (no usable face). */
export function fitVideo(meshes: (Float32Array | null)[], width: number, height: number, canonical: CanonicalFace, opts: FitOptions = {}): VideoFit {
  const tpl = poseTemplate(canonical);
  const structure: StructureFitter = (t, fr, p, k) => fitStructure(t, tpl.points, fr, p, k);
  const valid = meshes.flatMap((m, i) => (m ? [i] : []));
  if (valid.length === 0) throw new Error('fitVideo: no frame has a face');
  const cx = width / 2;
  const cy = height / 2;
  const obs = new Map(valid.map((i) => [i, observation(meshes[i]!)]));
  let f = opts.focal;
  if (f === undefined) {
    const pick = Array.from({ length: Math.min(FOCAL_FRAMES, valid.length) }, (_, k) => valid[Math.floor((k * valid.length) / Math.min(FOCAL_FRAMES, valid.length))]);
    const [lo, hi] = opts.focalRange ?? [0.4, 10];
    const side = Math.max(width, height);
    f = solveFocal(tpl, pick.map((i) => obs.get(i)!), cx, cy, MESH_AXES, lo * side, hi * side, structure).f;
  }
  const k: Intrinsics = { f, cx, cy };
  const { poses, costs } = adjustAtFocal(tpl, valid.map((i) => obs.get(i)!), k, MESH_AXES, STRUCTURE_ROUNDS, structure);
  const wsum = tpl.weights.reduce((a, b) => a + b, 0);
  return assemble(meshes, valid, poses, costs.map((c) => Math.sqrt(c / wsum)), k, canonical);
}

/** Smoothed transforms, 68 landmarks, condition and eye ratio of every valid frame from its pose. */
function assemble(meshes: (Float32Array | null)[], valid: number[], poses: HeadPose[], rmsPx: number[], k: Intrinsics, canonical: CanonicalFace): VideoFit {
  const raw = new Float32Array(valid.length * 16);
  poses.forEach((p, j) => raw.set(headTransform(p).flat(), j * 16));
  const smooth = valid.length > 1 ? smoothPoses(raw, valid.length, SMOOTH_RADIUS) : raw;
  const canon68 = new Float64Array(68 * 3);
  IBUG68_FROM_MESH.forEach((m, j) => {
    for (let d = 0; d < 3; d++) canon68[j * 3 + d] = canonical.vertices[m * 3 + d];
  });
  const frames: (FittedFrame | null)[] = meshes.map(() => null);
  valid.forEach((i, j) => {
    const lms = meshToIbug68(meshes[i]!, 2);
    const lifted = liftToHead(Float64Array.from(lms), canon68, poses[j], k);
    const idexp = lifted.map((v, q) => v - canon68[q]);
    const transform = [0, 1, 2, 3].map((r) => Array.from(smooth.subarray(j * 16 + r * 4, j * 16 + r * 4 + 4)));
    frames[i] = { pose: poses[j], transform, lms, idexp, eyeRatio: eyeRatio(lms), rmsPx: rmsPx[j] };
  });
  return { intrinsics: k, frames };
}

/** Largest rotation (radians) the photometric refinement may move a frame's landmark pose; a
 * frame it would move further keeps its landmark pose (a texture lost to occlusion or blur). */
const MAX_PHOTOMETRIC_TURN = (15 * Math.PI) / 180;

export interface PhotometricOptions {
  /** Reads valid frame i (the frame the mesh `meshes[i]` was found on, same pixel grid); may
   * throw to cancel. */
  read: (i: number) => Promise<RgbFrame> | RgbFrame;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Replaces the landmark poses of `fit` by photometric ones (photometric.ts): the middle valid
 * frame textures the rigid face and every valid frame is aligned to it, starting from its
 * landmark pose. Transforms, condition and eye ratio are rebuilt from the refined poses.
 * Returns the refined fit and how many frames kept their landmark pose (fallbacks).
 */
export async function refineVideoPhotometric(fit: VideoFit, meshes: (Float32Array | null)[], canonical: CanonicalFace, opts: PhotometricOptions): Promise<{ fit: VideoFit; fallbacks: number }> {
  const valid = meshes.flatMap((m, i) => (m && fit.frames[i] ? [i] : []));
  if (valid.length === 0) throw new Error('refineVideoPhotometric: no fitted frame');
  const k = fit.intrinsics;
  const ref = valid[valid.length >> 1];
  const refImg = await opts.read(ref);
  const radii = levelRadii(Math.max(refImg.width, refImg.height));
  const mesh2 = new Float64Array(MESH_POINTS * 2);
  for (let q = 0; q < MESH_POINTS; q++) {
    mesh2[q * 2] = meshes[ref]![q * 3];
    mesh2[q * 2 + 1] = meshes[ref]![q * 3 + 1];
  }
  const tplPoints = Float64Array.from(canonical.vertices);
  const tex = buildTexture(mesh2, tplPoints, canonical.triangles, rigidVertices(tplPoints), fit.frames[ref]!.pose, k);
  const refValues = referenceValues(tex, pyramid(toGray(refImg), radii));
  const poses: HeadPose[] = [];
  const rms: number[] = [];
  let fallbacks = 0;
  for (let j = 0; j < valid.length; j++) {
    const i = valid[j];
    const init = fit.frames[i]!.pose;
    const img = i === ref ? refImg : await opts.read(i);
    const r = refinePosePhotometric(tex, refValues, pyramid(toGray(img), radii), k, init);
    const ok = Number.isFinite(r.rms) && rotationAngle(r.pose.R, init.R) <= MAX_PHOTOMETRIC_TURN;
    if (!ok) fallbacks++;
    poses.push(ok ? r.pose : init);
    rms.push(fit.frames[i]!.rmsPx);
    opts.onProgress?.(j + 1, valid.length);
  }
  return { fit: assemble(meshes, valid, poses, rms, k, canonical), fallbacks };
}

