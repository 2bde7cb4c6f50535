/**
 * A new user without any GPU (issue 14): Chromium offers no WebGPU adapter, the settings are
 * the defaults (renderer 'auto', quality 'auto'), and the meeting page sits in a background tab
 * while the user talks. The face must visibly follow speech: the camera track the meeting app
 * captures shows the far end of the call several distinct mouth shapes a second, not a still image. Counted as shapes
 * (a frame whose mouth region differs from the last shape by more than a visible amount), not
 * as frames per second: repeated frames and renders that do not change the mouth do not count.
 * Head motion and blinks are off so that only the mouth changes the mouth region.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../extension/shared/settings.ts';
import type { QualityState } from '../../worker/engine/quality-governor.ts';
import { call, eventually, openFake } from './helpers/app.ts';
import { coverBox, makeSpeechWav, mouthBox, type Box } from './helpers/reference.ts';
import { launchUnemulated, type UnemulatedHarness } from './helpers/unemulated-browser.ts';

const OUT_W = 640;
const OUT_H = 480;
/** Mean |luma difference| over the mouth box (0..255) that makes a frame a new mouth shape. */
const SHAPE_THRESHOLD = 2;
const RECORD_MS = 15_000;
/**
 * Mouth shape changes a second the far end must see. Measured on the 2-core machine with other
 * jobs running: 0.5-0.9/s before the play-out and resolution ladder, 1.6/s after them (load
 * 8-17); with partial fast frames (only the speech region re-rendered while the head holds
 * still) 2.13/s and 1.53/s at load 15-20, where the far end itself decoded only 5-8 frames a
 * second (renders 10.5/s and 5.9/s). A still face (the reported failure) gives 0.
 */
const MIN_CHANGES_PER_SECOND = 1;
/** R2T_NOGPU_COMPARE=N: after the test's own recording, N rounds of one render thread then the pool (issue 14's A/B). */
const COMPARE_ROUNDS = Number(process.env.R2T_NOGPU_COMPARE ?? 0);
if (!(Number.isInteger(COMPARE_ROUNDS) && COMPARE_ROUNDS >= 0 && COMPARE_ROUNDS <= 10)) throw new Error(`R2T_NOGPU_COMPARE: expected an integer in [0, 10], got ${process.env.R2T_NOGPU_COMPARE}`);

let h: UnemulatedHarness;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2t-nogpu-'));
  // Speech with short pauses only: Chromium loops the file, so the whole recording is talking.
  const wav = makeSpeechWav(dir, 0.3);
  h = await launchUnemulated({ fakeAudioWav: wav, dropArgs: ['--enable-unsafe-webgpu', '--use-vulkan=swiftshader'] });
  await h.setSettings({ renderer: DEFAULT_SETTINGS.renderer, renderMaxSide: DEFAULT_SETTINGS.renderMaxSide, quality: DEFAULT_SETTINGS.quality, idleHeadMotion: false, idleBlinks: false });
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Far = {
  answer(o: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit>;
  inbound(): Promise<{ framesDecoded: number } | null>;
  mouthShapes(ms: number, box: Box, threshold: number): Promise<{ frames: number; ms: number; shapes: [number, number][]; steps: number[] }>;
};

describe('no GPU at all', () => {
  it('a background meeting tab shows the far end a mouth that keeps changing while the user talks', async () => {
    const sender = h.context.pages()[0] ?? (await h.context.newPage());
    await sender.goto(`${h.pages.url}/zoom.html`);
    // Chromium on Linux without --enable-unsafe-webgpu: navigator.gpu exists, but no adapter.
    const adapter = await sender.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<object | null> } }).gpu;
      return gpu ? (await gpu.requestAdapter()) !== null : false;
    });
    expect(adapter).toBe(false);
    const opened = await openFake(sender, { width: OUT_W, height: OUT_H, frameRate: 30 }, true);
    const audioIndex = opened.tracks?.find((t) => t.kind === 'audio')?.index ?? -1;
    const videoIndex = opened.tracks?.find((t) => t.kind === 'video')?.index ?? -1;
    expect(audioIndex).toBeGreaterThanOrEqual(0);
    expect(videoIndex).toBeGreaterThanOrEqual(0);

    // The far end comes to the front: the meeting tab is in the background from here on.
    const receiver = await h.openForegroundTab(`${h.pages.url}/receiver.html`);
    expect(await sender.evaluate(() => document.visibilityState)).toBe('hidden');
    const offer = await call(sender, 'offerWithAll', [audioIndex, videoIndex]);
    const answer = await receiver.evaluate((o) => (window as unknown as { far: Far }).far.answer(o), offer);
    await call(sender, 'acceptAnswer', answer);

    // Warm-up: the avatar loads and the quality governor settles (it goes fast after a few slow frames).
    const deadline = Date.now() + 30_000;
    let stats = await call(sender, 'stats', videoIndex);
    while ((stats?.renders ?? 0) < 20 && Date.now() < deadline) {
      await receiver.waitForTimeout(500);
      stats = await call(sender, 'stats', videoIndex);
    }
    expect(stats?.source).toBe('cpu-reference');
    expect(stats?.landmarks).toBe('speech');

    const box = coverBox(mouthBox(), OUT_W, OUT_H);
    type Published = { adapter?: string | null; qualityState?: QualityState };
    /** One recording of RECORD_MS: mouth shape changes and renders a second, and what the popup shows. */
    const measure = async (label: string) => {
      const before = await call(sender, 'stats', videoIndex);
      const rec = await receiver.evaluate(([ms, b, thr]) => (window as unknown as { far: Far }).far.mouthShapes(ms, b, thr), [RECORD_MS, box, SHAPE_THRESHOLD] as const);
      const after = await call(sender, 'stats', videoIndex);
      const far = await receiver.evaluate(() => (window as unknown as { far: Far }).far.inbound());
      expect(await sender.evaluate(() => document.visibilityState)).toBe('hidden');
      const seconds = rec.ms / 1000;
      // The first frame opens the first shape; changes are the shapes after it.
      const perSecond = (rec.shapes.length - 1) / seconds;
      const renders = (after?.renders ?? 0) - (before?.renders ?? 0);
      const diffs = rec.shapes.map((s) => s[1]).filter((d) => d >= 0).sort((a, b) => a - b);
      // What the 'auto' governor kept on the CPU route, and why, and the render threads (what the popup shows).
      const published = (await h.status()) as Published | null;
      const q = published?.qualityState;
      console.log(
        `[no-gpu-speech] ${label}: ${seconds.toFixed(1)} s hidden, no WebGPU (${after?.source}), ${q?.renderThreads} render thread(s): ${rec.shapes.length - 1} mouth shape changes (${perSecond.toFixed(2)}/s, mean |dluma| > ${SHAPE_THRESHOLD}) in ${rec.frames} far-end frames; ` +
          `engine renders ${renders} (${(renders / seconds).toFixed(2)}/s); median shape change ${diffs[Math.floor(diffs.length / 2)]?.toFixed(1)}; far end decoded ${far?.framesDecoded}`,
      );
      console.log(`[no-gpu-speech] ${label}: mic audio reaching the engine: ${((after?.audioSeconds ?? 0) - (before?.audioSeconds ?? 0)).toFixed(1)} s in ${seconds.toFixed(1)} s; lag ${after?.lagMs} ms, mic delay ${after?.micDelayMs} ms`);
      console.log(`[no-gpu-speech] ${label}: frame-to-frame mouth differences`, JSON.stringify(rec.steps.map((v) => Math.round(v * 10) / 10)));
      console.log(
        `[no-gpu-speech] ${label}: ${q?.quality} mode (${q?.reason}): exact ${q?.exactMs?.toFixed(1)} ms a frame, fast ${q?.fastMs?.toFixed(1) ?? '-'} ms; kernel: ${published?.adapter ?? 'JavaScript'}; ` +
          `pool vs one thread: ${q?.threadsMs ? `${q.threadsMs.pool?.toFixed(1)} vs ${q.threadsMs.one?.toFixed(1)} ms a fast frame` : 'not compared yet'}; threads problem: ${q?.threadsProblem ?? 'none'}`,
      );
      return { rec, seconds, perSecond, renders, published, q };
    };
    /**
     * Sets the render threads (0: one per core) and waits until the renderer rebuilt for them (the
     * status's threadsAsked; renderThreads alone can be 1 on the pool after the chooser's
     * comparison) runs fast mode, not yet compared (for 0 on the pool, or on one thread if the
     * pool measured slower).
     */
    const useThreads = async (n: number) => {
      await h.setSettings({ cpuThreads: n });
      await eventually(
        async () => (await h.status()) as Published | null,
        (p) => p?.qualityState?.quality === 'fast' && p.qualityState.threadsMs === undefined && p.qualityState.threadsAsked === (n === 1 ? 1 : poolThreads),
        60_000,
        500,
      );
      await receiver.waitForTimeout(3000);
    };

    const cores = await sender.evaluate(() => navigator.hardwareConcurrency);
    // Where the CPU path renders: the engine iframe (an extension page inside the meeting page) starts the engine worker,
    // which starts the render worker and its band workers. Is that context cross-origin isolated (SharedArrayBuffer)?
    const engineFrame = sender.frames().find((f) => f.url().startsWith('chrome-extension://'));
    const isolated = engineFrame ? await engineFrame.evaluate(() => ({ isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer === 'function' })) : null;
    console.log(`[no-gpu-speech] engine iframe ${engineFrame?.url() ?? 'not found'}: crossOriginIsolated ${isolated?.isolated}, SharedArrayBuffer ${isolated?.sab ? 'defined' : 'absent'}`);
    const poolThreads = Math.min(cores, 4);
    const m = await measure('default threads');
    // The render worker runs the head nets in WebAssembly SIMD (simd-mlp.ts; the extension's CSP allows wasm).
    expect(m.published?.adapter).toBe('WebAssembly SIMD');
    const q = m.q;
    expect(q?.mode).toBe('auto');
    if (q?.reason === 'fast-faster') expect(q.fastMs!).toBeLessThan(q.exactMs!);
    if (q?.reason === 'fast-slower') expect(q.quality).toBe('exact');
    // A worker per core (render-pool.ts; the extension's pages are cross-origin isolated or not, the bands need neither).
    expect(q?.threadsProblem ?? null).toBeNull();
    // The pool runs, or one thread where it measured the pool slower (render-pool.ts EngineChooser).
    if (q?.quality === 'fast' && q.renderThreads !== poolThreads) {
      expect(q.renderThreads).toBe(1);
      expect(q.threadsMs!.one!).toBeLessThan(q.threadsMs!.pool!);
    }
    expect(m.rec.frames).toBeGreaterThan(m.seconds);
    expect(m.perSecond).toBeGreaterThanOrEqual(MIN_CHANGES_PER_SECOND);

    // R2T_NOGPU_COMPARE=N: then N more rounds of one thread and the pool, alternating (the box is shared).
    const rounds = COMPARE_ROUNDS;
    if (rounds > 0 && poolThreads > 1) {
      const rows: { threads: number; perSecond: number; renders: number }[] = [];
      for (let k = 0; k < rounds; k++) {
        for (const n of [1, 0]) {
          await useThreads(n);
          const r = await measure(`round ${k + 1}, cpuThreads ${n}`);
          rows.push({ threads: n === 1 ? 1 : poolThreads, perSecond: r.perSecond, renders: r.renders / r.seconds });
        }
      }
      const one = rows.filter((r) => r.threads === 1);
      const pool = rows.filter((r) => r.threads > 1);
      const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
      console.log(
        `[no-gpu-speech] A/B over ${rounds} round(s): cpuThreads 1: ${mean(one.map((r) => r.perSecond)).toFixed(2)} mouth shape changes/s at ${mean(one.map((r) => r.renders)).toFixed(2)} renders/s; ` +
          `cpuThreads 0 (${poolThreads} cores): ${mean(pool.map((r) => r.perSecond)).toFixed(2)}/s at ${mean(pool.map((r) => r.renders)).toFixed(2)} renders/s; ` +
          `ratio pool/one: shapes ${(mean(pool.map((r) => r.perSecond)) / mean(one.map((r) => r.perSecond))).toFixed(2)}, renders ${(mean(pool.map((r) => r.renders)) / mean(one.map((r) => r.renders))).toFixed(2)}`,
      );
    }
  }, 90_000 + COMPARE_ROUNDS * 2 * 90_000);
});
