/**
 * The CPU fallback's render pool (worker/engine/render-pool.ts): a fast frame split into column
 * bands, each an independent fast renderer on a cropped camera, gives the one-thread renderer's
 * pixels bit for bit, on the engine's schedule (pose held CPU_POSE_HOLD renders, partial frames
 * between, a head step every hold) at the fallback's sides and at 128 px (lattice stride 4).
 */
import { describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { CPU_POSE_HOLD } from '../../worker/engine/avatar-renderer.ts';
import { ALIGN, cropAvatar, EngineChooser, haloColumns, planBands, RenderPool } from '../../worker/engine/render-pool.ts';
import { FastCpuRenderer } from '../../worker/model/fast-renderer.ts';
import { lipFilms } from '../../worker/model/speech-region.ts';
import { avatarSequence, psnr, resizeAvatar } from '../helpers/fast-sequence.ts';
import { inProcessHost } from '../helpers/band-host.ts';

describe('planBands', () => {
  it('splits the columns evenly on ALIGN-column boundaries and grows each band by the halo inside the image', () => {
    expect(planBands(64, 2, 8)).toEqual([
      { own0: 0, own1: 32, c0: 0, c1: 40 },
      { own0: 32, own1: 64, c0: 24, c1: 64 },
    ]);
    expect(planBands(32, 2, 0)).toEqual([
      { own0: 0, own1: 16, c0: 0, c1: 16 },
      { own0: 16, own1: 32, c0: 16, c1: 32 },
    ]);
    const b = planBands(100, 3, 16);
    expect(b.map((x) => [x.own0, x.own1])).toEqual([
      [0, 32],
      [32, 72],
      [72, 100],
    ]);
    for (const x of b) expect(x.c0 % ALIGN).toBe(0);
    // an image of 2 blocks gets 2 bands however many threads are asked for
    expect(planBands(16, 4, 0)).toHaveLength(2);
    expect(haloColumns(1)).toBe(0);
    expect(haloColumns(2)).toBe(4);
    expect(haloColumns(4)).toBe(12);
    expect(() => planBands(64, 2, 2.5)).toThrow(/whole number of halo columns/);
  });

  it('crops the camera and background to the band', async () => {
    const av = resizeAvatar(await loadBuiltinAvatar(), 64);
    const c = cropAvatar(av, 24, 64);
    expect(c.camera).toEqual({ ...av.camera, cx: av.camera.cx - 24, width: 40 });
    const bg = av.tensors.get('background')!.data as Uint8Array;
    const got = c.tensors.get('background')!.data as Uint8Array;
    expect(got.length).toBe(64 * 40 * 3);
    expect(got.subarray(5 * 40 * 3, 6 * 40 * 3)).toEqual(bg.subarray((5 * 64 + 24) * 3, (6 * 64) * 3));
    expect(() => cropAvatar(av, 10, 70)).toThrow(/c1 <= 64/);
  });
});

/**
 * Renders frames start.. of the engine's schedule with one thread and with the pool. Full frames
 * must be bit for bit the same; partial frames too at stride 1, else within `minPsnr` dB (a band
 * re-renders only its own columns of the speech region, so the torso beside a seam can be
 * interpolated from a halo pixel whose head weight is a frame older than in one thread).
 */
async function compare(side: number, threads: number, frames: number, start: number, minPsnr = Infinity): Promise<{ partial: number; differing: number; worst: number }> {
  const av = resizeAvatar(await loadBuiltinAvatar(), side);
  const seq = avatarSequence(av, start + frames);
  const list = seq.frames.map((f, i) => {
    const held = seq.frames[i - (i % CPU_POSE_HOLD)];
    return { ...f, pose: held.pose, eye: held.eye };
  });
  const one = new FastCpuRenderer(seq.weights, av.camera);
  const { closed, open } = lipFilms(seq.weights, av.landmarkStats!);
  const region = one.findSpeechRegion(closed, open, list[0].pose, list[0].eye);
  one.setSpeechRegion(region);
  const pool = await RenderPool.create(av, threads, inProcessHost(), { simd: false, region });
  expect(pool.bandCount).toBe(threads);
  let partial = 0;
  let differing = 0;
  let worst = Infinity;
  try {
    for (let t = start; t < start + frames; t++) {
      const a = one.render(list[t]);
      const b = await pool.render(list[t]);
      if (a.stats.partial) partial++;
      expect(b.stats.partial).toBe(a.stats.partial);
      let d = 0;
      for (let i = 0; i < a.image.length; i++) if (a.image[i] !== b.image[i]) d++;
      const p = psnr(b.image, a.image);
      worst = Math.min(worst, p);
      if (d > 0) differing++;
      if (!a.stats.partial || minPsnr === Infinity) expect(d, `${side} px frame ${t} (${a.stats.partial ? 'partial' : 'full'}): values differing from one thread`).toBe(0);
      else expect(p, `${side} px frame ${t}: PSNR against one thread`).toBeGreaterThanOrEqual(minPsnr);
      expect(b.stats.sigmaEvals).toBeGreaterThan(0);
    }
  } finally {
    pool.destroy();
  }
  console.log(`[render-pool] ${side} px, ${threads} bands, frames ${start}..${start + frames - 1}: ${partial} partial, ${differing} differing from one thread, worst ${worst === Infinity ? 'identical' : `${worst.toFixed(2)} dB`}`);
  return { partial, differing, worst };
}

describe('RenderPool', () => {
  it('renders the one-thread frames bit for bit at 32 px (stride 1), full and partial frames', async () => {
    // 24 frames through a pose hold boundary and a head step; speech opens the mouth on the way
    const r32 = await compare(32, 2, 24, 120);
    expect(r32.partial).toBeGreaterThan(10);
    expect(r32.differing).toBe(0);
  }, 240_000);

  it('at 64 px (stride 2) and 128 px (stride 4): full frames bit for bit, partial frames >= 50 dB from one thread', async () => {
    const r64 = await compare(64, 3, 24, 120, 50);
    expect(r64.partial).toBeGreaterThan(10);
    await compare(128, 2, 10, 30, 50);
  }, 240_000);

  it('says which thread failed: one that does not start, one that dies during a frame', async () => {
    const av = resizeAvatar(await loadBuiltinAvatar(), 32);
    await expect(RenderPool.create(av, 3, inProcessHost({ failAt: 2 }), { simd: false, region: null })).rejects.toThrow('render thread 3 of 3 failed: thread 2 exited with code 1');
    const pool = await RenderPool.create(av, 2, inProcessHost({ failAt: 1, failOn: 'frame' }), { simd: false, region: null });
    const seq = avatarSequence(av, 1);
    await expect(pool.render(seq.frames[0])).rejects.toThrow('render thread 2 of 2 failed: thread 1 exited with code 1');
    expect(pool.failed).toMatch(/thread 1 exited/);
    await expect(pool.render(seq.frames[0])).rejects.toThrow(/exited/);
  });
});

describe('EngineChooser (pool or one thread, by measurement)', () => {
  const run = (c: EngineChooser, frames: number, ms: (e: 'pool' | 'one') => number): string => {
    let seq = '';
    for (let i = 0; i < frames; i++) {
      const e = c.next();
      seq += e === 'pool' ? 'P' : '1';
      c.record(e, ms(e));
    }
    return seq;
  };

  it('keeps the pool where it measures faster, re-comparing every keepFor frames', () => {
    const c = new EngineChooser({ window: 4, firstAfter: 6, keepFor: 10 });
    const seq = run(c, 40, (e) => (e === 'pool' ? 10 : 20));
    // 6 pool frames, a probe of one thread (1 + 4 frames), back to the pool, ...
    expect(seq.slice(0, 11)).toBe('PPPPPP11111');
    expect(seq.slice(11, 21)).toBe('PPPPPPPPPP');
    expect(seq.slice(21, 26)).toBe('11111');
    expect(c.engine).toBe('pool');
    expect([c.poolMs, c.oneMs]).toEqual([10, 20]);
  });

  it('moves to one thread where the pool measures slower, and back when the pool gets faster', () => {
    const c = new EngineChooser({ window: 4, firstAfter: 6, keepFor: 10 });
    let poolMs = 30;
    const seq = run(c, 60, (e) => (e === 'pool' ? poolMs : 20));
    expect(seq.slice(0, 11)).toBe('PPPPPP11111');
    expect(c.engine).toBe('one');
    expect(seq.slice(11, 16)).toBe('11111');
    expect([c.poolMs, c.oneMs]).toEqual([30, 20]);
    // a pool that got faster is taken back at the next comparison
    poolMs = 10;
    run(c, 30, (e) => (e === 'pool' ? poolMs : 20));
    expect(c.engine).toBe('pool');
    expect([c.poolMs, c.oneMs]).toEqual([10, 20]);
  });

  it('does not count the first frame after a switch (a full march from nothing)', () => {
    const c = new EngineChooser({ window: 2, firstAfter: 3, keepFor: 100 });
    let k = 0;
    // every first frame after a switch costs 1000 ms; the engines otherwise tie at 10 ms
    let last: string | null = null;
    for (let i = 0; i < 20; i++) {
      const e = c.next();
      c.record(e, e !== last || k === 0 ? 1000 : 10);
      last = e;
      k++;
    }
    expect([c.poolMs, c.oneMs]).toEqual([10, 10]);
    expect(c.engine).toBe('pool');
  });
});
