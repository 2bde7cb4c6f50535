import { describe, expect, it } from 'vitest';
import { defaultOffsets, gridLevelParams, officialConfig, type GridConfig } from '../../worker/avatar/config.ts';
import { ConfigError } from '../../worker/errors.ts';
import { encodeGrid, gridIndex, prepareGrid } from '../../worker/model/grid.ts';
import { mulberry32 } from '../helpers/tiny-avatar.ts';
import { oneLevelGrid } from '../helpers/model-fixtures.ts';

function randomTable(rows: number, features: number, seed = 7): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: rows * features }, () => rand() * 2 - 1);
}

/** Independent u32 reference of the prime-XOR hash, in BigInt. */
function bigHash(p: number[]): number {
  const primes = [1n, 2654435761n, 805459861n];
  let r = 0n;
  p.forEach((v, d) => {
    r ^= (BigInt(v) * primes[d]) & 0xffffffffn;
  });
  return Number(r & 0xffffffffn);
}

describe('grid level parameters', () => {
  it('official 3-D grids have R = 32..2048 and 1,018,984 rows (35944 then 65536 x 15)', () => {
    const g = officialConfig().head.grid;
    const { resolution, tableSize } = gridLevelParams(g);
    expect(Array.from(resolution)).toEqual([32, 43, 56, 74, 98, 128, 169, 223, 295, 389, 512, 676, 892, 1177, 1553, 2048]);
    expect(tableSize[0]).toBe(35944);
    for (let l = 1; l < 16; l++) expect(tableSize[l]).toBe(65536);
    expect(g.offsets[16]).toBe(1018984);
    expect(officialConfig().condition.grid.offsets[16]).toBe(1018984);
  });

  it('official torso grid has the listed per-level rows, 555,520 in all', () => {
    const offsets = defaultOffsets(2, 16, 16, 2048, 16);
    const rows = offsets.slice(1).map((o, i) => o - offsets[i]);
    expect(rows).toEqual([296, 576, 1024, 1936, 3600, 6728, 12776, 24032, 45800, 65536, 65536, 65536, 65536, 65536, 65536, 65536]);
    expect(offsets[16]).toBe(555520);
  });

  it('prepareGrid rejects a table of the wrong length with ConfigError naming grid.table', () => {
    const cfg = oneLevelGrid(3, 2, 4);
    expect(() => prepareGrid(cfg, new Float32Array(10))).toThrow(ConfigError);
    expect(() => prepareGrid(cfg, new Float32Array(10))).toThrow(/grid\.table/);
  });
});

describe('tiled 3-D grid, one level, base 4 (scale 3, R 4, side 5, 128 rows)', () => {
  const cfg = oneLevelGrid(3, 2, 4);
  const table = randomTable(128, 2);
  const grid = prepareGrid(cfg, table);

  it('indexes vertices as x + 5y + 25z', () => {
    expect(grid.scale[0]).toBe(3);
    expect(grid.resolution[0]).toBe(4);
    expect(gridIndex(grid, 0, [2, 1, 3])).toBe(2 + 5 + 75);
    expect(gridIndex(grid, 0, [4, 4, 4])).toBe(124);
  });

  it('interpolates trilinearly at u = (0.5, 0.25, 1): pos (2, 1.25, 3.5)', () => {
    const out = new Float32Array(2);
    encodeGrid(grid, [0.5, 0.25, 1], out);
    const expected = [0, 0];
    for (let k = 0; k < 8; k++) {
      const [dx, dy, dz] = [k & 1, (k >> 1) & 1, (k >> 2) & 1];
      const w = (dx ? 0 : 1) * (dy ? 0.25 : 0.75) * 0.5;
      const row = 2 + dx + 5 * (1 + dy) + 25 * (3 + dz);
      for (let c = 0; c < 2; c++) expected[c] += w * table[row * 2 + c];
    }
    expect(out[0]).toBeCloseTo(expected[0], 6);
    expect(out[1]).toBeCloseTo(expected[1], 6);
  });

  it('encodes points exactly on 0 and 1 (pos 0.5 and 3.5: half-way between two vertices)', () => {
    for (const [u, c0] of [
      [0, 0],
      [1, 3],
    ] as const) {
      const out = new Float32Array(2);
      encodeGrid(grid, [u, u, u], out);
      let expected = 0;
      for (let k = 0; k < 8; k++) {
        const row = c0 + (k & 1) + 5 * (c0 + ((k >> 1) & 1)) + 25 * (c0 + ((k >> 2) & 1));
        expected += table[row * 2] / 8;
      }
      expect(out[0]).toBeCloseTo(expected, 6);
    }
  });

  it('gives all-zero features when any coordinate is outside [0, 1] or NaN, leaving other outputs alone', () => {
    for (const u of [
      [-1e-6, 0.5, 0.5],
      [0.5, 1.000001, 0.5],
      [0.5, 0.5, Number.NaN],
    ]) {
      const out = new Float32Array(4).fill(9);
      encodeGrid(grid, u, out, 1);
      expect(Array.from(out)).toEqual([9, 0, 0, 9]);
    }
  });
});

describe('a level whose (R+1)^2 exceeds the table (24 rows, side 5)', () => {
  const tiled = prepareGrid(oneLevelGrid(3, 1, 4, { rows: 24 }), randomTable(24, 1, 3));
  const hashed = prepareGrid(oneLevelGrid(3, 1, 4, { rows: 24, gridType: 'hash' }), randomTable(24, 1, 3));

  it('tiled: drops z from the index and wraps modulo the table size', () => {
    expect(gridIndex(tiled, 0, [3, 2, 4])).toBe(13);
    expect(gridIndex(tiled, 0, [4, 4, 3])).toBe(0); // 24 % 24
    expect(gridIndex(tiled, 0, [4, 4, 0])).toBe(gridIndex(tiled, 0, [4, 4, 4]));
  });

  it('hash: uses the prime-XOR hash of all three coordinates, u32 wrap-around', () => {
    for (const p of [
      [3, 2, 4],
      [4, 4, 3],
      [1, 0, 0],
      [1000, 3000, 5000],
    ]) {
      expect(gridIndex(hashed, 0, p)).toBe(bigHash(p) % 24);
    }
  });

  it('encodes with the tiled indices (z ignored)', () => {
    const out = new Float32Array(1);
    encodeGrid(tiled, [0.5, 0.5, 0.5], out); // pos (2, 2, 2) exactly: one vertex
    expect(out[0]).toBe(tiled.table[(2 + 10) % 24]);
    encodeGrid(tiled, [0.5, 0.5, 0.9], out);
    expect(out[0]).toBeCloseTo(tiled.table[12], 6);
  });

  it('hash grids whose vertices all fit use the tiled index, not the hash', () => {
    const fits = prepareGrid(oneLevelGrid(3, 1, 4, { gridType: 'hash' }), randomTable(128, 1));
    expect(gridIndex(fits, 0, [3, 2, 4])).toBe(3 + 10 + 100);
  });
});

describe('multi-level and 2-D grids', () => {
  it('writes level-major output; level 1 of base 4 / finest 8 has scale 7, R 8', () => {
    const cfg: GridConfig = { inputDim: 3, levels: 2, featuresPerLevel: 2, baseResolution: 4, finestResolution: 8, gridType: 'tiled', offsets: defaultOffsets(3, 2, 4, 8, 12) };
    expect(cfg.offsets).toEqual([0, 128, 128 + 736]);
    const table = randomTable(864, 2, 11);
    const grid = prepareGrid(cfg, table);
    expect(grid.scale[1]).toBe(7);
    expect(grid.resolution[1]).toBe(8);
    const out = new Float32Array(4);
    encodeGrid(grid, [0.5, 0.5, 0.5], out);
    // level 0: pos (2, 2, 2) -> vertex 2 + 10 + 50; level 1: pos (4, 4, 4) -> vertex 4 + 36 + 324
    expect(Array.from(out)).toEqual([table[62 * 2], table[62 * 2 + 1], table[(128 + 364) * 2], table[(128 + 364) * 2 + 1]]);
  });

  it('2-D tiled grid interpolates bilinearly with index x + 3y (base 2)', () => {
    const table = randomTable(16, 1, 5);
    const grid = prepareGrid(oneLevelGrid(2, 1, 2), table);
    const out = new Float32Array(1);
    encodeGrid(grid, [0.25, 1], out); // pos (0.75, 1.5)
    const expected = 0.25 * 0.5 * table[0 + 3] + 0.75 * 0.5 * table[1 + 3] + 0.25 * 0.5 * table[0 + 6] + 0.75 * 0.5 * table[1 + 6];
    expect(out[0]).toBeCloseTo(expected, 6);
  });
});
