/**
 * The trainable parameter groups of a model config and their initial values.
 *
 * Names are the avatar tensor names of expectedTensors(config), so a trained set is written
 * as an .r2t as is. Fields that are not trained by gradient (the occupancy bitfield, the torso
 * density grid, the background, the poses) are not groups: the loop maintains them.
 *
 * Initialisation follows the reference modules: grid tables uniform in +-1e-4 (torch-ngp's
 * GridEncoder.reset_parameters), bias-free Linear layers uniform in +-1/sqrt(fan_in) (torch's
 * default), individual codes N(0, 0.1^2) (RAD-NeRF's torch.randn * 0.1).
 */
import { expectedTensors, type ModelConfig } from '../../worker/avatar/config.ts';
import { float16BitsToFloat32 } from '../../worker/avatar/tensor.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { ConfigError } from '../../worker/errors.ts';
import type { ParamGroupSpec, ParamSet } from './backend.ts';
import type { Rng } from './rng.ts';

const NOT_TRAINED = new Set(['density_bitfield', 'density_grid_torso']);

export function paramGroups(config: ModelConfig): ParamGroupSpec[] {
  const out: ParamGroupSpec[] = [];
  for (const spec of expectedTensors(config)) {
    if (NOT_TRAINED.has(spec.name)) continue;
    const length = spec.shape.reduce((a, b) => a * b, 1);
    const kind = spec.name.endsWith('.embeddings') ? 'grid' : 'mlp';
    const stage = spec.name.startsWith('torso') || spec.name === 'individual_code_torso' ? 'torso' : 'head';
    out.push({ name: spec.name, kind, length, stage });
  }
  return out;
}

/** fan_in of a [out, in] Linear weight from its avatar tensor shape. */
function fanIn(config: ModelConfig, name: string): number {
  const spec = expectedTensors(config).find((s) => s.name === name);
  return spec && spec.shape.length === 2 ? spec.shape[1] : 1;
}

export function initParams(config: ModelConfig, rng: Rng): ParamSet {
  const params: ParamSet = new Map();
  for (const g of paramGroups(config)) {
    const a = new Float32Array(g.length);
    if (g.kind === 'grid') {
      for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * 1e-4;
    } else if (g.name.startsWith('individual_code')) {
      for (let i = 0; i < a.length; i++) a[i] = 0.1 * rng.normal();
    } else {
      const bound = 1 / Math.sqrt(fanIn(config, g.name));
      for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * bound;
    }
    params.set(g.name, a);
  }
  return params;
}

export function cloneParams(p: ParamSet): ParamSet {
  return new Map([...p].map(([k, v]) => [k, v.slice()]));
}

/**
 * Starting weights for the head field taken from a trained avatar (a "prior"): every head-stage
 * group of `config` (head grid and networks, landmark encoder, conditioning MLPs, individual
 * code) copied from `avatar`'s tensor of the same name. On the tiny preset, 4 steps a stage from
 * random weights leave the mouth still (landmarks change no pixel by even one level); from a
 * prior whose landmarks and camera are like the new subject's, the same steps give a mouth that
 * opens with the landmarks. Landmarks far from the prior's (another preparation) land in
 * landmark-grid cells the prior never trained, whose features are ~0: no mouth carries over.
 * The torso groups are left out: the torso is drawn in the prior's own image frame. The avatar
 * must have the same architecture (same preset): the error names the first tensor that does not
 * fit.
 */
export function headParamsFromAvatar(config: ModelConfig, avatar: Avatar, what = 'the prior avatar'): ParamSet {
  const params: ParamSet = new Map();
  for (const g of paramGroups(config)) {
    if (g.stage !== 'head') continue;
    const t = avatar.tensors.get(g.name);
    if (!t) throw new ConfigError(`${what} (${avatar.name}) has no tensor ${g.name}: it was made with another model; start from an avatar of the same preset`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== g.length) throw new ConfigError(`${what} (${avatar.name}): ${g.name} has ${count} values where this preset has ${g.length}: it was made with another preset`);
    const data = t.dtype === 'float16' ? float16BitsToFloat32(t.data as Uint16Array) : t.dtype === 'float32' ? (t.data as Float32Array).slice() : null;
    if (!data) throw new ConfigError(`${what} (${avatar.name}): ${g.name} is ${t.dtype}, expected float32 or float16`);
    if (!data.every(Number.isFinite)) throw new ConfigError(`${what} (${avatar.name}): ${g.name} holds a value that is not a finite number`);
    params.set(g.name, data);
  }
  return params;
}
