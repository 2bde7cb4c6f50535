import { describe, expect, it } from 'vitest';
import { defaultOffsets, type GridConfig } from '../../worker/avatar/config.ts';
import { ConfigError } from '../../worker/errors.ts';
import { encodeGrid, gridOutputDim, prepareGrid, type PreparedGrid } from '../../worker/model/grid.ts';
import { gridBackward } from '../../trainer/nerf/cpu/grid-backward.ts';
import { mulberry32 } from '../helpers/tiny-avatar.ts';
import { oneLevelGrid } from '../helpers/model-fixtures.ts';

function randomArray(n: number, rand: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

/** loss = sum_i <dOut_i, encode(u_i)>, in float64, so d loss / d out_i = dOut_i. */
function loss(grid: PreparedGrid, points: number[][], dOut: Float32Array): number {
  const D = gridOutputDim(grid.config);
  const out = new Float32Array(D);
  let s = 0;
  points.forEach((u, i) => {
    encodeGrid(grid, u, out);
    for (let j = 0; j < D; j++) s += out[j] * dOut[i * D + j];
  });
  return s;
}

/** Central finite differences over every table entry (the forward is linear, so eps can be large). */
function finiteDifferences(grid: PreparedGrid, points: number[][], dOut: Float32Array, eps = 0.125): Float64Array {
  const fd = new Float64Array(grid.table.length);
  for (let i = 0; i < grid.table.length; i++) {
    const keep = grid.table[i];
    grid.table[i] = keep + eps;
    const plus = loss(grid, points, dOut);
    grid.table[i] = keep - eps;
    const minus = loss(grid, points, dOut);
    grid.table[i] = keep;
    fd[i] = (plus - minus) / (2 * eps);
  }
  return fd;
}

function analytic(grid: PreparedGrid, points: number[][], dOut: Float32Array): Float32Array {
  const D = gridOutputDim(grid.config);
  const dTable = new Float32Array(grid.table.length);
  points.forEach((u, i) => gridBackward(grid, u, dOut, i * D, dTable));
  return dTable;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  let worst = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    norm = Math.max(norm, Math.abs(b[i]));
  }
  expect(norm).toBeGreaterThan(0);
  expect(worst / norm).toBeLessThan(tol);
}

describe('gridBackward (CPU reference)', () => {
  it('puts the trilinear weights times dOut on the 8 corner rows of a tiled 3-D grid', () => {
    // Scale 3, side 5: u = (0.5, 0.25, 1) sits at pos (2, 1.25, 3.5).
    const cfg = oneLevelGrid(3, 2, 4);
    const grid = prepareGrid(cfg, new Float32Array(128 * 2));
    const dTable = new Float32Array(128 * 2);
    gridBackward(grid, [0.5, 0.25, 1], Float32Array.from([3, -2]), 0, dTable);
    const expected = new Float32Array(256);
    for (let k = 0; k < 8; k++) {
      const [dx, dy, dz] = [k & 1, (k >> 1) & 1, (k >> 2) & 1];
      const w = (dx ? 0 : 1) * (dy ? 0.25 : 0.75) * 0.5;
      const row = 2 + dx + 5 * (1 + dy) + 25 * (3 + dz);
      expected[row * 2] += w * 3;
      expected[row * 2 + 1] += w * -2;
    }
    expect(Array.from(dTable)).toEqual(Array.from(expected));
  });

  it('matches finite differences on a 2-level tiled 3-D grid', () => {
    const rand = mulberry32(11);
    const cfg: GridConfig = { inputDim: 3, levels: 2, featuresPerLevel: 2, baseResolution: 2, finestResolution: 3, gridType: 'tiled', offsets: defaultOffsets(3, 2, 2, 3, 12) };
    const grid = prepareGrid(cfg, randomArray(cfg.offsets[2] * 2, rand));
    const points = Array.from({ length: 12 }, () => [rand(), rand(), rand()]);
    const dOut = randomArray(points.length * gridOutputDim(cfg), rand);
    expectClose(analytic(grid, points, dOut), finiteDifferences(grid, points, dOut), 1e-5);
  });

  it('sums colliding corners on a 3-level hash grid of 64 rows per level (many collisions)', () => {
    const rand = mulberry32(5);
    const cfg: GridConfig = { inputDim: 3, levels: 3, featuresPerLevel: 2, baseResolution: 4, finestResolution: 16, gridType: 'hash', offsets: defaultOffsets(3, 3, 4, 16, 6) };
    const rows = cfg.offsets[3];
    expect(rows).toBe(3 * 64);
    const grid = prepareGrid(cfg, randomArray(rows * 2, rand));
    const points = Array.from({ length: 40 }, () => [rand(), rand(), rand()]);
    const dOut = randomArray(points.length * gridOutputDim(cfg), rand);
    const dTable = analytic(grid, points, dOut);
    // 40 points x 3 levels x 8 corners = 960 contributions into 192 rows: most rows get several.
    expectClose(dTable, finiteDifferences(grid, points, dOut), 1e-5);
  });

  it('matches finite differences on a 2-D torso-style grid', () => {
    const rand = mulberry32(9);
    const cfg: GridConfig = { inputDim: 2, levels: 2, featuresPerLevel: 2, baseResolution: 4, finestResolution: 8, gridType: 'hash', offsets: defaultOffsets(2, 2, 4, 8, 5) };
    const grid = prepareGrid(cfg, randomArray(cfg.offsets[2] * 2, rand));
    const points = Array.from({ length: 20 }, () => [rand(), rand()]);
    const dOut = randomArray(points.length * gridOutputDim(cfg), rand);
    expectClose(analytic(grid, points, dOut), finiteDifferences(grid, points, dOut), 1e-5);
  });

  it('adds to dTable rather than overwriting it, and ignores points outside [0,1]', () => {
    const cfg = oneLevelGrid(3, 1, 4);
    const grid = prepareGrid(cfg, new Float32Array(cfg.offsets[1]));
    const dTable = new Float32Array(cfg.offsets[1]).fill(1);
    gridBackward(grid, [1.01, 0.5, 0.5], Float32Array.from([5]), 0, dTable);
    gridBackward(grid, [0.5, Number.NaN, 0.5], Float32Array.from([5]), 0, dTable);
    expect(dTable.every((v) => v === 1)).toBe(true);
    gridBackward(grid, [0.5, 0.5, 0.5], Float32Array.from([5]), 0, dTable);
    let sum = 0;
    for (const v of dTable) sum += v - 1;
    // The 8 weights sum to 1, so the gradient mass added equals dOut.
    expect(sum).toBeCloseTo(5, 5);
  });

  it('rejects a dTable of the wrong length and a dOutOffset past the end, naming them', () => {
    const cfg = oneLevelGrid(3, 2, 4);
    const grid = prepareGrid(cfg, new Float32Array(256));
    expect(() => gridBackward(grid, [0.5, 0.5, 0.5], new Float32Array(2), 0, new Float32Array(10))).toThrow(ConfigError);
    expect(() => gridBackward(grid, [0.5, 0.5, 0.5], new Float32Array(2), 0, new Float32Array(10))).toThrow(/dTable/);
    expect(() => gridBackward(grid, [0.5, 0.5, 0.5], new Float32Array(2), 1, new Float32Array(256))).toThrow(/dOutOffset/);
    expect(() => gridBackward(grid, [0.5, 0.5], new Float32Array(2), 0, new Float32Array(256))).toThrow(/gridBackward\.u/);
  });
});
