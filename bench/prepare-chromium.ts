/**
 * Preparation speed in headless Chromium against Node, in one run (issue 10): the rendered
 * astronaut test head (tests/helpers/face-video.ts) is encoded to a VP9 + Opus WebM and
 * prepared by the built extension's prepare worker (WebCodecs decoding, tfjs wasm face models,
 * libjpeg-turbo wasm, OPFS writes); the same frames, pre-decoded in memory, are prepared by the
 * same pipeline in Node. Needs the built extension (npm run build) and /usr/bin/chromium.
 *   npx tsx bench/prepare-chromium.ts [frames=100] [size=512]
 */
import path from 'node:path';
import { build } from 'esbuild';
import { WebmEncoder } from '../cli/video/webm-encoder.ts';
import type { RgbFrame } from '../worker/face/crop.ts';
import { nodeFaceModelSource } from '../worker/face/model-source.node.ts';
import { loadFaceModels } from '../worker/face/tracker.ts';
import { prepareSubject, type FrameSource, type PrepareReport } from '../worker/prepare/pipeline.ts';
import { MemorySubjectFiles, MemorySubjectSink } from '../worker/subject/files.ts';
import { nodePrepareCodec } from '../worker/subject/images.node.ts';
import { astronautHead, renderedVideo } from '../tests/helpers/face-video.ts';
import { ensureBuilt, launch, ROOT } from '../tests/e2e/helpers/browser.ts';

const frames = Number(process.argv[2] ?? 100);
const size = Number(process.argv[3] ?? 512);
const W = 960;
const H = 720;
const RATE = 48000;

type Result = { ok: true; report: PrepareReport } | { ok: false; error: string };
type Driver = { prepare(b64: string, name: string, opts: Record<string, unknown>): Promise<Result> };

const models = await loadFaceModels(nodeFaceModelSource);
const video = renderedVideo(astronautHead(models), { frames, width: W, height: H, focal: 0.9 * W });
const cache: RgbFrame[] = [];
for (let i = 0; i < frames; i++) cache.push(await video.read(i));
const speech = Float32Array.from({ length: Math.round((RATE * frames) / 25) }, (_, i) => 0.3 * Math.sin(i / 9) * (1 + Math.sin(i / 4000)));

const enc = await WebmEncoder.open({ width: W, height: H, audio: { channels: [speech], sampleRate: RATE } });
let webm: string;
try {
  for (const f of cache) {
    const rgba = new Uint8Array(W * H * 4).fill(255);
    for (let p = 0; p < W * H; p++) rgba.set(f.rgb.subarray(p * 3, p * 3 + 3), p * 4);
    await enc.addFrame(rgba);
  }
  webm = Buffer.from((await enc.finish()).bytes).toString('base64');
} finally {
  await enc.close();
}

// Node: the same pipeline on the same frames (already decoded, so no decoding cost).
const source: FrameSource = { count: frames, fps: 25, read: (i) => Promise.resolve(cache[i]) };
const pcm = { samples: Float32Array.from({ length: Math.round((frames / 25) * 16000) }, (_, i) => speech[Math.floor((i * RATE) / 16000)]), sampleRate: 16000 };
const node = await prepareSubject(source, pcm, new MemorySubjectSink(new MemorySubjectFiles()), nodePrepareCodec, models, { size, minSeconds: 0 });

// Chromium: the extension's own prepare worker, driven from an extension page.
ensureBuilt();
const bundle = await build({ entryPoints: [path.join(ROOT, 'tests/e2e/helpers/prepare-page-entry.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'chrome120', write: false, logLevel: 'silent' });
const h = await launch();
let chromium: PrepareReport;
let wallMs: number;
try {
  const page = await h.context.newPage();
  await page.goto(`chrome-extension://${h.extensionId}/options.html`);
  await page.evaluate(bundle.outputFiles[0].text);
  const t0 = performance.now();
  const r = await page.evaluate(
    ([b, n, s]) => (globalThis as unknown as { r2tPrepareTest: Driver }).r2tPrepareTest.prepare(b, n, { size: s, minSeconds: 0 }),
    [webm, 'bench', size] as const,
  );
  wallMs = performance.now() - t0;
  if (!r.ok) throw new Error(`prepare in Chromium failed: ${r.error}`);
  chromium = r.report;
} finally {
  await h.close();
}

const fps = (n: number, ms: number): string => ((n * 1000) / ms).toFixed(2);
const line = (name: string, r: PrepareReport): string =>
  `  ${name.padEnd(9)} overall ${fps(frames, r.timingsMs.total)} fps (track ${fps(frames, r.timingsMs.track)}, fit ${(r.timingsMs.fit / 1000).toFixed(1)} s, background ${(r.timingsMs.background / 1000).toFixed(1)} s, write ${fps(r.frames.kept, r.timingsMs.write)} fps); kept ${r.frames.kept}/${frames}`;
console.log(`prepare, Node vs headless Chromium (extension prepare worker), ${frames} frames ${W}x${H} -> ${size}x${size}:`);
console.log(line('Node', node));
console.log(line('Chromium', chromium));
console.log(`  Chromium/Node overall fps ratio ${(node.timingsMs.total / chromium.timingsMs.total).toFixed(2)} (Chromium decodes its WebM inside track; Node's frames are in memory); Chromium wall ${(wallMs / 1000).toFixed(1)} s with the worker's start and model load`);
console.log(`  a 3-minute video (4500 frames): Node ~${(4500 / ((frames * 1000) / node.timingsMs.total) / 60).toFixed(1)} min, Chromium ~${(4500 / ((frames * 1000) / chromium.timingsMs.total) / 60).toFixed(1)} min`);
