/**
 * The engine's CPU path with a render pool in Node worker threads (render-pool.node.ts): fast
 * frames rendered by several threads are the one-thread frames, byte for byte, and a render
 * thread that fails to start or dies leaves one thread rendering, with the reason in the status,
 * never a frozen camera.
 */
import { describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { AvatarRenderer, renderThreads } from '../../worker/engine/avatar-renderer.ts';
import type { RenderInput } from '../../worker/engine/interfaces.ts';
import { nodePoolHost } from '../../worker/engine/render-pool.node.ts';
import type { PoolHost } from '../../worker/engine/render-pool.ts';
import { inProcessHost } from '../helpers/band-host.ts';

const input = (i: number): RenderInput => ({ timestampUs: i * 40_000, landmarks: null, poseIndex: i, eye: null, audioLevel: 0 });
const choice = { backend: 'cpu' as const, maxSide: 64, cpuMaxSide: 64, quality: 'fast' as const };

async function frames(r: AvatarRenderer, from: number, n: number): Promise<Uint8ClampedArray[]> {
  const out: Uint8ClampedArray[] = [];
  for (let i = from; i < from + n; i++) {
    const f = await r.render(input(i));
    if (f.kind !== 'rgba') throw new Error('expected rgba from the CPU path');
    out.push(f.data);
  }
  return out;
}

describe('render threads of the CPU path', () => {
  it('cpuThreads: one per core up to 4 by default, 1 without a host, checked', () => {
    const host = (cores: number): PoolHost => ({ cores, spawn: () => inProcessHost().spawn() });
    expect(renderThreads(undefined, host(2))).toBe(2);
    expect(renderThreads(0, host(16))).toBe(4);
    expect(renderThreads(1, host(16))).toBe(1);
    expect(renderThreads(3, null)).toBe(1);
    expect(() => renderThreads(2.5, host(2))).toThrow('cpuThreads: expected an integer in [0, 8], got 2.5');
  });

  it('2 worker threads render the one-thread frames byte for byte (built-in, 64 px, fast mode)', async () => {
    const av = await loadBuiltinAvatar();
    const one = await AvatarRenderer.create(av, false, { ...choice, cpuThreads: 1 }, {}, nodePoolHost());
    const pooled = await AvatarRenderer.create(av, false, { ...choice, cpuThreads: 2 }, {}, nodePoolHost());
    try {
      await pooled.poolReady;
      expect(pooled.qualityState.threadsProblem).toBeNull();
      const a = await frames(one, 0, 12);
      const b = await frames(pooled, 0, 12);
      expect(one.qualityState).toMatchObject({ renderThreads: 1, threadsAsked: 1, threadsProblem: null });
      expect(pooled.qualityState).toMatchObject({ renderThreads: 2, threadsAsked: 2, threadsProblem: null });
      for (let i = 0; i < a.length; i++) expect(Buffer.from(b[i]).equals(Buffer.from(a[i])), `frame ${i}`).toBe(true);
    } finally {
      one.destroy();
      pooled.destroy();
    }
  }, 120_000);

  it('renders on one thread where the pool measures slower, and says what it measured', async () => {
    const av = await loadBuiltinAvatar();
    const r = await AvatarRenderer.create(av, false, { ...choice, cpuThreads: 2, cpuChooser: { window: 4, firstAfter: 5, keepFor: 50 } }, {}, inProcessHost());
    r.engineTimingForTests = (e) => (e === 'pool' ? 30 : 20);
    try {
      await frames(r, 0, 4);
      expect(r.qualityState.renderThreads).toBe(2);
      await frames(r, 4, 8);
      expect(r.qualityState).toMatchObject({ renderThreads: 1, threadsAsked: 2, threadsProblem: null, threadsMs: { pool: 30, one: 20 } });
    } finally {
      r.destroy();
    }
  }, 120_000);

  it('a render thread that fails to start leaves one thread rendering and says why', async () => {
    const av = await loadBuiltinAvatar();
    const broken = nodePoolHost({ entry: new URL('data:text/javascript,throw new Error("no band script here")') });
    const r = await AvatarRenderer.create(av, false, { ...choice, cpuThreads: 2 }, {}, broken);
    try {
      await r.poolReady;
      const f = await frames(r, 0, 3);
      expect(f).toHaveLength(3);
      expect(r.qualityState.renderThreads).toBe(1);
      expect(r.qualityState.threadsProblem).toMatch(/^render thread 2 of 2 failed: .*no band script here/);
    } finally {
      r.destroy();
    }
  }, 120_000);

  it('a render thread that dies mid-run: that frame and the next come from one thread, the same pixels', async () => {
    const av = await loadBuiltinAvatar();
    const one = await AvatarRenderer.create(av, false, { ...choice, cpuThreads: 1 });
    const r = await AvatarRenderer.create(av, false, { ...choice, cpuThreads: 2 }, {}, inProcessHost({ failAt: 1, failOn: 'frame' }));
    try {
      await r.poolReady;
      expect(r.qualityState.threadsProblem).toBeNull();
      const a = await frames(one, 0, 3);
      const b = await frames(r, 0, 3);
      expect(r.qualityState.renderThreads).toBe(1);
      expect(r.qualityState.threadsProblem).toBe('render thread 2 of 2 failed: thread 1 exited with code 1');
      for (let i = 0; i < 3; i++) expect(Buffer.from(b[i]).equals(Buffer.from(a[i])), `frame ${i}`).toBe(true);
    } finally {
      one.destroy();
      r.destroy();
    }
  }, 120_000);
});
