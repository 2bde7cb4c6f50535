/**
 * Soak: one camera track at 1280x720@30 with the mic, on WebGPU (SwiftShader here), for 10
 * minutes (R2T_SOAK=1; R2T_SOAK_MINUTES overrides the length). Samples every 30 s: the page's
 * and the engine frame's JS heap (CDP Runtime.getHeapUsage after a forced GC), the renderer's
 * GPU bytes (published engine status) and the frames delivered. Bounds: after a 1-minute
 * warm-up, heaps may grow by at most 8 MiB each, GPU bytes not at all, and the track keeps
 * 30 fps (+-10%). Skipped unless asked for: it takes minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { launch, type Harness } from './helpers/browser.ts';
import { call, eventually, openFake } from './helpers/app.ts';

const ENABLED = process.env.R2T_SOAK === '1';
const MINUTES = Number(process.env.R2T_SOAK_MINUTES ?? '10');
const SAMPLE_MS = 30_000;
const WARMUP_MS = 60_000;
const HEAP_GROWTH_BOUND = 8 * 1024 * 1024;

let h: Harness;
beforeAll(async () => {
  if (!ENABLED) return;
  h = await launch();
  await h.setSettings({ renderer: 'auto', renderMaxSide: 64 });
});
afterAll(async () => {
  await h?.close();
});

async function heap(s: CDPSession): Promise<number> {
  await s.send('HeapProfiler.collectGarbage');
  return (await s.send('Runtime.getHeapUsage')).usedSize;
}

async function engineStatus(): Promise<{ gpuBytes: number; renderFps: number; source: string }> {
  return h.serviceWorker.evaluate(async () => ((await chrome.storage.local.get('r2talker.status')) as Record<string, { gpuBytes: number; renderFps: number; source: string }>)['r2talker.status']);
}

describe.skipIf(!ENABLED)('soak', () => {
  it(`runs ${MINUTES} minutes at 30 fps with bounded JS heap and GPU memory`, { timeout: (MINUTES + 3) * 60_000 }, async () => {
    const page: Page = await h.context.newPage();
    await page.goto(`${h.pages.url}/basic.html`);
    const r = await openFake(page, { width: 1280, height: 720, frameRate: 30 }, true);
    expect(r.error).toBeUndefined();
    const v = r.tracks?.find((t) => t.kind === 'video')?.index ?? -1;
    await eventually(() => call(page, 'stats', v), (s) => (s?.renders ?? 0) >= 2, 60_000, 500);
    const engineFrame = page.frames().find((f) => f.url().startsWith('chrome-extension://'));
    if (!engineFrame) throw new Error('no engine frame');
    const pageCdp = await h.context.newCDPSession(page);
    const engineCdp = await h.context.newCDPSession(engineFrame);
    await pageCdp.send('HeapProfiler.enable');
    await engineCdp.send('HeapProfiler.enable');

    const start = Date.now();
    const rows: { t: number; page: number; engine: number; gpu: number; frames: number; renders: number }[] = [];
    while (Date.now() - start < MINUTES * 60_000) {
      const s = await call(page, 'stats', v);
      const st = await engineStatus();
      rows.push({ t: (Date.now() - start) / 1000, page: await heap(pageCdp), engine: await heap(engineCdp), gpu: st?.gpuBytes ?? -1, frames: (s?.framesWritten ?? 0) + (s?.framesRepeated ?? 0), renders: s?.renders ?? 0 });
      const last = rows.at(-1)!;
      console.log(`[soak] ${last.t.toFixed(0)} s: page heap ${(last.page / 1048576).toFixed(2)} MiB, engine frame heap ${(last.engine / 1048576).toFixed(2)} MiB, GPU ${(last.gpu / 1048576).toFixed(2)} MiB, frames ${last.frames}, renders ${last.renders}, source ${st?.source}`);
      await page.waitForTimeout(SAMPLE_MS);
    }
    const base = rows.find((x) => x.t * 1000 >= WARMUP_MS) ?? rows[0];
    const end = rows.at(-1)!;
    const fps = (end.frames - rows[0].frames) / (end.t - rows[0].t);
    console.log(`[soak] after warm-up: page heap +${((end.page - base.page) / 1048576).toFixed(2)} MiB, engine +${((end.engine - base.engine) / 1048576).toFixed(2)} MiB, GPU +${((end.gpu - base.gpu) / 1048576).toFixed(2)} MiB; ${fps.toFixed(1)} frames/s`);
    expect(end.gpu).toBeGreaterThan(0);
    expect(end.gpu).toBeLessThanOrEqual(base.gpu);
    expect(end.page - base.page).toBeLessThan(HEAP_GROWTH_BOUND);
    expect(end.engine - base.engine).toBeLessThan(HEAP_GROWTH_BOUND);
    expect(fps).toBeGreaterThanOrEqual(27);
    expect(end.renders).toBeGreaterThan(rows[0].renders);
    expect((await call(page, 'info', v)).readyState).toBe('live');
  });
});
