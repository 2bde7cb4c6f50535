/**
 * The live landmark worker (worker/landmarks/generator-worker.ts) in headless Chromium with
 * WebGPU over SwiftShader: the page and the worker are bundled with esbuild, the ORT wasm is
 * copied from node_modules, everything is served on 127.0.0.1. The worker's frames are
 * compared with Node's offline prediction (the TypeScript forward pass) of the same audio.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeneratorService } from '../../worker/landmarks/generator-service.ts';
import { readWav } from '../../worker/io/wav.ts';
import { LANDMARK_DIM } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { LOWER_INNER_LIP, UPPER_INNER_LIP } from '../../worker/landmarks/quality.ts';
import { predictLandmarks } from '../../worker/landmarks/stream.ts';
import type { RunRequest, RunResult } from './browser/landmarks-entry.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const CHROMIUM = '/usr/bin/chromium';
// One --enable-features: Chromium keeps only the last copy of the flag.
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader'];
const ORT_WASM = 'ort-wasm-simd-threaded.jsep.wasm';
const RATE = 48000;
const TEXT = 'The quick brown fox jumps over the lazy dog. Maybe people prefer bubbles.';

function which(bin: string): boolean {
  try {
    execFileSync('which', [bin], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function maxDiff(r: RunResult, ref: Float32Array): number {
  let worst = 0;
  for (const f of r.frames) for (let d = 0; d < LANDMARK_DIM; d++) worst = Math.max(worst, Math.abs(f.landmarks[d] - ref[f.index * LANDMARK_DIM + d]));
  return worst;
}

describe('landmark worker (comlink, onnxruntime-web) in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let dir = '';
  let speech: Float32Array = new Float32Array(0);
  let reference: { frames: number; landmarks: Float32Array } = { frames: 0, landmarks: new Float32Array(0) };

  beforeAll(async () => {
    for (const bin of [CHROMIUM, 'espeak-ng', 'sox']) {
      if (!(bin.startsWith('/') ? existsSync(bin) : which(bin))) throw new Error(`${bin} is missing (apt-get install -y chromium espeak-ng sox)`);
    }
    dir = mkdtempSync(path.join(tmpdir(), 'r2t-lmworker-'));
    execFileSync('espeak-ng', ['-w', path.join(dir, 'a.wav'), TEXT]);
    execFileSync('sox', [path.join(dir, 'a.wav'), '-r', String(RATE), '-c', '1', '-b', '16', path.join(dir, 'speech.wav')]);
    const wav = readWav(new Uint8Array(readFileSync(path.join(dir, 'speech.wav'))));
    speech = wav.samples;
    const model = new Uint8Array(readFileSync(path.join(root, 'assets/generator/default.onnx')));
    reference = predictLandmarks(generatorFromOnnx(model), speech, RATE);

    const noise = new Float32Array(2 * RATE);
    let s = 99;
    for (let i = 0; i < noise.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      noise[i] = (s / 2 ** 32 - 0.5) * 2e-3; // a quiet room: about -60 dBFS
    }
    const pcm: Record<string, Float32Array> = { '/speech.f32': speech, '/silence.f32': new Float32Array(2 * RATE), '/noise.f32': noise };
    copyFileSync(path.join(root, 'node_modules/onnxruntime-web/dist', ORT_WASM), path.join(dir, ORT_WASM));
    const bundle = async (entry: string) =>
      (await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'browser', target: 'chrome120', logLevel: 'silent' })).outputFiles[0].text;
    const entryJs = await bundle(path.join(here, 'browser', 'landmarks-entry.ts'));
    const workerJs = await bundle(path.join(root, 'worker/landmarks/generator-worker.ts'));
    const html = '<!doctype html><meta charset="utf-8"><title>r2t landmark worker</title><script type="module" src="/entry.js"></script>';
    server = createServer((req, res) => {
      const url = req.url ?? '/';
      const js = { 'content-type': 'text/javascript' };
      if (url === '/entry.js') res.writeHead(200, js).end(entryJs);
      else if (url === '/generator-worker.js') res.writeHead(200, js).end(workerJs);
      else if (url === `/${ORT_WASM}`) res.writeHead(200, { 'content-type': 'application/wasm' }).end(readFileSync(path.join(dir, ORT_WASM)));
      else if (url === '/default.onnx') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model);
      else if (pcm[url]) res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(pcm[url].buffer, pcm[url].byteOffset, pcm[url].byteLength));
      else if (url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('no server address');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${addr.port}/`);
    await page.waitForFunction(() => typeof (globalThis as { runLandmarks?: unknown }).runLandmarks === 'function');
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (req: RunRequest): Promise<RunResult> => page.evaluate((r) => (globalThis as unknown as { runLandmarks: (q: RunRequest) => Promise<RunResult> }).runLandmarks(r), req);

  it('returns the offline track (within 1e-4) for espeak-ng speech pushed in 128..4800-sample chunks, tries webgpu first and reports the provider that runs', async () => {
    const r = await run({ pcmUrl: '/speech.f32', sampleRate: RATE, providers: null, minChunk: 128, maxChunk: 4800, seed: 1, pipelined: false });
    console.log(`landmark worker: ${r.info.executionProvider} (${JSON.stringify(r.info.attempts)}), ${r.pushes} pushes, ${r.frames.length} frames in ${r.ms.toFixed(0)} ms, max diff ${maxDiff(r, reference.landmarks).toExponential(2)}`);
    expect(r.runtime.webgpuAvailable).toBe(true);
    expect(r.runtime.numThreads).toBe(1);
    expect(r.info.attempts[0].provider).toBe('webgpu');
    const running = r.info.attempts.filter((a) => a.error === null);
    expect(running.map((a) => a.provider)).toEqual([r.info.executionProvider]);
    expect(['webgpu', 'wasm']).toContain(r.info.executionProvider);
    expect(r.chunkMin).toBe(128);
    expect(r.chunkMax).toBe(4800);
    expect(r.frames.length).toBe(reference.frames);
    expect(r.frames.map((f) => f.index)).toEqual([...Array(reference.frames).keys()]);
    for (const f of r.frames) {
      expect(f.time).toBeCloseTo(f.index / 25, 9);
      // A live frame cannot appear before its 2 frames of look-ahead and its last mel window.
      if (!f.fromFinish) expect(f.emittedAt).toBeGreaterThanOrEqual(f.time + 0.08 + 0.0225 - 1e-9);
    }
    expect(maxDiff(r, reference.landmarks)).toBeLessThanOrEqual(1e-4);
  });

  it('keeps the audio order when pushes are not awaited, on the default provider and on wasm', async () => {
    // With webgpu a run waits for the GPU (a macrotask), so the next push's message is
    // handled meanwhile: only the service's own queue keeps the frames in order.
    for (const providers of [null, ['wasm']]) {
      const r = await run({ pcmUrl: '/speech.f32', sampleRate: RATE, providers, minChunk: 128, maxChunk: 4800, seed: 2, pipelined: true });
      if (providers) expect(r.info.executionProvider).toBe('wasm');
      expect(r.frames.map((f) => f.index)).toEqual([...Array(reference.frames).keys()]);
      expect(maxDiff(r, reference.landmarks)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('silence gives a still, closed mouth at rest (digital zeros and a -60 dBFS room)', async () => {
    for (const [url, jitter] of [['/silence.f32', 1e-6], ['/noise.f32', 0.02]] as const) {
      const r = await run({ pcmUrl: url, sampleRate: RATE, providers: null, minChunk: 128, maxChunk: 4800, seed: 3, pipelined: false });
      expect(r.frames.length, url).toBe(50);
      let still = 0;
      let rest = 0;
      let opening = 0;
      r.frames.forEach((f, i) => {
        opening = Math.max(opening, Math.abs(f.landmarks[UPPER_INNER_LIP * 3 + 1] - f.landmarks[LOWER_INNER_LIP * 3 + 1]));
        for (let p = 0; p < LANDMARK_DIM / 3; p++) rest = Math.max(rest, Math.hypot(f.landmarks[3 * p], f.landmarks[3 * p + 1], f.landmarks[3 * p + 2]));
        if (i > 0) for (let d = 0; d < LANDMARK_DIM; d++) still = Math.max(still, Math.abs(f.landmarks[d] - r.frames[i - 1].landmarks[d]));
      });
      console.log(`silence ${url}: largest frame-to-frame change ${still.toExponential(2)}, distance from rest ${rest.toFixed(4)}, inner-lip gap ${opening.toFixed(4)} (template units, cm)`);
      // Template space: the rest pose is all zeros; 0.1 = 1 mm, the generator's stated silence tolerance.
      expect(still, url).toBeLessThanOrEqual(jitter);
      expect(rest, url).toBeLessThanOrEqual(0.1);
      expect(opening, url).toBeLessThanOrEqual(0.05);
    }
  });

  it('errors thrown in the worker arrive as the engine error classes with their codes', async () => {
    const errs = await page.evaluate(() => (globalThis as unknown as { probeErrors: () => Promise<{ name: string; code: string; message: string; isR2: boolean }[]> }).probeErrors());
    expect(errs[0]).toMatchObject({ name: 'ConfigError', code: 'CONFIG', isR2: true });
    expect(errs[0].message).toContain('no generator loaded');
    expect(errs[1]).toMatchObject({ code: 'INPUT_FORMAT', isR2: true });
  });
});

describe('landmark service provider fallback (Node)', () => {
  it('gives up a provider that cannot start, reports why, and runs on the next one', async () => {
    ort.env.wasm.numThreads = 1;
    // onnxruntime-web's Node build has no WebGPU backend: 'webgpu' fails to start here.
    const service = new GeneratorService(ort, ['webgpu', 'wasm']);
    const info = await service.load(new Uint8Array(readFileSync(path.join(root, 'assets/generator/default.onnx'))));
    expect(info.executionProvider).toBe('wasm');
    expect(info.attempts.map((a) => a.provider)).toEqual(['webgpu', 'wasm']);
    expect(info.attempts[0].error).toEqual(expect.any(String));
    expect(info.attempts[1].error).toBeNull();
    const frames = await service.push(new Float32Array(16000), 16000);
    expect(frames.length).toBeGreaterThan(0);
    await service.dispose();
    expect(service.info().loaded).toBe(false);
    await expect(service.push(new Float32Array(160), 16000)).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
