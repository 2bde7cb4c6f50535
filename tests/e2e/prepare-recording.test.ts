/**
 * Preparing a recording inside the built extension: a WebM (VP9 + Opus, the project's own
 * encoder) of the rendered astronaut test head at known poses goes through the extension's
 * page-side decoding and its bundled prepare worker (tfjs wasm face models loaded from the
 * extension under its CSP, OPFS writes); the subject that lands in OPFS has every frame, and
 * its landmarks sit where the known head projects them. Failures (not a video, a name already
 * used, cancelling) end in clear errors and leave no partial subject.
 */
import path from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebmEncoder } from '../../cli/video/webm-encoder.ts';
import { IBUG68_FROM_MESH } from '../../worker/face/ibug68.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';
import type { PrepareReport } from '../../worker/prepare/pipeline.ts';
import { astronautHead, gentlePose, renderedVideo } from '../helpers/face-video.ts';
import { launch, ROOT, type Harness } from './helpers/browser.ts';

const SRC = 256;
const FOCAL = 256;
const N = 40;
const SIZE = 128;

type Driver = {
  listSubjects(): Promise<string[]>;
  recordFakeCamera(seconds: number): Promise<string>;
  decodeCheck(b64: string): Promise<{ report: Record<string, unknown>; duration: number; size: number[]; lastMean: number; audioSeconds: number }>;
  prepare(
    b64: string,
    name: string,
    opts: Record<string, unknown>,
  ): Promise<{ ok: true; report: PrepareReport; frames: { split: string; imgId: number; lms: number[] }[]; stages: string[]; size: number[]; bcBytes: number; root: string } | { ok: false; error: string; code: string | null; stages: string[] }>;
};
type DriverGlobal = { r2tPrepareTest: Driver };

/** Where the known head puts iBUG point k of frame i, in source pixels. */
function truth(models: FaceModels, i: number, k: number): [number, number] {
  const { R, t } = gentlePose(i);
  const V = models.canonical.vertices;
  const v = IBUG68_FROM_MESH[k];
  const p = [0, 1, 2].map((r) => R[r * 3] * V[v * 3] + R[r * 3 + 1] * V[v * 3 + 1] + R[r * 3 + 2] * V[v * 3 + 2] + t[r]);
  return [(FOCAL * p[0]) / p[2] + SRC / 2, (FOCAL * p[1]) / p[2] + SRC / 2];
}

describe('prepareRecording in the extension', () => {
  let h: Harness;
  let page: Page;
  let models: FaceModels;
  let webm = '';

  async function run(b64: string, name: string, opts: Record<string, unknown>) {
    return page.evaluate(([b, n, o]) => (globalThis as unknown as DriverGlobal).r2tPrepareTest.prepare(b, n, o), [b64, name, opts] as const);
  }

  beforeAll(async () => {
    models = await loadFaceModels(nodeFaceModelSource);
    const video = renderedVideo(astronautHead(models), { frames: N, width: SRC, height: SRC, focal: FOCAL });
    const speech = Float32Array.from({ length: (48000 * N) / 25 }, (_, i) => 0.3 * Math.sin(i / 9) * (1 + Math.sin(i / 4000)));
    const enc = await WebmEncoder.open({ width: SRC, height: SRC, audio: { channels: [speech], sampleRate: 48000 } });
    for (let i = 0; i < N; i++) {
      const f = await video.read(i);
      const rgba = new Uint8Array(SRC * SRC * 4).fill(255);
      for (let p = 0; p < SRC * SRC; p++) rgba.set(f.rgb.subarray(p * 3, p * 3 + 3), p * 4);
      await enc.addFrame(rgba);
    }
    webm = Buffer.from((await enc.finish()).bytes).toString('base64');
    const bundle = await build({ entryPoints: [path.join(ROOT, 'tests/e2e/helpers/prepare-page-entry.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'chrome120', write: false, logLevel: 'silent' });
    h = await launch();
    page = await h.context.newPage();
    await page.goto(`chrome-extension://${h.extensionId}/options.html`);
    // Evaluated, not a <script>: the extension page's CSP admits only its own files.
    await page.evaluate(bundle.outputFiles[0].text);
  }, 300_000);

  afterAll(async () => {
    await h?.close();
  });

  it('writes the subject into OPFS with every frame and landmarks where the head is', async () => {
    const r = await run(webm, 'astronaut', { size: SIZE, minSeconds: 1, valSeconds: 0.4 });
    if (!r.ok) throw new Error(`prepare failed: ${r.error}`);
    expect(r.stages).toEqual(['decode', 'track', 'fit', 'background', 'write']);
    // Decoded in the prepare worker by our demuxer + WebCodecs, not the page's <video>.
    expect(r.report.input.decoder).toMatchObject({ route: 'webcodecs', container: 'webm', videoCodec: 'vp09.00.10.08', audioCodec: 'opus', audioRoute: 'webcodecs' });
    expect(r.report.frames).toMatchObject({ total: N, kept: N, dropped: {} });
    expect(r.report.split).toEqual({ train: N - 10, val: 10 });
    // The bundled attention model loaded under the extension's CSP: eye_ratio from its eyelids.
    expect(r.report.landmarks.eyeLids).toBe('attention');
    expect(r.frames.map((f) => f.imgId)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(r.size).toEqual([SIZE, SIZE]);
    expect(r.bcBytes).toBe(SIZE * SIZE * 3);
    expect(r.root).toBe('opfs:subjects/astronaut');
    expect(Math.abs(r.report.input.audioSeconds - N / 25)).toBeLessThan(0.05);
    // Landmarks against the known projection, mapped into the crop, as a share of face width.
    const { x, y, side } = r.report.crop;
    const s = SIZE / side;
    let sum = 0;
    let mouthSum = 0;
    let worst = 0;
    for (const f of r.frames) {
      const [j0, j16] = [truth(models, f.imgId, 0), truth(models, f.imgId, 16)];
      const width = Math.hypot(j16[0] - j0[0], j16[1] - j0[1]) * s;
      for (let k = 0; k < 68; k++) {
        const [tx, ty] = truth(models, f.imgId, k);
        const e = Math.hypot(f.lms[k * 2] - (tx - x) * s, f.lms[k * 2 + 1] - (ty - y) * s) / width;
        sum += e;
        if (k >= 48) mouthSum += e;
        worst = Math.max(worst, e);
      }
    }
    const mean = sum / (r.frames.length * 68);
    const mouth = mouthSum / (r.frames.length * 20);
    console.log(`in-extension prepare: mean landmark error ${(mean * 100).toFixed(2)}% of face width, mouth ${(mouth * 100).toFixed(2)}%, worst ${(worst * 100).toFixed(2)}%; ${(r.report.timingsMs.total / 1000).toFixed(1)} s`);
    expect(mean).toBeLessThan(0.04);
    expect(mouth).toBeLessThan(0.04);
    expect(await page.evaluate(() => (globalThis as unknown as DriverGlobal).r2tPrepareTest.listSubjects())).toEqual(['astronaut']);
  });

  it('refuses a name already used, what is not a video, and a cancelled run, leaving no partial subject', async () => {
    const again = await run(webm, 'astronaut', { size: SIZE, minSeconds: 1 });
    expect(again).toMatchObject({ ok: false, code: 'INPUT_FORMAT' });
    expect(again.ok ? '' : again.error).toMatch(/opfs:astronaut: already exists/);
    const noise = Buffer.from(Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 255)).toString('base64');
    const bad = await run(noise, 'noise', { size: SIZE, minSeconds: 1 });
    expect(bad.ok ? '' : bad.error).toMatch(/recording: not a WebM or MP4 file \(it starts with [0-9a-f ]+\), and the browser's <video> cannot play it either: cannot decode the video \(media error/);
    const cancelled = await run(webm, 'cancelled', { size: SIZE, minSeconds: 1, cancelAtTrackFrame: 3 });
    expect(cancelled).toMatchObject({ ok: false, code: 'ABORTED' });
    expect(await page.evaluate(() => (globalThis as unknown as DriverGlobal).r2tPrepareTest.listSubjects())).toEqual(['astronaut']);
  });

  it('reads a MediaRecorder recording (no duration in its WebM) to its end', async () => {
    // Chromium's fake camera shows no face: the refusal names every 25 fps slot it looked at.
    const rec = await page.evaluate(() => (globalThis as unknown as DriverGlobal).r2tPrepareTest.recordFakeCamera(2));
    // Our demuxer reads MediaRecorder's live WebM (unknown sizes, no duration) and WebCodecs decodes it to its end.
    const d = await page.evaluate((b) => (globalThis as unknown as DriverGlobal).r2tPrepareTest.decodeCheck(b), rec);
    expect(d.report).toMatchObject({ route: 'webcodecs', container: 'webm', videoCodec: 'vp8', audioCodec: 'opus', audioRoute: 'webcodecs' });
    expect(d.size).toEqual([320, 240]);
    expect(d.duration).toBeGreaterThan(1.5);
    expect(d.duration).toBeLessThan(3.5);
    expect(d.lastMean).toBeGreaterThan(5);
    expect(d.audioSeconds).toBeGreaterThan(1.2);
    const r = await run(rec, 'fake-camera', { size: SIZE, minSeconds: 1 });
    expect(r).toMatchObject({ ok: false, code: 'INPUT_FORMAT' });
    const n = Number((r.ok ? '' : r.error).match(/no usable face in any frame \(dropped: (\d+) no face\)/)?.[1]);
    expect(n).toBeGreaterThanOrEqual(40);
    expect(n).toBeLessThanOrEqual(60);
    expect(await page.evaluate(() => (globalThis as unknown as DriverGlobal).r2tPrepareTest.listSubjects())).toEqual(['astronaut']);
  });
});
