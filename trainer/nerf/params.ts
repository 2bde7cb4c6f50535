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
