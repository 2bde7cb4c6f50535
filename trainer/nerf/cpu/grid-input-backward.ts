/**
 * Gradient of the grid encoding with respect to its input u (the torso needs it: the deform
 * net moves the point the 2-D torso grid is read at, so its gradient flows through u; the head
 * and landmark encoders take data as input and need only the table gradient of
 * ./grid-backward.ts).
 *
 * Within one level the output is multilinear in frac = u*scale_l + 0.5 - corner, so
 *   d out / d u_d = scale_l * sum_k t_k * (d w_k / d frac_d),
 * d w_k / d frac_d = (+1 if corner k takes the upper vertex in d else -1) * prod_{e != d} w_k,e.
 * The derivative is taken inside the cell (floor is locally constant); at a cell boundary it is
 * the one-sided value of the cell the forward picked. Outside [0,1] the forward is 0: gradient 0.
 */
import { ConfigError } from '../../../worker/errors.ts';
import { gridIndex, type PreparedGrid } from '../../../worker/model/grid.ts';

const corner = new Uint32Array(3);
const vertex = new Uint32Array(3);
const frac = new Float64Array(3);

/** Adds sum over outputs of dOut[o] * d out[o] / d u[d] to du[d] (d < inputDim); levels >= activeLevels are skipped. */
export function gridInputBackward(grid: PreparedGrid, u: ArrayLike<number>, dOut: ArrayLike<number>, dOutOffset: number, activeLevels: number, du: Float64Array): void {
  const cfg = grid.config;
  const dims = cfg.inputDim;
  const C = cfg.featuresPerLevel;
  if (du.length < dims) throw new ConfigError(`gridInputBackward.du: expected ${dims} values, got ${du.length}`);
  for (let d = 0; d < dims; d++) {
    const v = u[d];
    if (!(v >= 0 && v <= 1)) return;
  }
  const table = grid.table;
  const corners = 1 << dims;
  const L = Math.min(activeLevels, cfg.levels);
  for (let l = 0; l < L; l++) {
    const scale = grid.scale[l];
    for (let d = 0; d < dims; d++) {
      const pos = Math.fround(u[d] * scale + 0.5);
      const c = Math.floor(pos);
      corner[d] = c;
      frac[d] = pos - c;
    }
    const base = grid.offsets[l];
    const g = dOutOffset + l * C;
    for (let k = 0; k < corners; k++) {
      for (let d = 0; d < dims; d++) vertex[d] = (k & (1 << d)) === 0 ? corner[d] : corner[d] + 1;
      const row = (base + gridIndex(grid, l, vertex)) * C;
      let dot = 0;
      for (let ch = 0; ch < C; ch++) dot += dOut[g + ch] * table[row + ch];
      if (dot === 0) continue;
      for (let d = 0; d < dims; d++) {
        let w = (k & (1 << d)) === 0 ? -1 : 1;
        for (let e = 0; e < dims; e++) {
          if (e === d) continue;
          w *= (k & (1 << e)) === 0 ? 1 - frac[e] : frac[e];
        }
        du[d] += scale * w * dot;
      }
    }
  }
}
