/**
 * The avatar's tensors converted once into the float32 arrays the CPU model reads
 * (model-spec §8 names, [out, in] Linear weights).
 */
import { f16round } from '@petamoriken/float16';
import { expectedTensors, validateCamera, validateModelConfig, type ModelConfig } from '../avatar/config.ts';
import { toFloat32 } from '../avatar/tensor.ts';
import type { Avatar, Tensor } from '../avatar/types.ts';
import { FormatError } from '../errors.ts';
import { prepareGrid, type PreparedGrid } from './grid.ts';
import { torsoDensityThreshold } from './torso.ts';

/** The reference's opt.density_thresh_torso: the torso occupancy threshold is min(this, mean). */
export const TORSO_DENSITY_THRESHOLD = 0.01;

type Mlp3 = [Float32Array, Float32Array, Float32Array];

export interface TorsoWeights {
  /** torso_deform_net.net.{0,1,2}.weight */
  deform: Mlp3;
  /** torso_net.net.{0,1,2}.weight */
  net: Mlp3;
  /** individual_code_torso (row 0 of individual_codes_torso). */
  individual: Float32Array;
  /** density_grid_torso, densityResolution^2 values, row-major [y][x] as the reference views it. */
  densityGrid: Float32Array;
  /** min(TORSO_DENSITY_THRESHOLD, mean of densityGrid) (§7). */
  densityThreshold: number;
}

export interface ModelWeights {
  config: ModelConfig;
  headGrid: PreparedGrid;
  lmGrid: PreparedGrid;
  torsoGrid: PreparedGrid | null;
  /** sigma_net.net.{0,1,2}.weight */
  sigma: Mlp3;
  /** color_net.net.{0,1}.weight */
  color: [Float32Array, Float32Array];
  /** mlp_lms_style_{1,2}.net.{0,1,2}.weight */
  film: [Mlp3, Mlp3];
  /** individual_code (row 0 of individual_codes). */
  individual: Float32Array;
  /** density_bitfield, Morton order, gridResolution^3 / 8 bytes. */
  bitfield: Uint8Array;
  torso: TorsoWeights | null;
  /** H*W*3, image/255 rounded to float16 then back to float32 (§7b.11). */
  background: Float32Array;
  width: number;
  height: number;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function checkTensor(avatar: Avatar, name: string, shape: readonly number[], dtypes: readonly string[]): Tensor {
  const t = avatar.tensors.get(name);
  const field = `tensors.${name}`;
  if (!t) throw FormatError.avatar(field, 'missing');
  if (!dtypes.includes(t.dtype)) throw FormatError.expected('AVATAR_FORMAT', field, `dtype ${dtypes.join(' or ')}`, t.dtype);
  if (!Array.isArray(t.shape) || !sameShape(t.shape, shape)) {
    throw FormatError.expected('AVATAR_FORMAT', field, `shape [${shape.join(',')}]`, Array.isArray(t.shape) ? `[${t.shape.join(',')}]` : String(t.shape));
  }
  if (!t.data || t.data.length !== elementCount(shape)) {
    throw FormatError.expected('AVATAR_FORMAT', field, `${elementCount(shape)} elements`, String(t.data?.length));
  }
  return t;
}

/** Background as the reference feeds it: float32(v/255) rounded to float16 (the test loader's .half()). */
export function backgroundFromBytes(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = f16round(Math.fround(rgb[i] / 255));
  return out;
}

export function loadModelWeights(avatar: Avatar): ModelWeights {
  const config = avatar.config;
  validateModelConfig(config);
  validateCamera(avatar.camera);
  const specs = new Map(expectedTensors(config).map((s) => [s.name, s]));
  const f32 = (name: string): Float32Array => {
    const spec = specs.get(name);
    if (!spec) throw FormatError.avatar(`tensors.${name}`, 'not expected by this config');
    return toFloat32(checkTensor(avatar, name, spec.shape, spec.dtypes));
  };
  const { width, height } = avatar.camera;
  const bg = checkTensor(avatar, 'background', [height, width, 3], ['uint8']);
  const bitfieldSpec = specs.get('density_bitfield');
  if (!bitfieldSpec) throw FormatError.avatar('tensors.density_bitfield', 'not expected by this config');
  const bitfield = checkTensor(avatar, 'density_bitfield', bitfieldSpec.shape, ['uint8']).data as Uint8Array;

  let torso: TorsoWeights | null = null;
  let torsoGrid: PreparedGrid | null = null;
  if (config.torso) {
    const densityGrid = f32('density_grid_torso');
    torsoGrid = prepareGrid(config.torso.grid, f32('torso_encoder.embeddings'));
    torso = {
      deform: [f32('torso_deform_net.net.0.weight'), f32('torso_deform_net.net.1.weight'), f32('torso_deform_net.net.2.weight')],
      net: [f32('torso_net.net.0.weight'), f32('torso_net.net.1.weight'), f32('torso_net.net.2.weight')],
      individual: f32('individual_code_torso'),
      densityGrid,
      densityThreshold: torsoDensityThreshold(densityGrid, TORSO_DENSITY_THRESHOLD),
    };
  }
  const mlp = (prefix: string): Mlp3 => [f32(`${prefix}.net.0.weight`), f32(`${prefix}.net.1.weight`), f32(`${prefix}.net.2.weight`)];
  return {
    config,
    headGrid: prepareGrid(config.head.grid, f32('encoder.embeddings')),
    lmGrid: prepareGrid(config.condition.grid, f32('encoder_idexp_lm3d.embeddings')),
    torsoGrid,
    sigma: mlp('sigma_net'),
    color: [f32('color_net.net.0.weight'), f32('color_net.net.1.weight')],
    film: [mlp('mlp_lms_style_1'), mlp('mlp_lms_style_2')],
    individual: f32('individual_code'),
    bitfield,
    torso,
    background: backgroundFromBytes(bg.data as Uint8Array),
    width,
    height,
  };
}
