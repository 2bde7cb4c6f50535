import { describe, expect, it } from 'vitest';
import { applyDensityProbes } from '../../trainer/nerf/gpu/occupancy-refresh.ts';
import { ConfigError } from '../../worker/errors.ts';

describe('occupancy refresh bookkeeping of the WebGPU backend', () => {
  it('keeps the larger of the decayed and the probed density, skips unseen cells, thresholds at min(mean, cap)', () => {
    const density = Float32Array.from([0, 4, -1, 10, 2, 0, 0, 0]);
    const bits = new Uint8Array(1);
    const stats = applyDensityProbes(density, bits, Uint32Array.from([0, 1, 2, 3]), Float32Array.from([3, 1, 50, 1]), 0.5, 10);
    // cell 0: max(0, 3) = 3; cell 1: max(2, 1) = 2; cell 2 unseen stays -1; cell 3: max(5, 1) = 5.
    expect(Array.from(density)).toEqual([3, 2, -1, 5, 2, 0, 0, 0]);
    expect(stats.meanDensity).toBeCloseTo(12 / 8, 6);
    expect(stats.threshold).toBeCloseTo(1.5, 6);
    // Cells above 1.5: 0, 1, 3, 4.
    expect(bits[0]).toBe(0b00011011);
    expect(stats.occupiedFraction).toBe(0.5);
    const capped = applyDensityProbes(density, bits, new Uint32Array(0), new Float32Array(0), 1, 0.1);
    expect(capped.threshold).toBeCloseTo(0.1, 6);
  });

  it('rejects a probed cell outside the grid and mismatched sizes, naming them', () => {
    const density = new Float32Array(8);
    expect(() => applyDensityProbes(density, new Uint8Array(1), Uint32Array.from([8]), Float32Array.from([1]), 0.9, 10)).toThrow(/cells\[0\]: 8 is outside the 8-cell grid/);
    expect(() => applyDensityProbes(density, new Uint8Array(2), new Uint32Array(0), new Float32Array(0), 0.9, 10)).toThrow(ConfigError);
    expect(() => applyDensityProbes(density, new Uint8Array(1), Uint32Array.from([1]), new Float32Array(0), 0.9, 10)).toThrow(/0 densities for 1 probed cells/);
  });
});
