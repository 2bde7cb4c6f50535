/**
 * CPU reference of the grid encoding's backward pass (model-spec §4): the gradient of the loss
 * with respect to the hash/tiled tables, given the gradient with respect to the encoder's output.
 *
 * The forward (worker/model/grid.ts, encodeGrid) is linear in the table:
 *   out[l*C + ch] = sum over the 2^dims corners k of w_k * table[(offset_l + index_k)*C + ch]
 * so d loss / d table[(offset_l + index_k)*C + ch] += w_k * dOut[l*C + ch]. Two corners of one
 * sample can land on the same row (hash collisions, or z dropping out of a tiled index), and so
 * can corners of different samples: both simply add, which is why this accumulates into dTable
 * instead of overwriting it. The GPU scatter (trainer/nerf/gpu/) is checked against this.
 *
 * No gradient flows to u: neither encoder of R2-Talker trains its inputs (sample positions and
 * landmark coordinates are data), as in the reference's GridEncoder called without input grads.
 */
import { gridIndex, type PreparedGrid } from '../../../worker/model/grid.ts';
import { ConfigError } from '../../../worker/errors.ts';

// Module-level scratch: gridBackward runs once per sample, so it must not allocate.
const corner = new Uint32Array(3);
const vertex = new Uint32Array(3);
const frac = new Float64Array(3);

/**
 * Adds d loss / d table to dTable for one encoded point u. dOut holds d loss / d out at
 * dOut[dOutOffset .. dOutOffset + levels*featuresPerLevel), level-major like encodeGrid's output.
 * A point with any coordinate outside [0,1] (or NaN) encoded to zeros and contributes nothing.
 * dTable may be a Float64Array to get a reference sum without float32 accumulation error (the
 * GPU scatter is measured against it). Weights are rounded as the forward rounds them, so the
 * result is the exact transpose of the forward up to the rounding of each sum.
 */
export function gridBackward(grid: PreparedGrid, u: ArrayLike<number>, dOut: Float32Array, dOutOffset: number, dTable: Float32Array | Float64Array): void {
  const cfg = grid.config;
  const dims = cfg.inputDim;
  const C = cfg.featuresPerLevel;
  const L = cfg.levels;
  if (dTable.length !== grid.table.length) {
    throw new ConfigError(`gridBackward.dTable: expected ${grid.table.length} float32 values (same layout as grid.table), got ${dTable.length}`);
  }
  if (!Number.isInteger(dOutOffset) || dOutOffset < 0 || dOutOffset + L * C > dOut.length) {
    throw new ConfigError(`gridBackward.dOutOffset: ${dOutOffset} + ${L * C} outputs does not fit dOut of length ${dOut.length}`);
  }
  if (u.length < dims) throw new ConfigError(`gridBackward.u: expected ${dims} coordinates, got ${u.length}`);
  for (let d = 0; d < dims; d++) {
    const v = u[d];
    if (!(v >= 0 && v <= 1)) return;
  }
  const corners = 1 << dims;
  for (let l = 0; l < L; l++) {
    const scale = grid.scale[l];
    for (let d = 0; d < dims; d++) {
      // Same single-rounding position as the forward (fma in the CUDA kernel).
      const pos = Math.fround(u[d] * scale + 0.5);
      const c = Math.floor(pos);
      corner[d] = c;
      frac[d] = pos - c;
    }
    const base = grid.offsets[l];
    const g = dOutOffset + l * C;
    for (let k = 0; k < corners; k++) {
      let w = 1;
      for (let d = 0; d < dims; d++) {
        if ((k & (1 << d)) === 0) {
          w = Math.fround(w * Math.fround(1 - frac[d]));
          vertex[d] = corner[d];
        } else {
          w = Math.fround(w * frac[d]);
          vertex[d] = corner[d] + 1;
        }
      }
      if (w === 0) continue;
      const row = (base + gridIndex(grid, l, vertex)) * C;
      for (let ch = 0; ch < C; ch++) dTable[row + ch] += w * dOut[g + ch];
    }
  }
}
