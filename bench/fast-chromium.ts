/**
 * npm run bench (fast mode in the browser): exact against fast mode on the extension's own route,
 * the render worker in headless Chromium on WebGPU (SwiftShader on machines without a GPU), with
 * the built-in avatar at the extension's render sides. Node's Dawn (bench/fast-gpu.ts) and
 * Chromium do not agree on this: the fast mode's many small dispatches a frame cost more in the
 * browser, so the wall-time ratio that decides what the 'auto' governor keeps is measured here.
 * Per side and quality: renders a second over a window (the engine renders as fast as it can
 * for a 30 fps camera), the governor's smoothed wall time per frame, and for 'auto' the mode it
 * kept and why. Needs the built extension (npm run build) and /usr/bin/chromium.
 *   npx tsx bench/fast-chromium.ts [sides=64,192] [seconds=10]
 */
import type { QualityState } from '../worker/engine/quality-governor.ts';
import { call, eventually, openWebGpuCamera } from '../tests/e2e/helpers/app.ts';
import { launch } from '../tests/e2e/helpers/browser.ts';

const sides = (process.argv[2] ?? '64,192').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 10);
if (!sides.every((s) => Number.isInteger(s) && s >= 16 && s <= 1024) || !(seconds > 0 && seconds <= 120)) {
  console.error(`bench/fast-chromium.ts: expected sides as integers 16..1024 and seconds in (0, 120], got ${process.argv[2]} ${process.argv[3]}`);
  process.exit(2);
}

type Published = { source?: string; adapter?: string | null; qualityState?: QualityState };
const h = await launch();
const published = (): Promise<Published | undefined> =>
  h.serviceWorker.evaluate(async () => ((await chrome.storage.local.get('r2talker.status')) as Record<string, Published>)['r2talker.status']);

interface Row {
  side: number;
  quality: string;
  rate: number;
  state: QualityState | undefined;
}
const rows: Row[] = [];
let adapter = '?';
try {
  for (const side of sides) {
    for (const quality of ['exact', 'fast', 'auto'] as const) {
      await h.setSettings({ renderer: 'auto', renderMaxSide: side, quality, idleHeadMotion: true, idleBlinks: true });
      // Warm-up: the pipelines compile and, for 'auto', the governor times both modes.
      const { page, index: i, error, stats: warm } = await openWebGpuCamera(h.context, `${h.pages.url}/basic.html`, 12);
      if (error) throw new Error(`camera: ${error.name}: ${error.message}`);
      if (warm?.source !== 'webgpu') throw new Error(`expected the WebGPU route, got ${warm?.source}`);
      // Fixed fast mode renders exact frames until its pipelines are built; 'auto' decides after a trial.
      if (quality === 'fast') await eventually(published, (p) => p?.qualityState?.quality === 'fast', 60_000, 500);
      if (quality === 'auto') await eventually(published, (p) => p?.qualityState?.reason !== 'trying', 60_000, 500);
      const a = await call(page, 'stats', i);
      const t0 = Date.now();
      await page.waitForTimeout(seconds * 1000);
      const b = await call(page, 'stats', i);
      const rate = (((b?.renders ?? 0) - (a?.renders ?? 0)) * 1000) / (Date.now() - t0);
      const p = await published();
      adapter = p?.adapter ?? adapter;
      rows.push({ side, quality, rate, state: p?.qualityState });
      await call(page, 'stop', i);
      await page.close();
    }
  }
} finally {
  await h.close();
}

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(0)} ms`);
console.log(`\nfast mode vs exact in headless Chromium (the extension's render worker on WebGPU: ${adapter}), built-in avatar, ${seconds} s a row:`);
for (const side of sides) {
  const e = rows.find((r) => r.side === side && r.quality === 'exact');
  const f = rows.find((r) => r.side === side && r.quality === 'fast');
  const a = rows.find((r) => r.side === side && r.quality === 'auto');
  const eMs = e?.state?.exactMs ?? null;
  const fMs = f?.state?.fastMs ?? null;
  const ratio = eMs && fMs ? (fMs / eMs).toFixed(3) : '-';
  console.log(
    `  render side <= ${side}: exact ${e?.rate.toFixed(2)} renders/s (${ms(eMs)} a frame), fast ${f?.rate.toFixed(2)} renders/s (${ms(fMs)}) -> wall-time ratio fast/exact ${ratio}; ` +
      `'auto' kept ${a?.state?.quality} mode (${a?.state?.reason}; exact ${ms(a?.state?.exactMs)}, fast ${ms(a?.state?.fastMs)}) at ${a?.rate.toFixed(2)} renders/s`,
  );
}
process.exit(0);
