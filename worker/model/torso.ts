/**
 * The 2-D torso path (model-spec §7, §7b.9), per pixel: occupancy from the 2-D density grid,
 * frequency encodings, deform net, clamp, 2-D grid, torso net, then torso over background.
 */
import { freqEncodedDim, torsoInputDim } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';
import { freqEncode } from './freq.ts';
import { encodeGrid } from './grid.ts';
import { linear, relu, sigmoid } from './mlp.ts';
import { poseInput } from './poses.ts';
import type { ModelWeights, TorsoWeights } from './weights.ts';

const f = Math.fround;

/** The reference's torso_shrink, as the float32 the kernel multiplies by. */
export const TORSO_SHRINK = f(0.8);

/** Pixel coordinate i of n in [-1, 1]: float32(i/(n-1))*2 - 1 (get_bg_coords). */
export function torsoCoord(i: number, n: number): number {
  return f(f(i / (n - 1)) * 2 - 1);
}

/**
 * F.grid_sample(grid.view(1,1,res,res), (gx, gy), align_corners=True, padding zeros):
 * gx indexes the width (last) axis, gy the height axis; grid is row-major [gy][gx].
 */
export function sampleDensityGrid(grid: Float32Array, res: number, gx: number, gy: number): number {
  const ix = f(f(f(gx + 1) / 2) * (res - 1));
  const iy = f(f(f(gy + 1) / 2) * (res - 1));
  const x0 = Math.floor(ix);
  const y0 = Math.floor(iy);
  const fx = ix - x0;
  const fy = iy - y0;
  const at = (x: number, y: number) => (x >= 0 && x < res && y >= 0 && y < res ? grid[y * res + x] : 0);
  return (
    at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy
  );
}

/** min(opt.density_thresh_torso, mean density), as the reference thresholds the 2-D grid. */
export function torsoDensityThreshold(densityGrid: Float32Array, threshold: number): number {
  let sum = 0;
  for (let i = 0; i < densityGrid.length; i++) sum += densityGrid[i];
  return Math.min(threshold, Math.fround(sum / densityGrid.length));
}

/**
 * Where an image lies in a whole image: its pixel (0, 0) is the whole image's (x, y), of a
 * totalWidth x totalHeight image. A band of the CPU fallback's render pool
 * (worker/engine/render-pool.ts) renders on a cropped camera, but the torso's 2-D coordinates
 * are the whole image's.
 */
export interface ImageWindow {
  x: number;
  y: number;
  totalWidth: number;
  totalHeight: number;
}

export function wholeImage(width: number, height: number): ImageWindow {
  return { x: 0, y: 0, totalWidth: width, totalHeight: height };
}

export function checkWindow(w: ImageWindow, width: number, height: number): void {
  const ok = (o: number, n: number, total: number): boolean => Number.isInteger(o) && Number.isInteger(total) && o >= 0 && total >= 2 && o + n <= total;
  if (!ok(w.x, width, w.totalWidth) || !ok(w.y, height, w.totalHeight)) {
    throw new ConfigError(`image window: expected a ${width}x${height} image inside a whole image of at least 2x2, got (${w.x}, ${w.y}) of ${w.totalWidth}x${w.totalHeight}`);
  }
}

/**
 * Row-major indices of the width x height pixels the occupancy test keeps (the only pixels the
 * torso nets change); the set depends on the avatar alone, not on the frame.
 */
export function torsoPixels(densityGrid: Float32Array, res: number, width: number, height: number, threshold: number, win: ImageWindow = wholeImage(width, height)): Uint32Array {
  checkWindow(win, width, height);
  const out: number[] = [];
  for (let row = 0; row < height; row++) {
    const qRow = torsoCoord(row + win.y, win.totalHeight);
    for (let col = 0; col < width; col++) if (sampleDensityGrid(densityGrid, res, qRow, torsoCoord(col + win.x, win.totalWidth)) > threshold) out.push(row * width + col);
  }
  return Uint32Array.from(out);
}

export class TorsoPath {
  private readonly weights: ModelWeights;
  private readonly torso: TorsoWeights;
  private readonly pose6 = new Float32Array(6);
  private readonly poseEnc: Float32Array;
  private readonly xy = new Float32Array(2);
  private readonly u = new Float32Array(2);
  private readonly input: Float32Array;
  private readonly netIn: Float32Array;
  private readonly d1: Float32Array;
  private readonly d2: Float32Array;
  private readonly dx = new Float32Array(2);
  private readonly n1: Float32Array;
  private readonly n2: Float32Array;
  private readonly o = new Float32Array(4);
  private hasPose = false;

  constructor(weights: ModelWeights) {
    if (!weights.torso || !weights.torsoGrid || !weights.config.torso) throw new ConfigError('torso: the model has no torso');
    this.weights = weights;
    this.torso = weights.torso;
    const t = weights.config.torso;
    const gridOut = t.grid.levels * t.grid.featuresPerLevel;
    this.poseEnc = new Float32Array(freqEncodedDim(6, t.poseDegree));
    this.input = new Float32Array(torsoInputDim(t));
    this.netIn = new Float32Array(gridOut + this.input.length);
    this.d1 = new Float32Array(t.deformHiddenDim);
    this.d2 = new Float32Array(t.deformHiddenDim);
    this.n1 = new Float32Array(t.netHiddenDim);
    this.n2 = new Float32Array(t.netHiddenDim);
  }

  /** Encodes the frame's pose input [Euler XYZ, translation] once per frame. */
  setPose(pose: ArrayLike<number>): void {
    poseInput(pose, this.pose6);
    freqEncode(this.pose6, 6, this.weights.config.torso!.poseDegree, this.poseEnc, 0);
    this.hasPose = true;
  }

  /** Occupancy value at pixel coordinates (qRow, qCol): the row coordinate indexes the grid's width axis. */
  occupancy(qRow: number, qCol: number): number {
    return sampleDensityGrid(this.torso.densityGrid, this.weights.config.torso!.densityResolution, qRow, qCol);
  }

  isOccupied(qRow: number, qCol: number): boolean {
    return this.occupancy(qRow, qCol) > this.torso.densityThreshold;
  }

  /** out[0] = alpha, out[1..3] = colour at pixel coordinates (qRow, qCol), ignoring occupancy. */
  sample(qRow: number, qCol: number, out: Float32Array): void {
    if (!this.hasPose) throw new ConfigError('torso: setPose must be called before sample');
    const cfg = this.weights.config.torso!;
    const w = this.torso;
    const posDim = freqEncodedDim(2, cfg.positionDegree);
    const xy = this.xy;
    xy[0] = f(qRow * TORSO_SHRINK);
    xy[1] = f(qCol * TORSO_SHRINK);
    const input = this.input;
    freqEncode(xy, 2, cfg.positionDegree, input, 0);
    input.set(this.poseEnc, posDim);
    input.set(w.individual, posDim + this.poseEnc.length);

    const D = cfg.deformHiddenDim;
    linear(w.deform[0], D, input.length, input, 0, this.d1, 0);
    relu(this.d1, 0, D);
    linear(w.deform[1], D, D, this.d1, 0, this.d2, 0);
    relu(this.d2, 0, D);
    linear(w.deform[2], 2, D, this.d2, 0, this.dx, 0);
    for (let k = 0; k < 2; k++) {
      const moved = Math.min(1, Math.max(-1, f(xy[k] + this.dx[k])));
      this.u[k] = f(moved + 1) / 2;
    }
    const gridOut = cfg.grid.levels * cfg.grid.featuresPerLevel;
    encodeGrid(this.weights.torsoGrid!, this.u, this.netIn, 0);
    this.netIn.set(input, gridOut);

    const Nh = cfg.netHiddenDim;
    linear(w.net[0], Nh, this.netIn.length, this.netIn, 0, this.n1, 0);
    relu(this.n1, 0, Nh);
    linear(w.net[1], Nh, Nh, this.n1, 0, this.n2, 0);
    relu(this.n2, 0, Nh);
    linear(w.net[2], 4, Nh, this.n2, 0, this.o, 0);
    for (let k = 0; k < 4; k++) out[k] = sigmoid(this.o[k]);
  }

  /**
   * bg' = colour*alpha + bg*(1-alpha) for every pixel of a width x height background
   * (H*W*3); pixels the occupancy test skips keep the plain background.
   */
  composite(pose: ArrayLike<number>, background: Float32Array, width: number, height: number, out: Float32Array): void {
    if (width < 2 || height < 2) throw new ConfigError(`torso: expected an image of at least 2x2 pixels, got ${width}x${height}`);
    if (background.length !== width * height * 3 || out.length !== background.length) {
      throw new ConfigError(`torso: expected background and output of ${width * height * 3} values, got ${background.length} and ${out.length}`);
    }
    this.setPose(pose);
    const s = new Float32Array(4);
    for (let row = 0; row < height; row++) {
      const qRow = torsoCoord(row, height);
      for (let col = 0; col < width; col++) {
        const qCol = torsoCoord(col, width);
        const p = (row * width + col) * 3;
        if (!this.isOccupied(qRow, qCol)) {
          out[p] = background[p];
          out[p + 1] = background[p + 1];
          out[p + 2] = background[p + 2];
          continue;
        }
        this.sample(qRow, qCol, s);
        const a = s[0];
        for (let k = 0; k < 3; k++) out[p + k] = s[1 + k] * a + background[p + k] * (1 - a);
      }
    }
  }
}
