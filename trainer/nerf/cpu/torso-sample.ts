/**
 * The torso at one pixel (model-spec §7) for training: the forward of worker/model/torso.ts
 * TorsoPath.sample with activations kept, and its backward to the deform net, the 2-D grid
 * (table, and through the moved coordinate back into the deform net), the torso net and the
 * torso code. Occupancy is not applied here: training evaluates the pixels the loop chose.
 */
import { freqEncodedDim, torsoInputDim } from '../../../worker/avatar/config.ts';
import { freqEncode } from '../../../worker/model/freq.ts';
import { encodeGrid } from '../../../worker/model/grid.ts';
import { poseInput } from '../../../worker/model/poses.ts';
import { TORSO_SHRINK } from '../../../worker/model/torso.ts';
import { maskLevels } from './conditioning.ts';
import { gridBackward } from './grid-backward.ts';
import { gridInputBackward } from './grid-input-backward.ts';
import { linearBackward, linearForward, reluBackward } from './mlp-backward.ts';
import type { TorsoNet } from './network.ts';

const f = Math.fround;

export interface TorsoSampleCache {
  poseEnc: Float32Array;
  xy: Float32Array;
  input: Float32Array;
  d1: Float64Array;
  d2: Float64Array;
  dx: Float64Array;
  /** whether x + dx was inside [-1, 1] per axis (the clamp passes gradient only there) */
  inside: Uint8Array;
  u: Float32Array;
  netIn: Float32Array;
  n1: Float64Array;
  n2: Float64Array;
  /** sigmoid outputs: alpha, r, g, b */
  out: Float64Array;
  // backward scratch
  dO: Float64Array;
  dn1: Float64Array;
  dn2: Float64Array;
  dNetIn: Float64Array;
  dGrid32: Float32Array;
  du: Float64Array;
  dDx: Float64Array;
  dd1: Float64Array;
  dd2: Float64Array;
  dInput: Float64Array;
}

export interface TorsoGrads {
  table: Float32Array;
  deform: [Float64Array, Float64Array, Float64Array];
  net: [Float64Array, Float64Array, Float64Array];
  individual: Float64Array;
}

export function createTorsoSampleCache(net: TorsoNet): TorsoSampleCache {
  const t = net.config.torso!;
  const gridOut = t.grid.levels * t.grid.featuresPerLevel;
  const inDim = torsoInputDim(t);
  return {
    poseEnc: new Float32Array(freqEncodedDim(6, t.poseDegree)),
    xy: new Float32Array(2),
    input: new Float32Array(inDim),
    d1: new Float64Array(t.deformHiddenDim),
    d2: new Float64Array(t.deformHiddenDim),
    dx: new Float64Array(2),
    inside: new Uint8Array(2),
    u: new Float32Array(2),
    netIn: new Float32Array(gridOut + inDim),
    n1: new Float64Array(t.netHiddenDim),
    n2: new Float64Array(t.netHiddenDim),
    out: new Float64Array(4),
    dO: new Float64Array(4),
    dn1: new Float64Array(t.netHiddenDim),
    dn2: new Float64Array(t.netHiddenDim),
    dNetIn: new Float64Array(gridOut + inDim),
    dGrid32: new Float32Array(gridOut),
    du: new Float64Array(2),
    dDx: new Float64Array(2),
    dd1: new Float64Array(t.deformHiddenDim),
    dd2: new Float64Array(t.deformHiddenDim),
    dInput: new Float64Array(inDim),
  };
}

export function createTorsoGrads(net: TorsoNet): TorsoGrads {
  return {
    table: new Float32Array(net.grid.table.length),
    deform: [new Float64Array(net.deform[0].length), new Float64Array(net.deform[1].length), new Float64Array(net.deform[2].length)],
    net: [new Float64Array(net.net[0].length), new Float64Array(net.net[1].length), new Float64Array(net.net[2].length)],
    individual: new Float64Array(net.individual.length),
  };
}

/** Encodes the frame's pose input once per frame (as TorsoPath.setPose). */
export function torsoSetPose(net: TorsoNet, pose: ArrayLike<number>, s: TorsoSampleCache): void {
  const pose6 = new Float32Array(6);
  poseInput(pose, pose6);
  freqEncode(pose6, 6, net.config.torso!.poseDegree, s.poseEnc, 0);
}

export function torsoSampleForward(net: TorsoNet, qRow: number, qCol: number, activeLevels: number, s: TorsoSampleCache): void {
  const cfg = net.config.torso!;
  const posDim = freqEncodedDim(2, cfg.positionDegree);
  s.xy[0] = f(qRow * TORSO_SHRINK);
  s.xy[1] = f(qCol * TORSO_SHRINK);
  freqEncode(s.xy, 2, cfg.positionDegree, s.input, 0);
  s.input.set(s.poseEnc, posDim);
  s.input.set(net.individual, posDim + s.poseEnc.length);
  const D = cfg.deformHiddenDim;
  linearForward(net.deform[0], D, s.input.length, s.input, 0, s.d1, 0);
  for (let i = 0; i < D; i++) if (s.d1[i] < 0) s.d1[i] = 0;
  linearForward(net.deform[1], D, D, s.d1, 0, s.d2, 0);
  for (let i = 0; i < D; i++) if (s.d2[i] < 0) s.d2[i] = 0;
  linearForward(net.deform[2], 2, D, s.d2, 0, s.dx, 0);
  for (let k = 0; k < 2; k++) {
    const raw = f(s.xy[k] + s.dx[k]);
    s.inside[k] = raw > -1 && raw < 1 ? 1 : 0;
    const moved = Math.min(1, Math.max(-1, raw));
    s.u[k] = f(moved + 1) / 2;
  }
  const L = cfg.grid.levels;
  const C = cfg.grid.featuresPerLevel;
  encodeGrid(net.grid, s.u, s.netIn, 0);
  maskLevels(s.netIn, 0, L, C, activeLevels);
  s.netIn.set(s.input, L * C);
  const Nh = cfg.netHiddenDim;
  linearForward(net.net[0], Nh, s.netIn.length, s.netIn, 0, s.n1, 0);
  for (let i = 0; i < Nh; i++) if (s.n1[i] < 0) s.n1[i] = 0;
  linearForward(net.net[1], Nh, Nh, s.n1, 0, s.n2, 0);
  for (let i = 0; i < Nh; i++) if (s.n2[i] < 0) s.n2[i] = 0;
  linearForward(net.net[2], 4, Nh, s.n2, 0, s.out, 0);
  for (let k = 0; k < 4; k++) s.out[k] = 1 / (1 + Math.exp(-s.out[k]));
}

/** Backward of the last torsoSampleForward from dL/dalpha and dL/dcolour (3); accumulates into grads. */
export function torsoSampleBackward(net: TorsoNet, activeLevels: number, dAlpha: number, dColor: ArrayLike<number>, s: TorsoSampleCache, grads: TorsoGrads): void {
  const cfg = net.config.torso!;
  const L = cfg.grid.levels;
  const C = cfg.grid.featuresPerLevel;
  const Nh = cfg.netHiddenDim;
  const D = cfg.deformHiddenDim;
  const inDim = s.input.length;
  s.dO[0] = dAlpha * s.out[0] * (1 - s.out[0]);
  for (let k = 0; k < 3; k++) s.dO[1 + k] = dColor[k] * s.out[1 + k] * (1 - s.out[1 + k]);
  s.dn2.fill(0);
  linearBackward(net.net[2], 4, Nh, s.n2, 0, s.dO, 0, grads.net[2], s.dn2, 0);
  reluBackward(s.n2, 0, s.dn2, 0, Nh);
  s.dn1.fill(0);
  linearBackward(net.net[1], Nh, Nh, s.n1, 0, s.dn2, 0, grads.net[1], s.dn1, 0);
  reluBackward(s.n1, 0, s.dn1, 0, Nh);
  s.dNetIn.fill(0);
  linearBackward(net.net[0], Nh, s.netIn.length, s.netIn, 0, s.dn1, 0, grads.net[0], s.dNetIn, 0);

  for (let i = 0; i < L * C; i++) s.dGrid32[i] = s.dNetIn[i];
  maskLevels(s.dGrid32, 0, L, C, activeLevels);
  gridBackward(net.grid, s.u, s.dGrid32, 0, grads.table);
  s.du.fill(0);
  gridInputBackward(net.grid, s.u, s.dNetIn, 0, activeLevels, s.du);
  // u = (clamp(x + dx) + 1) / 2
  for (let k = 0; k < 2; k++) s.dDx[k] = s.inside[k] ? s.du[k] / 2 : 0;

  for (let i = 0; i < inDim; i++) s.dInput[i] = s.dNetIn[L * C + i];
  s.dd2.fill(0);
  linearBackward(net.deform[2], 2, D, s.d2, 0, s.dDx, 0, grads.deform[2], s.dd2, 0);
  reluBackward(s.d2, 0, s.dd2, 0, D);
  s.dd1.fill(0);
  linearBackward(net.deform[1], D, D, s.d1, 0, s.dd2, 0, grads.deform[1], s.dd1, 0);
  reluBackward(s.d1, 0, s.dd1, 0, D);
  linearBackward(net.deform[0], D, inDim, s.input, 0, s.dd1, 0, grads.deform[0], s.dInput, 0);
  // Only the torso code is a parameter among the inputs (coordinates and pose are data).
  const codeOff = inDim - net.individual.length;
  for (let i = 0; i < net.individual.length; i++) grads.individual[i] += s.dInput[codeOff + i];
}
