/**
 * The occupancy refresh's bookkeeping once the densities of the probed cells are known (the
 * WebGPU backend evaluates them on the GPU in chunks): the reference's update_extra_state, as
 * trainer/nerf/cpu/backend.ts updateOccupancy applies it, which the backend test compares with.
 * A cell holding -1 (seen by no training camera) stays untouched; every probed cell keeps the
 * larger of its decayed density and the new one; the threshold is min(mean density, cap).
 */
import type { OccupancyStats } from '../backend.ts';
import { ConfigError } from '../../../worker/errors.ts';

export function applyDensityProbes(density: Float32Array, bitfield: Uint8Array, cells: Uint32Array, sigmas: Float32Array, decay: number, thresholdCap: number): OccupancyStats {
  const total = density.length;
  if (bitfield.length * 8 !== total) throw new ConfigError(`occupancy: bitfield of ${bitfield.length} bytes does not cover ${total} cells`);
  if (sigmas.length !== cells.length) throw new ConfigError(`occupancy: ${sigmas.length} densities for ${cells.length} probed cells`);
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (!(cell < total)) throw new ConfigError(`updateOccupancy.cells[${i}]: ${cell} is outside the ${total}-cell grid`);
    if (density[cell] < 0) continue;
    density[cell] = Math.max(density[cell] * decay, sigmas[i]);
  }
  let sum = 0;
  for (let i = 0; i < total; i++) sum += Math.max(0, density[i]);
  const mean = sum / total;
  const threshold = Math.min(mean, thresholdCap);
  bitfield.fill(0);
  let occupied = 0;
  for (let i = 0; i < total; i++) {
    if (density[i] > threshold) {
      bitfield[i >>> 3] |= 1 << (i & 7);
      occupied++;
    }
  }
  return { meanDensity: mean, threshold, occupiedFraction: occupied / total };
}
