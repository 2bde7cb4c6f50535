/**
 * The torso path of torso.ts with the same maths in fewer multiply-adds (fast mode, issue 14).
 * Both first layers (deform net, torso net) multiply an input that is, column by column:
 * - freq(x) of the pixel's own coordinate: each column depends on the row coordinate alone (even
 *   columns) or the column coordinate alone (odd columns), so W[:, pos] . freq(x) splits into a
 *   per-row and a per-column table, made once per image size;
 * - freq(pose) ++ the torso code: the same for every pixel of a frame, folded into a per-frame bias.
 * A pixel then costs only its pose-dependent work: deform layers 1 and 2, the 2-D grid, the torso
 * net's grid columns and its layers 1 and 2. The per-row/column sums are added in another order
 * than torso.ts's dot products, so results agree to float32 rounding, not bit for bit.
 */
import { freqEncodedDim, type TorsoConfig } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';
import { freqEncode } from './freq.ts';
import { encodeGrid } from './grid.ts';
import { sigmoid } from './mlp.ts';
import { poseInput } from './poses.ts';
import { checkWindow, TORSO_SHRINK, torsoCoord, wholeImage, type ImageWindow } from './torso.ts';
import type { ModelWeights, TorsoWeights } from './weights.ts';

const f = Math.fround;

/** Multiply-adds of the folded torso: per pixel, per frame (biases), once per image size (tables). */
export function foldedTorsoMacs(t: TorsoConfig, width: number, height: number): { pixel: number; frame: number; setup: number } {
  const D = t.deformHiddenDim;
  const Nh = t.netHiddenDim;
  const posLen = freqEncodedDim(2, t.positionDegree);
  const tail = freqEncodedDim(6, t.poseDegree) + t.individualDim;
  const gridOut = t.grid.levels * t.grid.featuresPerLevel;
  return { pixel: D * D + 2 * D + gridOut * Nh + Nh * Nh + 4 * Nh, frame: tail * (D + Nh), setup: (width + height) * Math.ceil(posLen / 2) * (D + Nh) };
}

/**
 * Per image row (height x (D + Nh)) and per column (width x (D + Nh)): the sums over the position
 * encoding's row (even) and column (odd) columns of both first layers, deform units first.
 * wd: torso_deform_net.net.0.weight [D, tin]; wn: torso_net.net.0.weight [Nh, gridOut + tin].
 */
export function torsoPositionTables(t: TorsoConfig, wd: Float32Array, wn: Float32Array, width: number, height: number, win: ImageWindow = wholeImage(width, height)): { row: Float32Array; col: Float32Array } {
  const D = t.deformHiddenDim;
  const Nh = t.netHiddenDim;
  const posLen = freqEncodedDim(2, t.positionDegree);
  const tin = posLen + freqEncodedDim(6, t.poseDegree) + t.individualDim;
  const gridOut = t.grid.levels * t.grid.featuresPerLevel;
  if (wd.length !== D * tin || wn.length !== Nh * (gridOut + tin)) throw new ConfigError(`torso tables: expected first-layer weights of ${D * tin} and ${Nh * (gridOut + tin)} values, got ${wd.length} and ${wn.length}`);
  const pe = new Float32Array(posLen);
  const xy = new Float32Array(2);
  const sums = (parity: number, out: Float32Array, at: number) => {
    for (let o = 0; o < D; o++) {
      let s = 0;
      for (let i = parity; i < posLen; i += 2) s += wd[o * tin + i] * pe[i];
      out[at + o] = s;
    }
    for (let o = 0; o < Nh; o++) {
      let s = 0;
      for (let i = parity; i < posLen; i += 2) s += wn[o * (gridOut + tin) + gridOut + i] * pe[i];
      out[at + D + o] = s;
    }
  };
  const row = new Float32Array(height * (D + Nh));
  const col = new Float32Array(width * (D + Nh));
  for (let r = 0; r < height; r++) {
    xy[0] = f(torsoCoord(r + win.y, win.totalHeight) * TORSO_SHRINK);
    freqEncode(xy, 2, t.positionDegree, pe, 0);
    sums(0, row, r * (D + Nh));
  }
  xy[0] = 0;
  for (let c = 0; c < width; c++) {
    xy[1] = f(torsoCoord(c + win.x, win.totalWidth) * TORSO_SHRINK);
    freqEncode(xy, 2, t.positionDegree, pe, 0);
    sums(1, col, c * (D + Nh));
  }
  return { row, col };
}

export class FoldedTorso {
  /** Multiply-adds of the row and column tables (once per renderer). */
  readonly setupMacs: number;
  /** Multiply-adds of one pixel. */
  readonly pixelMacs: number;
  /** Multiply-adds of the per-frame biases (setPose). */
  readonly frameMacs: number;
  private readonly weights: ModelWeights;
  private readonly torso: TorsoWeights;
  private readonly D: number;
  private readonly Nh: number;
  private readonly tin: number;
  private readonly posLen: number;
  private readonly gridOut: number;
  /** Per row (height x (D + Nh)) and per column (width x (D + Nh)): the position columns' sums. */
  private readonly rowTab: Float32Array;
  private readonly colTab: Float32Array;
  private readonly bias: Float32Array;
  private readonly tail: Float32Array;
  private readonly pose6 = new Float32Array(6);
  private readonly d1: Float32Array;
  private readonly d2: Float32Array;
  private readonly g: Float32Array;
  private readonly n1: Float32Array;
  private readonly n2: Float32Array;
  private readonly u = new Float32Array(2);
  private hasPose = false;

  /** Where this image lies in the whole image (a band of a pool render, render-pool.ts): the torso's coordinates are the whole image's. */
  readonly window: ImageWindow;

  constructor(weights: ModelWeights, readonly width: number, readonly height: number, win: ImageWindow = wholeImage(width, height)) {
    const t = weights.config.torso;
    if (!weights.torso || !weights.torsoGrid || !t) throw new ConfigError('torso: the model has no torso');
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2) throw new ConfigError(`torso: expected an image of at least 2x2 pixels, got ${width}x${height}`);
    this.weights = weights;
    this.torso = weights.torso;
    const D = (this.D = t.deformHiddenDim);
    const Nh = (this.Nh = t.netHiddenDim);
    this.posLen = freqEncodedDim(2, t.positionDegree);
    this.tin = this.posLen + freqEncodedDim(6, t.poseDegree) + t.individualDim;
    this.gridOut = t.grid.levels * t.grid.featuresPerLevel;
    this.tail = new Float32Array(this.tin - this.posLen);
    this.bias = new Float32Array(D + Nh);
    this.d1 = new Float32Array(D);
    this.d2 = new Float32Array(D);
    this.g = new Float32Array(this.gridOut);
    this.n1 = new Float32Array(Nh);
    this.n2 = new Float32Array(Nh);
    checkWindow(win, width, height);
    this.window = win;
    const tabs = torsoPositionTables(t, this.torso.deform[0], this.torso.net[0], width, height, win);
    this.rowTab = tabs.row;
    this.colTab = tabs.col;
    const macs = foldedTorsoMacs(t, width, height);
    this.setupMacs = macs.setup;
    this.frameMacs = macs.frame;
    this.pixelMacs = macs.pixel;
  }

  /** The frame's biases: both first layers' freq(pose) ++ torso-code columns. */
  setPose(pose: ArrayLike<number>): void {
    const t = this.weights.config.torso!;
    const { D, Nh, tin, posLen, gridOut, tail } = this;
    poseInput(pose, this.pose6);
    freqEncode(this.pose6, 6, t.poseDegree, tail, 0);
    tail.set(this.torso.individual, freqEncodedDim(6, t.poseDegree));
    const wd = this.torso.deform[0];
    const wn = this.torso.net[0];
    for (let o = 0; o < D; o++) {
      let s = 0;
      for (let i = 0; i < tail.length; i++) s += wd[o * tin + posLen + i] * tail[i];
      this.bias[o] = s;
    }
    for (let o = 0; o < Nh; o++) {
      let s = 0;
      for (let i = 0; i < tail.length; i++) s += wn[o * (gridOut + tin) + gridOut + posLen + i] * tail[i];
      this.bias[D + o] = s;
    }
    this.hasPose = true;
  }

  /** out[0] = alpha, out[1..3] = colour at pixel (row, col), ignoring occupancy (TorsoPath.sample). */
  sample(row: number, col: number, out: Float32Array): void {
    if (!this.hasPose) throw new ConfigError('torso: setPose must be called before sample');
    const { D, Nh, gridOut, tin } = this;
    const w = this.torso;
    const ra = row * (D + Nh);
    const ca = col * (D + Nh);
    const rt = this.rowTab;
    const ct = this.colTab;
    const b = this.bias;
    const d1 = this.d1;
    for (let o = 0; o < D; o++) {
      const v = rt[ra + o] + ct[ca + o] + b[o];
      d1[o] = v > 0 ? v : 0;
    }
    const w1 = w.deform[1];
    const d2 = this.d2;
    for (let o = 0; o < D; o++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += w1[o * D + i] * d1[i];
      d2[o] = s > 0 ? s : 0;
    }
    const w2 = w.deform[2];
    const xRow = f(torsoCoord(row + this.window.y, this.window.totalHeight) * TORSO_SHRINK);
    const xCol = f(torsoCoord(col + this.window.x, this.window.totalWidth) * TORSO_SHRINK);
    for (let k = 0; k < 2; k++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += w2[k * D + i] * d2[i];
      const moved = Math.min(1, Math.max(-1, f((k === 0 ? xRow : xCol) + s)));
      this.u[k] = f(moved + 1) / 2;
    }
    encodeGrid(this.weights.torsoGrid!, this.u, this.g, 0);
    const n0 = w.net[0];
    const g = this.g;
    const n1 = this.n1;
    for (let o = 0; o < Nh; o++) {
      let s = rt[ra + D + o] + ct[ca + D + o] + b[D + o];
      const rowAt = o * (gridOut + tin);
      for (let i = 0; i < gridOut; i++) s += n0[rowAt + i] * g[i];
      n1[o] = s > 0 ? s : 0;
    }
    const m1 = w.net[1];
    const n2 = this.n2;
    for (let o = 0; o < Nh; o++) {
      let s = 0;
      for (let i = 0; i < Nh; i++) s += m1[o * Nh + i] * n1[i];
      n2[o] = s > 0 ? s : 0;
    }
    const m2 = w.net[2];
    for (let k = 0; k < 4; k++) {
      let s = 0;
      for (let i = 0; i < Nh; i++) s += m2[k * Nh + i] * n2[i];
      out[k] = sigmoid(s);
    }
  }
}
