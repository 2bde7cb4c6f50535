/**
 * The CPU fallback's render pool in the browser (worker/engine/render-pool.ts): the built
 * extension's render worker, started from an extension page as the engine starts it, renders the
 * built-in avatar's fast frames with its band workers (render-band-worker.js, nested dedicated
 * workers) byte for byte as it does alone; and a band worker that cannot start leaves it
 * rendering on one thread, with the reason in its status, not a frozen camera.
 * The render worker speaks comlink; this page speaks comlink's wire format directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launch, type Harness } from './helpers/browser.ts';

let h: Harness;
let page: Page;
beforeAll(async () => {
  h = await launch();
  page = await h.context.newPage();
  await page.goto(`chrome-extension://${h.extensionId}/options.html`);
});
afterAll(async () => {
  await h?.close();
});

interface Run {
  frames: number[][];
  threads: number[];
  problem: string | null;
  adapter: string | null;
}

/** Starts render-worker.js, renders `n` fast frames of the built-in avatar at 64 px with `threads` render threads. */
function run(p: Page, threads: number, n: number, bandScript?: string): Promise<Run> {
  return p.evaluate(
    async ([threads, n, bandScript]) => {
      const worker = new Worker('render-worker.js');
      let next = 0;
      const rpc = (name: string, ...args: unknown[]): Promise<unknown> =>
        new Promise((resolve, reject) => {
          const id = `r${next++}`;
          const on = (e: MessageEvent): void => {
            if (e.data?.id !== id) return;
            worker.removeEventListener('message', on);
            if (e.data.type === 'HANDLER') reject(new Error(JSON.stringify(e.data.value)));
            else resolve(e.data.value);
          };
          worker.addEventListener('message', on);
          worker.postMessage({ id, type: 'APPLY', path: [name], argumentList: args.map((value) => ({ type: 'RAW', value })) });
        });
      try {
        const init = (await rpc('init', { avatarBytes: null, choice: { backend: 'cpu', maxSide: 64, cpuMaxSide: 64, quality: 'fast', cpuThreads: threads }, bandScript })) as { info: { adapter: string | null } };
        const frames: number[][] = [];
        const seen: number[] = [];
        for (let i = 0; i < n; i++) {
          const f = (await rpc('render', { timestampUs: i * 40_000, landmarks: null, poseIndex: i, eye: null, audioLevel: 0 })) as { data: Uint8ClampedArray };
          frames.push(Array.from(f.data));
          seen.push(((await rpc('quality')) as { renderThreads: number }).renderThreads);
        }
        const q = (await rpc('quality')) as { threadsProblem: string | null };
        return { frames, threads: seen, problem: q.threadsProblem, adapter: init.info.adapter };
      } finally {
        worker.terminate();
      }
    },
    [threads, n, bandScript] as const,
  );
}

describe('the CPU fallback renders on a pool of workers in the browser', () => {
  it('2 render threads (band workers) give the one-thread frames byte for byte', async () => {
    const one = await run(page, 1, 12);
    const two = await run(page, 2, 12);
    expect(one.adapter).toBe('WebAssembly SIMD');
    expect(one.threads.every((t) => t === 1)).toBe(true);
    expect(two.threads.every((t) => t === 2)).toBe(true);
    expect(two.problem).toBeNull();
    expect(two.frames).toHaveLength(12);
    for (let i = 0; i < 12; i++) {
      let differing = 0;
      for (let k = 0; k < one.frames[i].length; k++) if (one.frames[i][k] !== two.frames[i][k]) differing++;
      expect(differing, `frame ${i}`).toBe(0);
    }
  }, 180_000);

  it('a band worker that cannot start leaves one thread rendering, and the status says why', async () => {
    const r = await run(page, 2, 3, 'no-such-band-worker.js');
    expect(r.frames).toHaveLength(3);
    expect(r.threads).toEqual([1, 1, 1]);
    expect(r.problem).toMatch(/^render thread 2 of 2 failed: /);
    console.log(`[render-pool] a band worker that cannot start: "${r.problem}"`);
  }, 180_000);
});
