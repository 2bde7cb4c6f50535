/**
 * From per-frame face meshes to what a subject needs: one focal length for the video, a head
 * pose per frame (temporally smoothed, in the reference's transform convention), the 68 2-D
 * landmarks, the pose-free 3-D condition (idexp) and the eye ratio.
 */
import { smoothPoses } from '../model/poses.ts';
import { goldenSectionAsync } from '../util/golden-section.ts';
import { nextTask } from '../util/next-task.ts';
import type { CanonicalFace } from './canonical.ts';
import { eyeRatio, eyeRatioOfLids, IBUG68_FROM_MESH, meshToIbug68 } from './ibug68.ts';
import { MESH_POINTS } from './mesh.ts';
import { fitStructure } from './structure.ts';
import { landmarkResidual } from './relief.ts';
import type { RgbFrame } from './crop.ts';
import { adjustJointPhotometric, projectPoints } from './joint-photometric.ts';
import { mat3Mul, mat3T, rotationAngle, rotationVector } from './linalg.ts';
import { buildTexture, headShellTexture, joinTextures, levelRadii, photometricCost, photometricScan, pyramid, referenceValues, refinePosePhotometric, rigidVertices, toGray, type GrayImage } from './photometric.ts';
import { adjustAtFocal, headTransform, liftToHead, refinePose, solveFocal, type StructureFitter, type AxisPoints, type FrameObservation, type HeadPose, type Intrinsics, type PoseTemplate } from './pose-solver.ts';

/** Mesh points that fix the starting orientation: outer eye corners, forehead, chin. */
export const MESH_AXES: AxisPoints = { rightEye: 33, leftEye: 263, forehead: 10, chin: 152 };
/** Frames used for the focal search: enough spread of poses, bounded cost. */
const FOCAL_FRAMES = 40;
/** Pose smoothing window of the landmark poses: +-2 frames (0.2 s at 25 fps) removes landmark
 * jitter without lag a viewer would notice. */
const SMOOTH_RADIUS = 2;
/** Smoothing window of the photometric poses, which do not carry the landmarks' jitter (their
 * error's lag-1 autocorrelation is 0.94-0.98 on the training proof's subject): a wider window only
 * flattens real motion faster than it, such as the nods that go with syllables (4-8 frames). */
export const PHOTOMETRIC_SMOOTH_RADIUS = 1;
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
  /** Per frame, the eyelids eye_ratio is measured on (iBUG 36-47, 12 x (x, y), any similarity of
   * the mesh's pixel frame: the ratio does not change): tracker.ts TrackResult.lids, from the
   * attention model. Absent, or null for a frame: that frame's mesh lids (.lms 36-47). */
  lids?: (Float32Array | null)[];
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
  const eyes = (i: number, lms: Float32Array): number => (opts.lids?.[i] ? eyeRatioOfLids(opts.lids[i]!) : eyeRatio(lms));
  return assemble(meshes, valid, poses, costs.map((c) => Math.sqrt(c / wsum)), k, canonical, eyes);
}

/** Smoothed transforms, 68 landmarks, condition and eye ratio of every valid frame from its pose. */
function assemble(meshes: (Float32Array | null)[], valid: number[], poses: HeadPose[], rmsPx: number[], k: Intrinsics, canonical: CanonicalFace, eyes: (i: number, lms: Float32Array) => number, radius = SMOOTH_RADIUS): VideoFit {
  const raw = new Float32Array(valid.length * 16);
  poses.forEach((p, j) => raw.set(headTransform(p).flat(), j * 16));
  const smooth = valid.length > 1 && radius > 0 ? smoothPoses(raw, valid.length, radius) : raw;
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
    frames[i] = { pose: poses[j], transform, lms, idexp, eyeRatio: eyes(i, lms), rmsPx: rmsPx[j] };
  });
  return { intrinsics: k, frames };
}

/** The head shell's depth search (PhotometricOptions.headMask): offsets of its centre plane (cm,
 * photometric.ts headShellTexture) searched between, frames it refines (spread over the video),
 * and golden-section steps (the bracket ends 10 cm x 0.618^steps wide: 0.56 cm). */
const SHELL_DEPTH_RANGE_CM: [number, number] = [-8, 2];
const SHELL_SEARCH_FRAMES = 32;
const SHELL_SEARCH_STEPS = 6;

/** Largest rotation (radians) the photometric refinement may move a frame's landmark pose; a
 * frame it would move further keeps its landmark pose (a texture lost to occlusion or blur). */
const MAX_PHOTOMETRIC_TURN = (15 * Math.PI) / 180;

export interface PhotometricOptions {
  /** Reads valid frame i (the frame the mesh `meshes[i]` was found on, same pixel grid); may
   * throw to cancel. */
  read: (i: number) => Promise<RgbFrame> | RgbFrame;
  onProgress?: (done: number, total: number) => void;
  /** Called between units of work, after yielding a task to the event loop (each candidate focal
   * of the focal search, about a second each at 512 px; each shell depth; each refined frame); may
   * throw to cancel. */
  check?: () => void;
  /** Smoothing radius of the refined poses, frames (default PHOTOMETRIC_SMOOTH_RADIUS). */
  smoothRadius?: number;
  /** Depth relief of the textured face relative to the canonical face (default 1; searchRelief). */
  relief?: number;
  /** Ablation only (bench/pose/texture-relief.ts): the 468 head points (cm) the reference frame's
   * texture is lifted onto in refineVideoPhotometric, instead of the canonical face at `relief`. */
  template?: Float64Array;
  /** The reference frame's head pixels (w x h of the frame, nonzero = head: the person's
   * segmentation divided by the face mesh, worker/prepare/masks.ts). Given, the texture takes the
   * head beyond the face too (photometric.ts headShellTexture): its outline against the
   * background pins the rotation where the face alone leaves it free. */
  headMask?: (img: RgbFrame, frame: number) => Uint8Array | Promise<Uint8Array>;
}

/** A tracked mesh's image points (x, y of each vertex), the layout buildTexture reads. */
function meshImagePoints(mesh: Float32Array): Float64Array {
  const xy = new Float64Array(MESH_POINTS * 2);
  for (let q = 0; q < MESH_POINTS; q++) {
    xy[q * 2] = mesh[q * 3];
    xy[q * 2 + 1] = mesh[q * 3 + 1];
  }
  return xy;
}

/** The canonical face's vertices with their depth stretched by `relief` about the mean depth of
 * the rigid (textured) vertices; x and y unchanged. */
export function reliefTemplate(canonical: CanonicalFace, relief: number): Float64Array {
  const V = Float64Array.from(canonical.vertices);
  if (relief === 1) return V;
  const rigid = rigidVertices(V);
  let sum = 0;
  let n = 0;
  for (let v = 0; v < MESH_POINTS; v++)
    if (rigid(v)) {
      sum += V[v * 3 + 2];
      n++;
    }
  const meanZ = sum / n;
  for (let v = 0; v < MESH_POINTS; v++) V[v * 3 + 2] = meanZ + relief * (V[v * 3 + 2] - meanZ);
  return V;
}

/**
 * Replaces the landmark poses of `fit` by photometric ones (photometric.ts): the middle valid
 * frame textures the rigid face and every valid frame is aligned to it, starting from its
 * landmark pose. Transforms and condition are rebuilt from the refined poses; eye ratios are kept.
 * Returns the refined fit, how many frames kept their landmark pose (fallbacks) and, with a
 * head mask, the head shell depth offset the pixels chose (cm).
 */
export async function refineVideoPhotometric(fit: VideoFit, meshes: (Float32Array | null)[], canonical: CanonicalFace, opts: PhotometricOptions): Promise<{ fit: VideoFit; fallbacks: number; shellDepth?: number }> {
  const valid = meshes.flatMap((m, i) => (m && fit.frames[i] ? [i] : []));
  if (valid.length === 0) throw new Error('refineVideoPhotometric: no fitted frame');
  const k = fit.intrinsics;
  const ref = valid[valid.length >> 1];
  const refImg = await opts.read(ref);
  const radii = levelRadii(Math.max(refImg.width, refImg.height));
  const mesh2 = meshImagePoints(meshes[ref]!);
  const canon = Float64Array.from(canonical.vertices);
  const template = opts.template ?? reliefTemplate(canonical, opts.relief ?? 1);
  const face = buildTexture(mesh2, template, canonical.triangles, rigidVertices(canon), fit.frames[ref]!.pose, k);
  const refLevels = pyramid(toGray(refImg), radii);
  let tex = face;
  let shellDepth: number | undefined;
  if (opts.headMask) {
    const mask = await opts.headMask(refImg, ref);
    const shell = (dz: number) => joinTextures(face, headShellTexture(mask, refImg.width, refImg.height, mesh2, template, fit.frames[ref]!.pose, k, dz));
    // How far behind the face the head's outline sits: the depth whose refined poses explain a
    // spread of frames best on the pixels (one robust scale for every depth tried).
    const step = Math.max(1, valid.length / SHELL_SEARCH_FRAMES);
    const sel = Array.from({ length: Math.min(valid.length, SHELL_SEARCH_FRAMES) }, (_, j) => valid[Math.floor(j * step)]);
    const levels: GrayImage[][] = [];
    for (const i of sel) levels.push(i === ref ? refLevels : pyramid(toGray(await opts.read(i)), radii));
    const scan = photometricScan(refLevels, levels, sel.map((i) => fit.frames[i]!.pose), k);
    const cost = async (dz: number) => {
      await nextTask();
      opts.check?.();
      return scan(shell(dz)).cost;
    };
    shellDepth = (await goldenSectionAsync(cost, SHELL_DEPTH_RANGE_CM[0], SHELL_DEPTH_RANGE_CM[1], SHELL_SEARCH_STEPS)).best;
    tex = shell(shellDepth);
  }
  const refValues = referenceValues(tex, refLevels);
  const poses: HeadPose[] = [];
  const rms: number[] = [];
  let fallbacks = 0;
  for (let j = 0; j < valid.length; j++) {
    const i = valid[j];
    const init = fit.frames[i]!.pose;
    const img = i === ref ? refImg : await opts.read(i);
    // A frame read from memory resolves at once; yield a task so a cancel can land between frames.
    await nextTask();
    opts.check?.();
    const r = refinePosePhotometric(tex, refValues, pyramid(toGray(img), radii), k, init);
    const ok = Number.isFinite(r.rms) && rotationAngle(r.pose.R, init.R) <= MAX_PHOTOMETRIC_TURN;
    if (!ok) fallbacks++;
    poses.push(ok ? r.pose : init);
    rms.push(fit.frames[i]!.rmsPx);
    opts.onProgress?.(j + 1, valid.length);
  }
  // The eye ratio does not depend on the pose: each frame keeps the one `fit` measured.
  return { fit: assemble(meshes, valid, poses, rms, k, canonical, (i) => fit.frames[i]!.eyeRatio, opts.smoothRadius ?? PHOTOMETRIC_SMOOTH_RADIUS), fallbacks, ...(shellDepth !== undefined ? { shellDepth } : {}) };
}


/**
 * Camera distance assumed when the video cannot measure the focal (centimetres, head origin to
 * camera): a laptop webcam or a phone held for a call sits about an arm's length, 40-60 cm, from
 * the face. With the template in true centimetres, the face's size in the image then fixes the
 * focal (f / distance is what the landmarks do measure); 20% off in distance is 20% off in focal,
 * where an unobservable focal leaves the landmark fit free to go 60% off (the training proof's
 * subject: 232 px for 691).
 */
export const TYPICAL_CAMERA_DISTANCE_CM = 50;

/**
 * The focal at which the fitted head sits `distanceCm` from the camera (median over the frames of
 * the head origin's depth). The landmark poses' depths scale with the focal they were solved at
 * (the face's image size fixes f / depth), so one rescaling of the fit's focal gives it; the
 * residual perspective term moves it by under 4% between half and twice the focal (astronaut
 * render). For a video whose head motion cannot pin the focal (searchFocalPhotometric's
 * `observed` false).
 */
export function focalAtDistance(fit: VideoFit, distanceCm = TYPICAL_CAMERA_DISTANCE_CM): number {
  const depths = fit.frames.flatMap((fr) => (fr && fr.pose.t[2] > 0 ? [fr.pose.t[2]] : [])).sort((a, b) => a - b);
  if (depths.length === 0) throw new Error('focalAtDistance: no fitted frame in front of the camera');
  return (fit.intrinsics.f * distanceCm) / depths[depths.length >> 1];
}

/** The focal search's second reference frame: the one nearest the middle of the rotations at
 * least this far (degrees) from the first. */
const SECOND_REFERENCE_MIN_DEG = 5;
/** The two references' focals must agree within this (relative) for the focal to count as
 * observed; their geometric mean is taken. The issue's own bound: on the renders measured,
 * references that agreed this well were both within 2% of the truth; bench/prepare.ts's gentler
 * motion (yaw 0..15) gave +10.1% and +4.2%, whose mean (+7.1%) the prior beats. */
const FOCAL_AGREEMENT = 0.05;
/** Frames the photometric focal search fits at every candidate focal (a spread of head poses). */
const FOCAL_SEARCH_FRAMES = 12;
/** The search's grid: the landmark focal times 2^(k/3), k = -3..5 (0.5x .. 3.2x). */
const FOCAL_GRID = Array.from({ length: 9 }, (_, j) => 2 ** ((j - 3) / 3));
const FOCAL_STEP = 2 ** (1 / 3);
/** Golden-section steps inside the grid's best bracket. */
const FOCAL_REFINE_STEPS = 8;
/** Most focals one reference evaluates: the landmark focal, the grid, the golden section's two
 * starting points and its steps, and the three of the rise test (repeats are cached). */
const FOCAL_EVALUATIONS_PER_REFERENCE = 1 + FOCAL_GRID.length + 2 + FOCAL_REFINE_STEPS + 3;
/** Least head rotation (degrees, the searched frames against the reference frame) for the focal
 * to be observable: a face turning less looks the same at every focal to within the template's
 * shape error (the training proof's subject, +-4 degrees, gives a flat cost over 250..2000 px). */
const MIN_FOCAL_MOTION_DEG = 12;
/** Least rise of the cost from the minimum found to a grid step (a factor 2^(1/3)) either side,
 * relative: a flatter minimum does not pin the focal. Measured with the reference's pose adjusted
 * (session 15): the talking canonical-mouth head 11.1%; the photo-shaped head talking 1.6% (kept
 * at the prior). Session 6 measured it at the grid's points with the tracked-point texture: the
 * astronaut render 3.5%, bench/prepare.ts's motion uncropped 1.3%. */
const MIN_FOCAL_CURVATURE = 0.02;

export interface FocalSearch {
  /** The focal the search chose (pixels); the landmark focal when `observed` is false. */
  f: number;
  /** The landmark fit's focal the search started from. */
  landmarkF: number;
  /** Whether the pixels pinned the focal; if not, `reason` says why and `f` is the landmark one. */
  observed: boolean;
  reason?: string;
  /** Largest head rotation of the searched frames from the reference frame, degrees. */
  motionDeg: number;
  /** How much the cost rises from the focal found to a grid step either side (relative). */
  rise?: number;
  /** Every evaluated focal and its mean photometric cost (ascending f), from the first reference. */
  curve: { f: number; cost: number }[];
  /** What the search found from each reference frame it textured from (at most two). */
  references: { frame: number; f: number; observed: boolean; reason?: string }[];
}

/**
 * One focal length for the video from the pixels: at each candidate focal, the template's rigid
 * surface is textured from the reference frame and a spread of frames (the poses farthest from the
 * reference) is aligned to it photometrically, the reference's own pose adjusted with theirs
 * (joint-photometric.ts); the focal whose texture explains those frames best wins (a log grid around the landmark focal, then
 * golden-section steps inside the best bracket). The landmark focal is biased by the landmark
 * model's pose errors (22% low on the astronaut render); the pixels are not, but they pin the
 * focal only where the head turns enough (perspective is what changes with the focal):
 * `observed` is false, and the landmark focal kept, when the motion or the cost's curvature is
 * too small, or when a second reference frame does not confirm the first's focal.
 */
export interface FocalSearchOptions extends PhotometricOptions {
  /** Least head rotation, degrees, to attempt the search (default MIN_FOCAL_MOTION_DEG). */
  minMotionDeg?: number;
  /** Search from this reference frame alone (labs: how much the focal depends on the reference). */
  ref?: number;
  /** `onProgress(done, total)` here counts candidate focals evaluated (about a second each at
   * 512 px) out of the most the search can take; it reaches total when the search returns. */
}

export async function searchFocalPhotometric(fit: VideoFit, meshes: (Float32Array | null)[], canonical: CanonicalFace, opts: FocalSearchOptions): Promise<FocalSearch> {
  // Progress: focals evaluated out of the most two references can take; done when it returns.
  const total = (opts.ref === undefined ? 2 : 1) * FOCAL_EVALUATIONS_PER_REFERENCE;
  let done = 0;
  const tick = () => opts.onProgress?.(Math.min(++done, total - 1), total);
  const result = await searchFromReferences(fit, meshes, canonical, opts, tick);
  opts.onProgress?.(total, total);
  return result;
}

async function searchFromReferences(fit: VideoFit, meshes: (Float32Array | null)[], canonical: CanonicalFace, opts: FocalSearchOptions, tick: () => void): Promise<FocalSearch> {
  const valid = meshes.flatMap((m, i) => (m && fit.frames[i] ? [i] : []));
  if (valid.length === 0) throw new Error('searchFocalPhotometric: no fitted frame');
  if (opts.ref !== undefined) {
    if (!valid.includes(opts.ref)) throw new Error(`searchFocalPhotometric: reference frame ${opts.ref} has no fit`);
    return searchFromReference(fit, meshes, canonical, opts, valid, opts.ref, tick);
  }
  // References nearest the middle of the head's rotations (per-axis median), so the others turn
  // both ways from them: textured from a frame at one end of the motion (a head turned 15
  // degrees), its far side is foreshortened and the cost leans to short focals.
  const mid = fit.frames[valid[valid.length >> 1]]!.pose.R;
  const rv = valid.map((i) => rotationVector(mat3Mul(fit.frames[i]!.pose.R, mat3T(mid))));
  const med = [0, 1, 2].map((d) => rv.map((v) => v[d]).sort((a, b) => a - b)[rv.length >> 1]);
  const byMiddle = valid.map((i, j) => ({ i, d: Math.hypot(rv[j][0] - med[0], rv[j][1] - med[1], rv[j][2] - med[2]) })).sort((a, b) => a.d - b.d);
  const ref = byMiddle[0].i;
  const first = await searchFromReference(fit, meshes, canonical, opts, valid, ref, tick);
  if (!first.observed) return first;
  // The same search from a second view must agree. With the texture lifted from one frame's
  // tracked points, frames near the middle of the motion gave +2.9%, -0.8%, +0.3%, -1.4% and
  // +23.9% on the astronaut render, whose head IS the template (docs/prepare.md "Focal: one
  // reference frame is not enough"); with the reference's pose adjusted they agree within 2%,
  // but a head unlike the template still reads differently from different views. A confident
  // wrong focal is worse than the distance prior the caller falls back to.
  const refR = fit.frames[ref]!.pose.R;
  const second = byMiddle.find(({ i }) => rotationAngle(fit.frames[i]!.pose.R, refR) >= (SECOND_REFERENCE_MIN_DEG * Math.PI) / 180);
  const unconfirmed = (reason: string, references: FocalSearch['references']): FocalSearch => ({ ...first, f: first.landmarkF, observed: false, reason, references });
  if (!second) return unconfirmed(`no second reference frame ${SECOND_REFERENCE_MIN_DEG} degrees from the first to confirm ${first.f.toFixed(0)} px`, first.references);
  const other = await searchFromReference(fit, meshes, canonical, opts, valid, second.i, tick);
  const references = [...first.references, ...other.references];
  if (!other.observed) return unconfirmed(`not confirmed from a second reference frame (${other.reason})`, references);
  if (Math.abs(Math.log(first.f / other.f)) > Math.log(1 + FOCAL_AGREEMENT)) {
    return unconfirmed(`two reference frames disagree: ${first.f.toFixed(0)} px from frame ${ref}, ${other.f.toFixed(0)} px from frame ${second.i}`, references);
  }
  return { ...first, f: Math.sqrt(first.f * other.f), motionDeg: Math.max(first.motionDeg, other.motionDeg), ...(other.rise !== undefined ? { rise: Math.min(first.rise ?? Infinity, other.rise) } : {}), references };
}

/** searchFocalPhotometric from one reference frame; `tick` once per focal evaluated. */
async function searchFromReference(fit: VideoFit, meshes: (Float32Array | null)[], canonical: CanonicalFace, opts: FocalSearchOptions, valid: number[], ref: number, tick: () => void): Promise<FocalSearch> {
  const k0 = fit.intrinsics;
  const refR = fit.frames[ref]!.pose.R;
  const angle = (i: number) => rotationVector(mat3Mul(fit.frames[i]!.pose.R, mat3T(refR)));
  // Farthest-point spread of landmark rotations, starting from the reference.
  const chosen: number[] = [];
  const vec = new Map(valid.map((i) => [i, angle(i)]));
  const dist = new Map(valid.map((i) => [i, Math.hypot(...vec.get(i)!)]));
  for (let c = 0; c < Math.min(FOCAL_SEARCH_FRAMES, valid.length - 1); c++) {
    let best = -1;
    for (const i of valid) if (i !== ref && !chosen.includes(i) && (best < 0 || dist.get(i)! > dist.get(best)!)) best = i;
    if (best < 0) break;
    chosen.push(best);
    const b = vec.get(best)!;
    for (const i of valid) dist.set(i, Math.min(dist.get(i)!, Math.hypot(vec.get(i)![0] - b[0], vec.get(i)![1] - b[1], vec.get(i)![2] - b[2])));
  }
  const motionDeg = Math.max(0, ...chosen.map((i) => (Math.hypot(...vec.get(i)!) * 180) / Math.PI));
  const keep = (reason: string, curve: { f: number; cost: number }[] = []): FocalSearch => ({ f: k0.f, landmarkF: k0.f, observed: false, reason, motionDeg, curve, references: [{ frame: ref, f: k0.f, observed: false, reason }] });
  if (chosen.length < 3) return keep('too few frames');
  const minMotion = opts.minMotionDeg ?? MIN_FOCAL_MOTION_DEG;
  if (motionDeg < minMotion) return keep(`head turns ${motionDeg.toFixed(1)} deg at most; ${minMotion} or more are needed to observe the focal`);

  const refImg = await opts.read(ref);
  const radii = levelRadii(Math.max(refImg.width, refImg.height));
  const refLevels = pyramid(toGray(refImg), radii);
  const levels = new Map<number, GrayImage[]>();
  for (const i of chosen) levels.set(i, pyramid(toGray(await opts.read(i)), radii));
  const tpl = poseTemplate(canonical);
  const tplPoints = reliefTemplate(canonical, opts.relief ?? 1);
  const rigid = rigidVertices(Float64Array.from(canonical.vertices));
  const obsOf = (i: number) => observation(meshes[i]!).obs;
  const landmarkPose = (i: number, f: number): HeadPose => {
    const p = fit.frames[i]!.pose;
    const s = f / k0.f;
    return refinePose(tpl, obsOf(i), { ...k0, f }, { R: p.R, t: [p.t[0] * s, p.t[1] * s, p.t[2] * s] }).pose;
  };
  // One set of template surface samples for every candidate focal (the rigid triangles facing
  // the reference at its landmark pose): a sample set that changed with the focal made the cost
  // jump by as much as its slope. The reference's pixels are read where its pose puts them, and
  // that pose is adjusted with the others' (joint-photometric.ts): lifted from its tracked points
  // instead, the tracker's few pixels of error in that one frame chose the focal.
  const refPose0 = fit.frames[ref]!.pose;
  const samples = buildTexture(projectPoints(tplPoints, refPose0, k0), tplPoints, canonical.triangles, rigid, refPose0, k0);
  const targetLevels = chosen.map((i) => levels.get(i)!);
  let scale = NaN;
  const evaluate = (f: number): number => {
    const k: Intrinsics = { ...k0, f };
    const adj = adjustJointPhotometric(samples, refLevels, targetLevels, k, landmarkPose(ref, f), chosen.map((i) => landmarkPose(i, f)));
    const tex = { ...samples, uv: projectPoints(samples.points, adj.ref, k) };
    const refValues = referenceValues(tex, refLevels);
    const fine = refValues.length - 1;
    const fits = chosen.map((i, j) => refinePosePhotometric(tex, refValues, levels.get(i)!, k, adj.poses[j]));
    if (Number.isNaN(scale)) {
      // One Huber scale for the whole search: the first candidate's robust residual spread.
      const sig = chosen.map((i, j) => photometricCost(tex, refValues[fine], levels.get(i)![fine], k, fits[j].pose, 1).sigma).filter(Number.isFinite).sort((a, b) => a - b);
      scale = Math.max(1, 1.345 * (sig[sig.length >> 1] ?? 1));
    }
    let sum = 0;
    for (let j = 0; j < chosen.length; j++) sum += photometricCost(tex, refValues[fine], levels.get(chosen[j])![fine], k, fits[j].pose, scale).cost;
    return sum / chosen.length;
  };
  const curve = new Map<number, number>();
  // Each focal costs about a second and reads no frame: yield a task before it, so that a cancel
  // posted to the worker is seen by the next check rather than after the whole search.
  const at = async (f: number) => {
    await nextTask();
    opts.check?.();
    if (!curve.has(f)) {
      curve.set(f, evaluate(f));
      tick();
    }
    return curve.get(f)!;
  };
  await at(k0.f);
  const grid = FOCAL_GRID.map((m) => k0.f * m);
  const costs: number[] = [];
  for (const f of grid) costs.push(await at(f));
  const sortedCurve = () => [...curve].sort((a, b) => a[0] - b[0]).map(([f, cost]) => ({ f, cost }));
  const b = costs.indexOf(Math.min(...costs));
  if (!Number.isFinite(costs[b])) return keep('the photometric fit failed at every focal', sortedCurve());
  if (b === 0 || b === grid.length - 1) return keep(`the photometric cost is lowest at the end of the searched range (${grid[b].toFixed(0)} px)`, sortedCurve());
  // Golden-section on log f inside (grid[b-1], grid[b+1]).
  const f = Math.exp((await goldenSectionAsync((l) => at(Math.exp(l)), Math.log(grid[b - 1]), Math.log(grid[b + 1]), FOCAL_REFINE_STEPS)).best);
  // The rise a grid step either side of the minimum found, not of the grid's best point: with the
  // minimum between two grid points, the nearer one sits barely above it however sharp the
  // minimum is (the talking canonical-mouth head: 1.3% there, 11.1% read this way).
  const rise = Math.min(await at(f / FOCAL_STEP), await at(f * FOCAL_STEP)) / (await at(f)) - 1;
  if (!(rise >= MIN_FOCAL_CURVATURE)) return { ...keep(`the photometric cost is flat around its minimum (${(rise * 100).toFixed(1)}% rise)`, sortedCurve()), rise };
  return { f, landmarkF: k0.f, observed: true, motionDeg, rise, curve: sortedCurve(), references: [{ frame: ref, f, observed: true }] };
}

/** Depth reliefs the search tries (the canonical face's depth times these). Only flatter than the
 * canonical face: the landmark residual leans deeper than the truth on every render measured (the
 * face-mesh model under-reports out-of-plane turns, and smaller turns go with a deeper face). The
 * synthetic heads (true relief 0.53 / 0.57 at their landmarks; rotations best at 0.7) got 0.8 /
 * 0.9; the astronaut render on the canonical face (relief 1) kept falling to 1.3; on the photo's
 * own shape (relief 1.05) it chose 1.2, which turned the rotations 3.8 deg off (1.4 at relief 1).
 * So a relief the residual finds flatter than the canonical face is taken, despite that lean; a
 * deeper one is not trusted and the canonical depth stays. */
const RELIEF_GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** At most this many frames (evenly spaced) go into the relief search. */
const RELIEF_FRAMES = 110;
/** Least relative drop of the landmark residual from the canonical depth (relief 1) to the best
 * relief for the best to be taken: landmark noise leaves a floor the same at every relief, and a
 * head that hardly turns cannot tell the reliefs apart (bas-relief ambiguity). Measured on the
 * training proof's subjects: 2.5% at 0.8 (seed 1), 8.9% at 0.9 (seed 2). */
const MIN_RELIEF_GAIN = 0.02;

export interface ReliefSearch {
  /** The relief chosen (1: the canonical face's depth). */
  relief: number;
  /** Whether the frames told the reliefs apart; if not, `reason` says why and `relief` is 1. */
  observed: boolean;
  reason?: string;
  /** Every relief tried and its landmark residual (pixels). */
  curve: { relief: number; residual: number }[];
}

/**
 * The depth relief of the face from its motion: the photometric texture is lifted onto the
 * canonical face with its depth stretched by each relief in turn, a spread of frames is aligned
 * to it photometrically, and the relief whose cameras best explain the tracked meshes' stable
 * points as one rigid scene wins (relief.ts landmarkResidual). A template deeper or flatter than
 * the face scales every out-of-plane turn the photometric fit finds (the bas-relief ambiguity),
 * so the cameras disagree with where the landmarks are seen in proportion to the motion; the
 * photometric cost alone does not rank the reliefs (docs/prepare.md). The canonical depth is kept
 * when the best relief is the canonical one or the flattest tried, or is not clearly better.
 * Not called by the pipeline: on the training proof's subjects it made the cameras more
 * consistent (rigid residual 0.161 -> 0.152 px, 0.375 -> 0.241 px) but the subjects trained no
 * better (29.77 -> 29.58 dB, 28.66 -> 28.68 dB; docs/prepare.md "The template's depth relief").
 * The pose labs (bench/pose/refine-lab.ts RELIEF_SEARCH, focal-lab.ts) use it.
 */
export async function searchRelief(fit: VideoFit, meshes: (Float32Array | null)[], canonical: CanonicalFace, opts: PhotometricOptions): Promise<ReliefSearch> {
  const valid = meshes.flatMap((m, i) => (m && fit.frames[i] ? [i] : []));
  if (valid.length === 0) throw new Error('searchRelief: no fitted frame');
  const k = fit.intrinsics;
  const ref = valid[valid.length >> 1];
  const stride = Math.max(1, Math.ceil(valid.length / RELIEF_FRAMES));
  const sel = valid.filter((_, j) => j % stride === 0);
  const refImg = await opts.read(ref);
  const radii = levelRadii(Math.max(refImg.width, refImg.height));
  const refLevels = pyramid(toGray(refImg), radii);
  const mesh2 = meshImagePoints(meshes[ref]!);
  const rigid = rigidVertices(Float64Array.from(canonical.vertices));
  const textures = RELIEF_GRID.map((relief) => {
    const tex = buildTexture(mesh2, reliefTemplate(canonical, relief), canonical.triangles, rigid, fit.frames[ref]!.pose, k);
    return { tex, refValues: referenceValues(tex, refLevels) };
  });
  // One frame at a time (its pyramid is dropped before the next is read), every relief on it.
  const poses: HeadPose[][] = RELIEF_GRID.map(() => []);
  for (let j = 0; j < sel.length; j++) {
    const i = sel[j];
    const lv = i === ref ? refLevels : pyramid(toGray(await opts.read(i)), radii);
    const init = fit.frames[i]!.pose;
    textures.forEach(({ tex, refValues }, g) => {
      const r = refinePosePhotometric(tex, refValues, lv, k, init);
      poses[g].push(Number.isFinite(r.rms) && rotationAngle(r.pose.R, init.R) <= MAX_PHOTOMETRIC_TURN ? r.pose : init);
    });
    opts.onProgress?.(j + 1, sel.length);
  }
  const selMeshes = sel.map((i) => meshes[i]!);
  const curve = RELIEF_GRID.map((relief, g) => ({ relief, residual: landmarkResidual(selMeshes, poses[g], k, canonical) }));
  const best = curve.reduce((a, b) => (b.residual < a.residual ? b : a));
  const canonicalRes = curve.find((c) => c.relief === 1)!.residual;
  const keep = (reason: string): ReliefSearch => ({ relief: 1, observed: false, reason, curve });
  if (!curve.every((c) => Number.isFinite(c.residual))) return keep('the landmark residual is not finite at every relief');
  if (best.relief === 1) return keep('the landmark residual is lowest at the canonical depth');
  if (best.relief === RELIEF_GRID[0]) return keep(`the landmark residual is lowest at the end of the searched range (relief ${best.relief})`);
  const gain = 1 - best.residual / canonicalRes;
  if (!(gain >= MIN_RELIEF_GAIN)) return keep(`the best relief (${best.relief}) explains the landmarks only ${(gain * 100).toFixed(1)}% better than the canonical depth`);
  return { relief: best.relief, observed: true, curve };
}
