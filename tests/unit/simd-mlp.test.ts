/**
 * The CPU path's WebAssembly SIMD layers (worker/model/simd-mlp.ts) and grid encoder
 * (wasm-grid.ts) against the TS code they replace: the same float32 values bit for bit, layer by
 * layer, sample by sample and picture by picture (exact and
 * fast mode, the built-in avatar and the bench's official config), and the TS path wherever the
 * kernel cannot run.
 */
import { describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { makeDemoAvatar } from '../../worker/avatar/synthetic.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { AvatarRenderer } from '../../worker/engine/avatar-renderer.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { FastCpuRenderer } from '../../worker/model/fast-renderer.ts';
import { defaultOffsets } from '../../worker/avatar/config.ts';
import { encodeGrid, prepareGrid } from '../../worker/model/grid.ts';
import { createHeadScratch } from '../../worker/model/head-field.ts';
import { linear } from '../../worker/model/mlp.ts';
import { enableSimd, SimdMlp, simdAvailable, simdFor } from '../../worker/model/simd-mlp.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { avatarSequence, resizeAvatar } from '../helpers/fast-sequence.ts';
import { officialAvatar } from '../helpers/webgpu-avatar.ts';

function mulberry(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sameBits(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) diff++;
  return a.length === b.length ? diff : Infinity;
}

/** Renders `frames` frames of a talking, moving sequence with and without the kernel (separate weights). */
function renderBoth(av: Avatar, frames: number, mode: 'exact' | 'fast'): { ts: Float32Array[]; simd: Float32Array[]; calls: number; gridCalls: number } {
  const out = { ts: [] as Float32Array[], simd: [] as Float32Array[], calls: 0, gridCalls: 0 };
  for (const simd of [false, true]) {
    const seq = avatarSequence(av, frames);
    const k = simd ? enableSimd(seq.weights) : null;
    if (simd) expect(k).not.toBeNull();
    const r = mode === 'exact' ? new CpuRenderer(seq.weights, av.camera) : new FastCpuRenderer(seq.weights, av.camera);
    for (const f of seq.frames) (simd ? out.simd : out.ts).push(r.render(f).image);
    if (k) {
      out.calls = k.calls;
      out.gridCalls = k.gridCalls;
    }
  }
  return out;
}

describe('WebAssembly SIMD layers of the CPU path', () => {
  it('this runtime has WebAssembly SIMD (Node 20, Chromium 91+)', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('linear() through the kernel gives the TS loop bits for every layer shape the configs use', () => {
    const rand = mulberry(5);
    for (const [outDim, inDim] of [[1, 1], [3, 16], [16, 13], [16, 16], [17, 16], [16, 36], [64, 33], [64, 64], [65, 64], [3, 64], [9, 7]]) {
      const W = Float32Array.from({ length: outDim * inDim }, () => (rand() - 0.5) * 4);
      const k = SimdMlp.create(outDim * inDim * 2 + 64, 4 * (inDim + outDim + 32))!;
      k.addLayer(W, outDim, inDim);
      const x = k.vector(inDim)!;
      for (let i = 0; i < inDim; i++) x[i] = (rand() - 0.5) * 10 * (i % 5 === 0 ? 1e-3 : 1);
      const y = k.vector(outDim)!;
      const calls = k.calls;
      linear(W, outDim, inDim, x, 0, y, 0);
      expect(k.calls, `${outDim}x${inDim} ran in the kernel`).toBe(calls + 1);
      const ref = new Float32Array(outDim);
      linear(W, outDim, inDim, Float32Array.from(x), 0, ref, 0); // plain arrays: the TS loop
      expect(k.calls, 'plain arrays stay on the TS loop').toBe(calls + 1);
      expect(sameBits(y, ref), `${outDim}x${inDim}`).toBe(0);
    }
  });

  it('the grid encoder gives encodeGrid() bits for tiled and hashed grids, at cell corners, edges and outside', async () => {
    const rand = mulberry(11);
    const official = loadModelWeights(officialAvatar({ size: 16 })).headGrid;
    const builtin = loadModelWeights(resizeAvatar(await loadBuiltinAvatar(), 32)).headGrid;
    // A hashed grid whose fine levels' tables are smaller than their cells (2^12 rows).
    const hashCfg = { ...official.config, gridType: 'hash' as const, offsets: defaultOffsets(3, 16, 32, 2048, 12) };
    const hashed = prepareGrid(hashCfg, Float32Array.from({ length: hashCfg.offsets[16] * hashCfg.featuresPerLevel }, () => rand() - 0.5));
    for (const grid of [builtin, official, hashed]) {
      const k = SimdMlp.create(grid.table.length + 64, 256)!;
      k.addGrid(grid);
      const u = k.vector(3)!;
      const got = k.vector(grid.config.levels * grid.config.featuresPerLevel)!;
      const want = new Float32Array(got.length);
      const special = [0, 1, 0.5, 1 / 64, 63 / 64, Math.fround(1 - 2 ** -24), 2 ** -30, -0];
      for (let n = 0; n < 3000; n++) {
        for (let d = 0; d < 3; d++) u[d] = n < 512 ? special[(n >> (3 * d)) & 7] : Math.fround(rand());
        if (n === 2999) u[1] = Math.fround(1.0000001); // outside: zeros
        const before = k.gridCalls;
        encodeGrid(grid, u, got, 0);
        encodeGrid(grid, Float32Array.from(u), want, 0);
        if (n !== 2999) expect(k.gridCalls, 'the encoder ran').toBe(before + 1);
        expect(sameBits(got, want), `${grid.config.gridType} u = ${Array.from(u)}`).toBe(0);
      }
      expect(got.some((v) => v !== 0)).toBe(false); // the last point was outside
    }
  });

  it('the built-in avatar renders the same pixels with the kernel, exact and fast mode (32 px, talking, head turning)', async () => {
    const av = resizeAvatar(await loadBuiltinAvatar(), 32);
    for (const mode of ['exact', 'fast'] as const) {
      const r = renderBoth(av, 12, mode);
      expect(r.calls, `${mode}: the kernel ran`).toBeGreaterThan(10_000);
      expect(r.gridCalls, `${mode}: the grid encoder ran`).toBeGreaterThan(5_000);
      for (let i = 0; i < r.ts.length; i++) expect(sameBits(r.simd[i], r.ts[i]), `${mode} frame ${i}`).toBe(0);
    }
  }, 120_000);

  it("the bench's official config (random weights, wider nets) renders the same pixels with the kernel", () => {
    const av = officialAvatar({ size: 24 });
    const r = renderBoth(av, 3, 'exact');
    expect(r.calls).toBeGreaterThan(1000);
    expect(r.gridCalls).toBeGreaterThan(100);
    for (let i = 0; i < r.ts.length; i++) expect(sameBits(r.simd[i], r.ts[i]), `frame ${i}`).toBe(0);
  }, 120_000);

  it("where a page's main thread refuses a large synchronous compile, the layers still run in the kernel and the grid stays in TS", async () => {
    expect(simdAvailable()).toBe(true); // the layers' module is compiled before the limit below
    const Real = WebAssembly.Module;
    // Chromium's main-thread limit on synchronous compiles (4 KB), imitated.
    const Limited = function (bytes: BufferSource) {
      if ((bytes as Uint8Array).byteLength > 4096) throw new RangeError('WebAssembly.Module(): Buffer size is over the main-thread limit of 4 KB');
      return new Real(bytes);
    } as unknown as typeof WebAssembly.Module;
    WebAssembly.Module = Limited;
    let r: ReturnType<typeof renderBoth>;
    try {
      r = renderBoth(resizeAvatar(await loadBuiltinAvatar(), 24), 2, 'exact');
    } finally {
      WebAssembly.Module = Real;
    }
    expect(r.calls).toBeGreaterThan(1000);
    expect(r.gridCalls).toBe(0);
    for (let i = 0; i < r.ts.length; i++) expect(sameBits(r.simd[i], r.ts[i]), `frame ${i}`).toBe(0);
  });

  it('scratch beyond the kernel arena falls back to plain arrays (TS loop), same values', () => {
    const w = loadModelWeights(makeDemoAvatar());
    const k = enableSimd(w, 1)!;
    expect(simdFor(w)).toBe(k);
    const first = createHeadScratch(w);
    const second = createHeadScratch(w);
    expect(first.h1.buffer).toBe(k.memory.buffer);
    expect(second.h1.buffer).not.toBe(k.memory.buffer);
  });

  it('the engine CPU path says it runs WebAssembly SIMD, and with cpuSimd off renders the same frames in TS', async () => {
    const on = await AvatarRenderer.create(makeDemoAvatar(), true, { backend: 'cpu', maxSide: 32, cpuMaxSide: 32 });
    const off = await AvatarRenderer.create(makeDemoAvatar(), true, { backend: 'cpu', maxSide: 32, cpuMaxSide: 32, cpuSimd: false });
    expect(on.info.adapter).toBe('WebAssembly SIMD');
    expect(off.info.adapter).toBeNull();
    for (let i = 0; i < 3; i++) {
      const input = { timestampUs: i * 40_000, landmarks: null, poseIndex: i, eye: null, audioLevel: 0 };
      const a = await on.render(input);
      const b = await off.render(input);
      if (a.kind !== 'rgba' || b.kind !== 'rgba') throw new Error('expected rgba from the CPU path');
      expect(Buffer.from(a.data).equals(Buffer.from(b.data)), `frame ${i}`).toBe(true);
    }
    on.destroy();
    off.destroy();
  });
});
