/**
 * Views of a trainer parameter set as the networks the renderer runs (worker/model/): the
 * prepared grids share the parameter arrays, so an optimiser update is seen by the next
 * forward with no copy.
 */
import type { ModelConfig } from '../../../worker/avatar/config.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { prepareGrid, type PreparedGrid } from '../../../worker/model/grid.ts';
import type { ParamSet } from '../backend.ts';

export type Mlp3 = [Float32Array, Float32Array, Float32Array];

export interface HeadNet {
  config: ModelConfig;
  headGrid: PreparedGrid;
  lmGrid: PreparedGrid;
  sigma: Mlp3;
  color: [Float32Array, Float32Array];
  film: [Mlp3, Mlp3];
  individual: Float32Array;
}

export interface TorsoNet {
  config: ModelConfig;
  grid: PreparedGrid;
  deform: Mlp3;
  net: Mlp3;
  individual: Float32Array;
}

export function param(params: ParamSet, name: string): Float32Array {
  const p = params.get(name);
  if (!p) throw new ConfigError(`trainer params: missing group ${name}`);
  return p;
}

const mlp3 = (params: ParamSet, prefix: string): Mlp3 => [param(params, `${prefix}.net.0.weight`), param(params, `${prefix}.net.1.weight`), param(params, `${prefix}.net.2.weight`)];

export function headNet(config: ModelConfig, params: ParamSet): HeadNet {
  return {
    config,
    headGrid: prepareGrid(config.head.grid, param(params, 'encoder.embeddings')),
    lmGrid: prepareGrid(config.condition.grid, param(params, 'encoder_idexp_lm3d.embeddings')),
    sigma: mlp3(params, 'sigma_net'),
    color: [param(params, 'color_net.net.0.weight'), param(params, 'color_net.net.1.weight')],
    film: [mlp3(params, 'mlp_lms_style_1'), mlp3(params, 'mlp_lms_style_2')],
    individual: param(params, 'individual_code'),
  };
}

export function torsoNet(config: ModelConfig, params: ParamSet): TorsoNet {
  if (!config.torso) throw new ConfigError('trainer: the model config has no torso');
  return {
    config,
    grid: prepareGrid(config.torso.grid, param(params, 'torso_encoder.embeddings')),
    deform: mlp3(params, 'torso_deform_net'),
    net: mlp3(params, 'torso_net'),
    individual: param(params, 'individual_code_torso'),
  };
}
