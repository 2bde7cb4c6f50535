/**
 * The head and torso MLP weights of an avatar in one storage buffer (float32 or float16), with
 * the element offset of every tensor; the offsets become WGSL consts (the loop kernels read
 * them; the conditioning MLPs have their own vec4-chunked buffer, condition-pass.ts). Grid tables get their own buffers
 * (they are large and read with a different pattern).
 */
import type { Avatar, Tensor } from '../avatar/types.ts';
import { expectedTensors } from '../avatar/config.ts';
import { float32ToFloat16Bits, toFloat32 } from '../avatar/tensor.ts';
import { FormatError } from '../errors.ts';

export type WeightPrecision = 'f32' | 'f16';

/** Tensor name -> WGSL const holding its offset in the packed weight buffer. */
export const PACKED: Record<string, string> = {
  'sigma_net.net.0.weight': 'W_SIG0',
  'sigma_net.net.1.weight': 'W_SIG1',
  'sigma_net.net.2.weight': 'W_SIG2',
  'color_net.net.0.weight': 'W_COL0',
  'color_net.net.1.weight': 'W_COL1',
  individual_code: 'W_IND',
  'torso_deform_net.net.0.weight': 'W_TD0',
  'torso_deform_net.net.1.weight': 'W_TD1',
  'torso_deform_net.net.2.weight': 'W_TD2',
  'torso_net.net.0.weight': 'W_TN0',
  'torso_net.net.1.weight': 'W_TN1',
  'torso_net.net.2.weight': 'W_TN2',
};

export interface PackedWeights {
  /** Raw bytes for the GPU buffer, padded to a multiple of 4. */
  bytes: Uint8Array;
  offsets: Record<string, number>;
  elements: number;
  precision: WeightPrecision;
}

/** Returns the tensor as float32, checking it against the config's expected shape. */
export function tensorF32(avatar: Avatar, name: string): Float32Array {
  const t: Tensor | undefined = avatar.tensors.get(name);
  if (!t) throw FormatError.avatar(`tensors.${name}`, 'missing');
  const spec = expectedTensors(avatar.config).find((s) => s.name === name);
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (spec && (spec.shape.length !== t.shape.length || spec.shape.some((v, i) => v !== t.shape[i]))) {
    throw FormatError.expected('AVATAR_FORMAT', `tensors.${name}.shape`, `[${spec.shape.join(',')}]`, `[${t.shape.join(',')}]`);
  }
  if (t.data.length !== count) throw FormatError.expected('AVATAR_FORMAT', `tensors.${name}.data`, `${count} elements`, `${t.data.length}`);
  return toFloat32(t);
}

export function packWeights(avatar: Avatar, precision: WeightPrecision): PackedWeights {
  const names = Object.keys(PACKED).filter((n) => avatar.config.torso !== null || !n.startsWith('torso'));
  const parts: Float32Array[] = [];
  const offsets: Record<string, number> = {};
  let total = 0;
  for (const name of names) {
    const data = tensorF32(avatar, name);
    offsets[PACKED[name]] = total;
    parts.push(data);
    total += data.length;
  }
  const all = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return { bytes: encodeValues(all, precision), offsets, elements: total, precision };
}

export function encodeValues(values: Float32Array, precision: WeightPrecision): Uint8Array {
  if (precision === 'f32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const half = float32ToFloat16Bits(values);
  const padded = new Uint16Array(half.length + (half.length & 1));
  padded.set(half);
  return new Uint8Array(padded.buffer);
}
