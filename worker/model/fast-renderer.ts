/**
 * Fast mode, CPU reference (issue 14): the frame exact mode renders, for a fraction of the
 * multiply-adds, by reusing what the previous frame found:
 * - Head: each pixel's surface point of the previous frame is reprojected into the new camera
 *   (fast-reproject.ts); rays that receive one skip the field ahead of that depth less a margin
 *   (fast-march.ts, with its validity test and full replay); rays without one (first frame,
 *   disocclusions, background) march in full. Colour is evaluated only for samples whose
 *   compositing weight can show.
 * - Image sampling: rays are marched on a coarse lattice first and the pixels between are
 *   interpolated only where their lattice neighbours agree (or lie on a locally linear signal)
 *   and no sample under them was moved much by this frame's conditioning (fast-refine.ts,
 *   filmTolerance); the rest are marched. Interpolation uses this frame's marched neighbours, so
 *   nothing lags; the FiLM gate keeps the largest speech moves marched (a mouth opening can start
 *   thinner than the lattice). The first frame after reset() marches every pixel.
 * - Torso (fast-torso.ts, torso-folded.ts): not evaluated under an opaque head (where
 *   1 - weight sum cannot show it), evaluated on the same coarse lattice and interpolated where
 *   neighbours agree, reused while the pose is bit-identical; each evaluated pixel runs the torso
 *   nets with the pixel- and frame-constant input columns summed once per row, column and frame.
 */
import type { CameraConfig } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';
import { CpuRenderer, type FrameInput, type RenderResult } from './cpu-renderer.ts';
import { filmScale, headColour, headHalfMacs, headSigma, type FilmDelta } from './fast-field.ts';
import { fastMarchImage, type SplitField } from './fast-march.ts';
import { predictStarts, surfacePoints } from './fast-reproject.ts';
import { gatherRays, refineLevel, type PixelState } from './fast-refine.ts';
import { checkFilm, createHeadScratch } from './head-field.ts';
import { stepBounds } from './march.ts';
import { TorsoRefiner } from './fast-torso.ts';
import { torsoPixels, wholeImage, type ImageWindow } from './torso.ts';
import { FoldedTorso } from './torso-folded.ts';
import { boxPixels, changedPoints, projectedBox } from './speech-region.ts';
import type { ModelWeights } from './weights.ts';

export interface FastModeOptions {
  /** Evaluation starts this many dt steps ahead of the predicted surface. */
  marginSteps: number;
  /** Validity test: a guided ray whose first evaluated sample is denser than this is replayed. */
  validAlpha: number;
  /** Colour is evaluated for samples whose weight exceeds this. */
  colourWeight: number;
  /**
   * A ray ends once its transmittance is below this (exact mode goes on to the avatar's
   * march.tThreshold, 1e-4 for the reference configs): a dense head's rays spend their last
   * samples on weights the image cannot show. The rest of the weight (at most this) goes to the
   * ray's own mean colour (fast-march.ts closeOpaque()): exact mode spends it on the samples just
   * behind the surface, which look like it, not on the torso and background behind.
   */
  terminate: number;
  /** The torso is skipped where 1 - head weight sum is at most this. */
  torsoVisible: number;
  /**
   * Rays are first marched every `stride` pixels (a power of two; 1 marches every pixel).
   * 'auto' (strideAt): 1 up to 32 pixels on the shorter side, 2 below 128, else 4 (a 4-pixel
   * lattice steps over an eye or a lip line of a small image; at 512x512 it measured 57 dB
   * against exact). At 32x32 (the CPU fallback's smaller side) a 2-pixel lattice saved only 0.026
   * of exact's multiply-adds on the built-in (0.527 -> 0.501 over 10 s) and cost up to 21 dB on
   * head-turn frames (worst frame 49.96 -> 29.06 dB, mouth 49.68 -> 28.78: below the 35 dB bound).
   */
  stride: number | 'auto';
  /** A pixel is interpolated when its coarser neighbours' colour and weight sum differ by at most this. */
  colourTolerance: number;
  /** ... and their surface depths by at most this many dt steps. */
  depthTolerance: number;
  /**
   * ... and none of them has a sample whose FiLM shift since the previous frame exceeds this
   * many times the avatar's FiLM scale (fast-field.ts filmScale(): the root mean square of the
   * head net's FiLM-ed pre-activations, measured once from the weights), so the gate means the
   * same for every avatar. 'auto': 0.5 from 128 pixels on the shorter side, 0.0045 below (0.02 on
   * the built-in, scale 4.42). The trained built-in moves nearly every head sample by more than
   * 0.0045 when it talks, which marches the whole talking head (0.38 of exact's multiply-adds at
   * 128 px over 10 s); 0.5 keeps the largest moves marched: 0.299 over 4 s with the same worst
   * frame and worst mouth frame (36.69 / 36.20 dB). Stop 21's gate was an absolute 3 (0.68 of the
   * built-in's scale, 2.1 of the bench avatar's, 1.418): it let the bench avatar's mouth fall to
   * 34.03 dB against exact; at 0.5 its mouth holds 41.91 dB for the same multiply-adds (0.415).
   * On small images the looser gate gains little and loses up to 4 dB on head-turn frames (a
   * lattice step spans more face).
   */
  filmTolerance: number | 'auto';
  /** Or: their line's second differences (colour, weight sum; depth against depthTolerance) are at most this. */
  curvatureTolerance: number;
  /**
   * Partial frames (setSpeechRegion): while the pose and the eye value stay bit-identical, a frame
   * re-renders only the speech region and every `refreshPeriod`-th row (a different one each
   * frame), keeping the rest of the previous frame, so no pixel is more than this many frames
   * old. 0 renders every frame in full.
   */
  refreshPeriod: number;
  /** The speech region's box is grown on every side by this times its larger side ... */
  regionPad: number;
  /**
   * ... plus this many pixels (the smallest renders' boxes are a few pixels wide). At 32 px, 2
   * pixels let a stale mouth edge show at the end of the CPU fallback's pose holds (built-in,
   * frame 135 of the 10 s sequence: mouth 34.86 dB from exact; 3 pixels: 36.96).
   */
  regionPadPixels: number;
}

export const FAST_MODE_DEFAULTS: Readonly<FastModeOptions> = {
  marginSteps: 2,
  validAlpha: 0.02,
  colourWeight: 1 / 16,
  terminate: 1 / 32,
  torsoVisible: 1 / 2048,
  stride: 'auto',
  colourTolerance: 0.04,
  depthTolerance: 2,
  filmTolerance: 'auto',
  curvatureTolerance: 0.02,
  refreshPeriod: 8,
  regionPad: 0.25,
  regionPadPixels: 3,
};

/** alpha that marks a ray's surface for the next frame's prediction. */
const HIT_ALPHA = 0.02;

/** What a fast frame evaluated, to count its multiply-adds against exact mode's. */
export interface FastFrameStats {
  sigmaEvals: number;
  colourEvals: number;
  torsoEvals: number;
  /** Multiply-adds of the torso nets (evaluated pixels, the frame's folded biases, and the first frame's row/column tables). */
  torsoMacs: number;
  /** Pixels whose rays were marched (the rest were interpolated from their coarser neighbours). */
  marchedRays: number;
  guidedRays: number;
  replayedRays: number;
  /** sigmaEvals by ray fate (fast-march.ts FastMarchResult.evalsBy): where the head march's multiply-adds go. */
  sigmaEvalsBy: { guided: number; unguided: number; replayed: number };
  /** Multiply-adds of the head and torso nets this frame (the conditioning MLPs come on top). */
  macs: number;
  /** A partial frame: only the speech region and one row in refreshPeriod were rendered. */
  partial: boolean;
}

export interface FastRenderResult extends RenderResult {
  stats: FastFrameStats;
  /** 1 where the pixel's ray was marched, 0 where it was interpolated. */
  marched: Uint8Array;
  /** Ray parameter of each pixel's surface (where alpha first exceeds HIT_ALPHA); NaN where none. */
  hitT: Float32Array;
  /** The rays' origins and directions (3 floats a pixel), to turn hitT into world points. */
  origins: Float32Array;
  directions: Float32Array;
}

export function checkFastModeOptions(o: FastModeOptions): void {
  if (!Number.isFinite(o.marginSteps) || o.marginSteps < 0 || o.marginSteps > 64) throw new ConfigError(`fast mode: marginSteps: expected a number in [0, 64], got ${o.marginSteps}`);
  for (const k of ['validAlpha', 'colourWeight', 'terminate', 'torsoVisible', 'colourTolerance', 'curvatureTolerance'] as const) {
    if (!(o[k] >= 0 && o[k] < 1)) throw new ConfigError(`fast mode: ${k}: expected a number in [0, 1), got ${o[k]}`);
  }
  const st = o.stride;
  if (st !== 'auto' && (!Number.isInteger(st) || st < 1 || st > 64 || (st & (st - 1)) !== 0)) throw new ConfigError(`fast mode: stride: expected a power of two in [1, 64], got ${o.stride}`);
  if (!(Number.isInteger(o.refreshPeriod) && o.refreshPeriod >= 0 && o.refreshPeriod <= 1024)) throw new ConfigError(`fast mode: refreshPeriod: expected an integer in [0, 1024], got ${o.refreshPeriod}`);
  if (o.filmTolerance !== 'auto' && !(o.filmTolerance >= 0 && Number.isFinite(o.filmTolerance))) throw new ConfigError(`fast mode: filmTolerance: expected 'auto' or a finite number >= 0, got ${o.filmTolerance}`);
  for (const k of ['depthTolerance', 'regionPad', 'regionPadPixels'] as const) {
    if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new ConfigError(`fast mode: ${k}: expected a finite number >= 0, got ${o[k]}`);
  }
}

export class FastCpuRenderer {
  readonly weights: ModelWeights;
  readonly camera: CameraConfig;
  readonly options: FastModeOptions;
  private readonly exact: CpuRenderer;
  private readonly scratch;
  private readonly torso: FoldedTorso | null;
  private readonly refiner: TorsoRefiner | null;
  /** The head net's FiLM scale (fast-field.ts filmScale()), the unit of options.filmTolerance. */
  readonly filmScale: number;
  /** The torso's row and column tables are counted with the first frame they serve. */
  private setupCounted = false;
  /** Previous frame: camera origin and each pixel's surface point (NaN where none). */
  private prevSurface: Float32Array | null = null;
  private prevFilm: { film1: Float32Array; film2: Float32Array } | null = null;
  /** Previous frame's head result, pose and eye: what a partial frame keeps outside what it renders. */
  private prev: { px: PixelState; pose: Float32Array; eye: number } | null = null;
  /** World-space points where speech changes the picture (speech-region.ts); null: no partial frames. */
  private region: Float32Array | null = null;
  private phase = 0;
  /** A band's own columns (partial frames render only these), or null: all. */
  private readonly own: [number, number] | null;

  /**
   * `band`: where this camera's image lies in a whole image (a band of the CPU fallback's render
   * pool, worker/engine/render-pool.ts, renders on a camera cropped to its columns; the torso's
   * 2-D coordinates are the whole image's), and the band's own columns [own0, own1): partial
   * frames render only those (the rest of the band is a halo for full frames' interpolation,
   * which a partial frame does not do). Default: the whole image, all its own.
   */
  constructor(weights: ModelWeights, camera: CameraConfig, options: Partial<FastModeOptions> = {}, band: { window: ImageWindow; own0: number; own1: number } | null = null) {
    this.options = { ...FAST_MODE_DEFAULTS, ...options };
    checkFastModeOptions(this.options);
    this.exact = new CpuRenderer(weights, camera);
    this.weights = weights;
    this.camera = camera;
    this.scratch = createHeadScratch(weights);
    this.filmScale = filmScale(weights);
    const t = weights.torso;
    const win = band?.window ?? wholeImage(camera.width, camera.height);
    if (band && !(Number.isInteger(band.own0) && Number.isInteger(band.own1) && band.own0 >= 0 && band.own1 > band.own0 && band.own1 <= camera.width)) throw new ConfigError(`band: expected own columns inside 0..${camera.width}, got ${band.own0}..${band.own1}`);
    this.own = band ? [band.own0, band.own1] : null;
    this.torso = t ? new FoldedTorso(weights, camera.width, camera.height, win) : null;
    this.refiner = t ? new TorsoRefiner(camera.width, camera.height, torsoPixels(t.densityGrid, weights.config.torso!.densityResolution, camera.width, camera.height, t.densityThreshold, win)) : null;
  }

  /** Forgets the previous frame (a cut, a new avatar pose track): the next frame marches in full. */
  reset(): void {
    this.prevSurface = null;
    this.prevFilm = null;
    this.prev = null;
    this.refiner?.reset();
  }

  /**
   * Replaces the previous frame's surface points (3 floats a pixel, NaN where none) that the next
   * frame reprojects: a band of a pool render is given the whole image's, so its rays are guided
   * as a one-thread render's are. Any number of points; the renderer keeps the array.
   */
  setPreviousSurface(points: Float32Array): void {
    if (!(points instanceof Float32Array) || points.length % 3 !== 0) throw new ConfigError(`previous surface: expected a Float32Array of x, y, z triples, got ${points?.length} values`);
    this.prevSurface = points;
  }

  /**
   * World-space points where speech changes the picture (changedPoints() of a closed- and an
   * open-lipped render), or null: with them, frames at an unchanged pose and eye are partial.
   */
  setSpeechRegion(points: Float32Array | null): void {
    if (points !== null && (!(points instanceof Float32Array) || points.length === 0 || points.length % 3 !== 0 || !points.every(Number.isFinite))) {
      throw new ConfigError(`speech region: expected a non-empty Float32Array of finite x, y, z triples, got ${points?.length} values`);
    }
    this.region = points;
  }

  /**
   * The speech region from two full renders at `pose`, lips closed and open (their FiLM vectors):
   * changedPoints() of the two. Forgets the previous frame.
   */
  findSpeechRegion(closed: { film1: Float32Array; film2: Float32Array }, open: { film1: Float32Array; film2: Float32Array }, pose: Float32Array, eye: number): Float32Array {
    this.reset();
    const a = this.render({ ...closed, pose, eye });
    this.reset();
    const b = this.render({ ...open, pose, eye });
    this.reset();
    return changedPoints(a.image, b.image, this.camera.width, [surfacePoints(a.origins, a.directions, a.hitT), surfacePoints(b.origins, b.directions, b.hitT)]);
  }

  /** The pixels a partial frame at `pose` renders: the padded speech region's box and this frame's refresh rows. */
  private partialPixels(pose: Float32Array): number[] {
    const { width: W, height: H } = this.camera;
    const o = this.options;
    const box = projectedBox(this.region!, pose, this.camera, o.regionPad, o.regionPadPixels);
    const list = boxPixels(box, W);
    this.phase = (this.phase + 1) % o.refreshPeriod;
    for (let r = this.phase; r < H; r += o.refreshPeriod) {
      if (r >= box.r0 && r < box.r1) {
        for (let c = 0; c < box.c0; c++) list.push(r * W + c);
        for (let c = box.c1; c < W; c++) list.push(r * W + c);
      } else for (let c = 0; c < W; c++) list.push(r * W + c);
    }
    if (!this.own) return list;
    const [c0, c1] = this.own;
    return list.filter((p) => p % W >= c0 && p % W < c1);
  }

  render(frame: FrameInput): FastRenderResult {
    checkFilm(this.weights, frame.film1, frame.film2);
    if (!(frame.pose instanceof Float32Array) || frame.pose.length !== 16) throw new ConfigError(`frame.pose: expected 16 float32 values, got ${frame.pose?.length}`);
    for (let i = 0; i < 16; i++) if (!Number.isFinite(frame.pose[i])) throw new ConfigError(`frame.pose[${i}]: expected a finite number, got ${frame.pose[i]}`);
    if (!Number.isFinite(frame.eye)) throw new ConfigError(`frame.eye: expected a finite number, got ${frame.eye}`);

    const { width: W, height: H } = this.camera;
    const n = W * H;
    const w = this.weights;
    const o = this.options;
    const rays = this.exact.buildRays(frame.pose);
    const tStart = predictStarts(this.camera, frame.pose, this.prevSurface, o.marginSteps * stepBounds(w.config.march).dtMax);
    const scratch = this.scratch;
    // The first frame (no previous conditioning to compare with) is treated as all speech: it
    // marches every pixel, as exact mode does.
    const delta = this.prevFilm ? filmDelta(frame, this.prevFilm) : null;
    const field: SplitField = {
      sigma: (x) => headSigma(w, frame.film1, frame.film2, frame.eye, x, scratch, delta ?? undefined),
      colour: (d, rgb) => headColour(w, d, scratch, rgb),
      sensitivity: delta ? () => delta.value : undefined,
    };
    const prev = this.prev;
    const partial = o.refreshPeriod > 0 && this.region !== null && prev !== null && delta !== null && prev.eye === frame.eye && prev.pose.every((v, i) => Object.is(v, frame.pose[i]));
    const px: PixelState = {
      rgb: partial ? Float32Array.from(prev.px.rgb) : new Float32Array(n * 3),
      weightSum: partial ? Float32Array.from(prev.px.weightSum) : new Float32Array(n),
      hitT: partial ? Float32Array.from(prev.px.hitT) : new Float32Array(n).fill(NaN),
      sensitivity: new Float32Array(n).fill(delta ? 0 : Infinity),
    };
    const stats = { sigmaEvals: 0, colourEvals: 0, guided: 0, replayed: 0, marched: 0, passes: [] as number[], by: { guided: 0, unguided: 0, replayed: 0 } };
    const marched = new Uint8Array(n);
    const march = (list: number[]): void => {
      if (list.length === 0) return;
      for (const p of list) marched[p] = 1;
      const sub = gatherRays(rays, tStart, list);
      const m = fastMarchImage(sub.rays, w.bitfield, w.config.march, field, { tStart: sub.tStart, validAlpha: o.validAlpha, colourWeight: o.colourWeight, hitAlpha: HIT_ALPHA, terminate: o.terminate });
      for (let j = 0; j < list.length; j++) {
        const p = list[j];
        for (let k = 0; k < 3; k++) px.rgb[p * 3 + k] = m.rgb[j * 3 + k];
        px.weightSum[p] = m.weightSum[j];
        px.hitT[p] = m.hitT[j];
        if (delta) px.sensitivity[p] = m.sensitivity[j];
        if (sub.tStart[j] > -Infinity) stats.guided++;
      }
      stats.sigmaEvals += m.sigmaEvals;
      stats.colourEvals += m.colourEvals;
      stats.replayed += m.replayed;
      stats.by.guided += m.evalsBy.guided;
      stats.by.unguided += m.evalsBy.unguided;
      stats.by.replayed += m.evalsBy.replayed;
      stats.marched += list.length;
      if (stats.passes.length === 0) stats.passes = m.passes;
    };
    const stride = !delta ? 1 : strideAt(o, W, H);
    if (partial) {
      march(this.partialPixels(frame.pose));
    } else {
      const coarse: number[] = [];
      for (let r = 0; r < H; r += stride) for (let c = 0; c < W; c += stride) coarse.push(r * W + c);
      march(coarse);
      const dtMax = stepBounds(w.config.march).dtMax;
      const tol = { colour: o.colourTolerance, depth: o.depthTolerance * dtMax, film: filmToleranceAt(o, W, H, this.filmScale), curvature: o.curvatureTolerance };
      for (let s = stride; s > 1; s /= 2) refineLevel(px, W, H, s, tol, march);
    }
    this.prev = { px, pose: Float32Array.from(frame.pose), eye: frame.eye };
    this.prevSurface = surfacePoints(rays.origins, rays.directions, px.hitT, this.prevSurface?.length === n * 3 ? this.prevSurface : undefined);
    this.prevFilm = { film1: Float32Array.from(frame.film1), film2: Float32Array.from(frame.film2) };
    const m = { rgb: px.rgb, weightSum: px.weightSum, passes: stats.passes };

    const bg = this.torso ? this.torsoBackground(frame.pose, m.weightSum, stride, { colour: o.colourTolerance, curvature: o.curvatureTolerance }) : { image: w.background, evals: 0, macs: 0 };
    const image = new Float32Array(W * H * 3);
    for (let i = 0; i < W * H; i++) {
      const rest = 1 - m.weightSum[i];
      for (let k = 0; k < 3; k++) {
        const v = m.rgb[i * 3 + k] + rest * bg.image[i * 3 + k];
        image[i * 3 + k] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
    const half = headHalfMacs(w.config);
    const macs = stats.sigmaEvals * half.sigma + stats.colourEvals * half.colour + bg.macs;
    const samplesPerRay = new Uint16Array(W * H); // fast mode does not keep per-ray counts
    return {
      width: W,
      height: H,
      image,
      headRgb: m.rgb,
      weightSum: m.weightSum,
      samplesPerRay,
      passes: m.passes,
      marched,
      hitT: px.hitT,
      origins: rays.origins,
      directions: rays.directions,
      stats: { sigmaEvals: stats.sigmaEvals, colourEvals: stats.colourEvals, torsoEvals: bg.evals, torsoMacs: bg.macs, marchedRays: stats.marched, guidedRays: stats.guided, replayedRays: stats.replayed, sigmaEvalsBy: stats.by, macs, partial },
    };
  }

  /** bg' of torso-over-background (fast-torso.ts), and what the torso nets evaluated for it. */
  private torsoBackground(pose: Float32Array, weightSum: Float32Array, stride: number, tol: { colour: number; curvature: number }): { image: Float32Array; evals: number; macs: number } {
    const { width: W } = this.camera;
    const torso = this.torso!;
    const refiner = this.refiner!;
    let posed = false;
    const s = new Float32Array(4);
    refiner.run(pose, weightSum, this.options.torsoVisible, stride, tol, (list) => {
      if (!posed) torso.setPose(pose);
      posed = true;
      const values = new Float32Array(list.length * 4);
      for (let j = 0; j < list.length; j++) {
        torso.sample(Math.floor(list[j] / W), list[j] % W, s);
        values.set([s[0], s[1] * s[0], s[2] * s[0], s[3] * s[0]], j * 4);
      }
      refiner.store(list, values);
    });
    const image = new Float32Array(this.weights.background.length);
    refiner.composite(this.weights.background, image);
    let macs = refiner.evaluated * torso.pixelMacs + (posed ? torso.frameMacs : 0);
    if (!this.setupCounted) {
      macs += torso.setupMacs;
      this.setupCounted = true;
    }
    return { image, evals: refiner.evaluated, macs };
  }
}

function filmDelta(frame: FrameInput, prev: { film1: Float32Array; film2: Float32Array }): FilmDelta {
  const d1 = new Float32Array(frame.film1.length);
  const d2 = new Float32Array(frame.film2.length);
  for (let i = 0; i < d1.length; i++) d1[i] = frame.film1[i] - prev.film1[i];
  for (let i = 0; i < d2.length; i++) d2[i] = frame.film2[i] - prev.film2[i];
  return { d1, d2, value: 0 };
}

/** The lattice stride for a width x height image (FastModeOptions.stride). */
export function strideAt(o: Pick<FastModeOptions, 'stride'>, width: number, height: number): number {
  if (o.stride !== 'auto') return o.stride;
  const side = Math.min(width, height);
  return side <= 32 ? 1 : side < 128 ? 2 : 4;
}

/**
 * The FiLM gate's tolerance for a width x height image (FastModeOptions.filmTolerance) in the
 * head net's pre-activation units: the relative tolerance times the avatar's filmScale().
 */
export function filmToleranceAt(o: Pick<FastModeOptions, 'filmTolerance'>, width: number, height: number, scale: number): number {
  if (!(scale > 0 && Number.isFinite(scale))) throw new ConfigError(`fast mode: FiLM scale: expected a positive finite number, got ${scale}`);
  return (o.filmTolerance !== 'auto' ? o.filmTolerance : Math.min(width, height) >= 128 ? FILM_TOLERANCE_LARGE : FILM_TOLERANCE_SMALL) * scale;
}

/** filmTolerance 'auto', in units of the avatar's FiLM scale: from 128 px on the shorter side, and below. */
export const FILM_TOLERANCE_LARGE = 0.5;
export const FILM_TOLERANCE_SMALL = 0.0045;

/** Multiply-adds of the torso nets at one pixel (deform net + torso net). */
export function torsoPixelMacs(w: Pick<ModelWeights, 'config'>): number {
  const t = w.config.torso;
  if (!t) return 0;
  const tin = 2 + 4 * t.positionDegree + 6 + 12 * t.poseDegree + t.individualDim;
  const gridOut = t.grid.levels * t.grid.featuresPerLevel;
  return tin * t.deformHiddenDim + t.deformHiddenDim * t.deformHiddenDim + 2 * t.deformHiddenDim + (gridOut + tin) * t.netHiddenDim + t.netHiddenDim * t.netHiddenDim + 4 * t.netHiddenDim;
}
