/**
 * Multi-resolution grid encoding (model-spec §4), bit-exact with the reference CUDA kernel
 * (gridencoder.cu: kernel_grid + get_grid_index + fast_hash), linear interpolation,
 * align_corners off.
 *
 * Index arithmetic is unsigned 32-bit with wrap-around, as in CUDA: `Math.imul` and `>>> 0`.
 */
import { gridLevelParams, type GridConfig, validateGridConfig } from '../avatar/config.ts';
import { ConfigError } from '../errors.ts';
import { SimdMlp, simdGridsExist } from './simd-mlp.ts';

export interface PreparedGrid {
  config: GridConfig;
  /** Per-level scale_l = exp2(l*S)*base - 1, float32 as the kernel computes it. */
  scale: Float32Array;
  /** Per-level R_l = ceil(scale_l) + 1. */
  resolution: Uint32Array;
  /** Per-level table rows: offsets[l+1] - offsets[l] (never assumed to be 2^16, §7b.12). */
  tableSize: Uint32Array;
  /** Prefix sums of tableSize, levels + 1 entries. */
  offsets: Uint32Array;
  /** rows * featuresPerLevel float32 values, row-major. */
  table: Float32Array;
}

/** Primes of the coherent hash; the first is 1 so x stays unscrambled. */
const PRIMES = [1, 2654435761, 805459861, 3674653429, 2097192037, 1434869437, 2165219737];

export function prepareGrid(config: GridConfig, table: Float32Array): PreparedGrid {
  validateGridConfig('grid', config);
  const rows = config.offsets[config.levels];
  const expected = rows * config.featuresPerLevel;
  if (!(table instanceof Float32Array) || table.length !== expected) {
    throw new ConfigError(
      `grid.table: expected ${expected} float32 values (${rows} rows x ${config.featuresPerLevel}), got ${table instanceof Float32Array ? table.length : typeof table}`,
    );
  }
  const { scale, resolution, tableSize } = gridLevelParams(config);
  return { config, scale, resolution, tableSize, offsets: Uint32Array.from(config.offsets), table };
}

/** The prime-XOR hash of gridType 'hash' (u32 products, wrap-around). */
export function fastHash(posGrid: ArrayLike<number>, dims: number): number {
  let result = 0;
  for (let d = 0; d < dims; d++) result = (result ^ Math.imul(posGrid[d] >>> 0, PRIMES[d])) >>> 0;
  return result;
}

/**
 * Row within `level` of the integer vertex `posGrid`. The stride loop stops adding dimensions
 * once the stride exceeds the table size (so z drops out where (R+1)^2 > rows); only then,
 * and only for hashed grids, the prime-XOR hash replaces the tiled index.
 */
export function gridIndex(grid: PreparedGrid, level: number, posGrid: ArrayLike<number>): number {
  const dims = grid.config.inputDim;
  const size = grid.tableSize[level];
  const side = (grid.resolution[level] + 1) >>> 0;
  let stride = 1;
  let index = 0;
  for (let d = 0; d < dims && stride <= size; d++) {
    index = (index + (Math.imul(posGrid[d] >>> 0, stride) >>> 0)) >>> 0;
    stride = Math.imul(stride, side) >>> 0;
  }
  if (grid.config.gridType === 'hash' && stride > size) index = fastHash(posGrid, dims);
  return index % size;
}

// Module-level scratch: encodeGrid runs once per sample, so it must not allocate.
const corner = new Uint32Array(3);
const vertex = new Uint32Array(3);
const frac = new Float64Array(3);

/**
 * Encodes u (inputDim coordinates, each expected in [0,1]) into out[outOffset ..
 * outOffset + levels*featuresPerLevel), level-major. Any coordinate outside [0,1] (or NaN)
 * gives all-zero features, as the kernel's out-of-bound branch does.
 */
export function encodeGrid(grid: PreparedGrid, u: ArrayLike<number>, out: Float32Array, outOffset = 0): void {
  const cfg = grid.config;
  const dims = cfg.inputDim;
  const C = cfg.featuresPerLevel;
  const L = cfg.levels;
  let outside = false;
  for (let d = 0; d < dims; d++) {
    const v = u[d];
    if (!(v >= 0 && v <= 1)) outside = true;
  }
  if (outside) {
    out.fill(0, outOffset, outOffset + L * C);
    return;
  }
  if (simdGridsExist && SimdMlp.encode(grid, u, out, outOffset)) return;
  const table = grid.table;
  const corners = 1 << dims;
  for (let l = 0; l < L; l++) {
    const scale = grid.scale[l];
    for (let d = 0; d < dims; d++) {
      // nvcc contracts u*scale + 0.5f into one fma: a single float32 rounding.
      const pos = Math.fround(u[d] * scale + 0.5);
      const c = Math.floor(pos);
      corner[d] = c;
      frac[d] = pos - c; // exact in float32
    }
    const base = grid.offsets[l];
    const o = outOffset + l * C;
    for (let ch = 0; ch < C; ch++) out[o + ch] = 0;
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
      const row = (base + gridIndex(grid, l, vertex)) * C;
      for (let ch = 0; ch < C; ch++) out[o + ch] += w * table[row + ch];
    }
  }
}

/** Width of encodeGrid's output. */
export function gridOutputDim(config: GridConfig): number {
  return config.levels * config.featuresPerLevel;
}
