/**
 * How the WebGPU trainer sizes its ray sub-batches (trainer/nerf/gpu/batch-split.ts): the
 * official preset's 65,536 rays do not fit one batch under common adapter limits, and the
 * split keeps every per-batch buffer under them.
 */
import { describe, expect, it } from 'vitest';
import { officialConfig } from '../../worker/avatar/config.ts';
import { getPreset } from '../../trainer/nerf/presets.ts';
import { batchRayLimit, headBytesPerSample, rayChunks } from '../../trainer/nerf/gpu/batch-split.ts';

describe('ray sub-batches', () => {
  const official = officialConfig({ eyeInput: true, torso: true });

  it('official: ~2.2 GB of head activations at 65,536 rays, so it splits under a 2 GiB or 128 MiB binding limit', () => {
    const perSample = headBytesPerSample(official);
    // acts: 4 + 65 + 4*64 + 65 + 84 + 64 floats per sample slot.
    expect(perSample).toBe(4 * (4 + 65 + 4 * 64 + 65 + 84 + 64 + 4 / 256));
    const whole = perSample * official.march.maxSteps * 65536;
    expect(whole).toBeGreaterThan(2.2e9);
    const big = batchRayLimit(official, { maxStorageBufferBindingSize: 2 ** 31 - 4, maxBufferSize: 2 ** 32 });
    expect(big).toBeLessThan(65536);
    expect(big * perSample * official.march.maxSteps).toBeLessThanOrEqual(2 ** 31 - 4);
    const small = batchRayLimit(official, { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 });
    expect(small).toBeGreaterThan(1000);
    expect(small * perSample * official.march.maxSteps).toBeLessThanOrEqual(128 * 2 ** 20);
    // The smaller of the two limits governs.
    expect(batchRayLimit(official, { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 128 * 2 ** 20 })).toBe(small);
  });

  it('tiny: a whole step fits one batch', () => {
    const tiny = getPreset('tiny');
    const cfg = tiny.config({ eyeInput: true, torso: true });
    expect(batchRayLimit(cfg, { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 })).toBeGreaterThan(tiny.schedule.rays);
  });

  it('chunks cover every ray once, in order, none over the limit', () => {
    expect(rayChunks(40, 16)).toEqual([{ first: 0, count: 16 }, { first: 16, count: 16 }, { first: 32, count: 8 }]);
    expect(rayChunks(16, 16)).toEqual([{ first: 0, count: 16 }]);
    expect(() => rayChunks(4, 0)).toThrow(/positive limit/);
    expect(() => batchRayLimit(official, { maxStorageBufferBindingSize: 1000, maxBufferSize: 1000 })).toThrow(/too small to train on/);
  });
});
