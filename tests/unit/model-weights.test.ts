import { setFloat16 } from '@petamoriken/float16';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { buildAvatar, tinyCamera8, tinyModelConfig } from '../helpers/model-fixtures.ts';

function halfBits(values: number[]): Uint16Array {
  const out = new Uint16Array(values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => setFloat16(view, i * 2, v, true));
  return out;
}

describe('loadModelWeights', () => {
  const cam = tinyCamera8();

  it('converts float16 weights to float32 values', () => {
    const avatar = buildAvatar(tinyModelConfig(), cam);
    avatar.tensors.set('sigma_net.net.2.weight', { name: 'sigma_net.net.2.weight', dtype: 'float16', shape: [2, 1], data: halfBits([0.5, -1.25]) });
    expect(Array.from(loadModelWeights(avatar).sigma[2])).toEqual([0.5, -1.25]);
  });

  it('rounds the background to float16 after dividing by 255', () => {
    const bg = new Uint8Array(8 * 8 * 3).fill(1);
    const w = loadModelWeights(buildAvatar(tinyModelConfig(), cam, {}, bg));
    // 1/255 = 0.00392156...; the nearest float16 is 0.0039215087890625
    expect(w.background[0]).toBe(0.0039215087890625);
  });

  it('rejects a missing tensor with AVATAR_FORMAT naming it', () => {
    const avatar = buildAvatar(tinyModelConfig(), cam);
    avatar.tensors.delete('color_net.net.1.weight');
    expect(() => loadModelWeights(avatar)).toThrow(FormatError);
    expect(() => loadModelWeights(avatar)).toThrow(/tensors\.color_net\.net\.1\.weight: missing/);
  });

  it('rejects a tensor of the wrong shape and a background of the wrong size', () => {
    const avatar = buildAvatar(tinyModelConfig(), cam);
    avatar.tensors.set('sigma_net.net.0.weight', { name: 'sigma_net.net.0.weight', dtype: 'float32', shape: [1, 2], data: new Float32Array(2) });
    expect(() => loadModelWeights(avatar)).toThrow(/sigma_net\.net\.0\.weight: expected shape \[1,1\]/);
    const small = buildAvatar(tinyModelConfig(), cam, {}, new Uint8Array(3));
    expect(() => loadModelWeights(small)).toThrow(/tensors\.background/);
  });

  it('sets the torso threshold to min(0.01, mean torso density)', () => {
    const dense = loadModelWeights(buildAvatar(tinyModelConfig({ torso: true }), cam, { density_grid_torso: new Float32Array(64).fill(0.5) }));
    expect(dense.torso!.densityThreshold).toBe(0.01);
    const sparse = loadModelWeights(buildAvatar(tinyModelConfig({ torso: true }), cam, { density_grid_torso: Float32Array.from({ length: 64 }, (_, i) => (i === 0 ? 0.256 : 0)) }));
    expect(sparse.torso!.densityThreshold).toBeCloseTo(0.004, 7);
  });
});
