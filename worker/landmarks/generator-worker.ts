/**
 * DedicatedWorker entry of the landmark service (a module worker:
 * `new Worker(url, { type: 'module' })`, then `connectLandmarkWorker(worker)`).
 *
 * `onnxruntime-web` resolves, for a bundler or a browser, to its bundled ESM build
 * (dist/ort.bundle.min.mjs: the wasm loader inlined, WebGPU through JSEP), which needs one
 * file beside it: ort-wasm-simd-threaded.jsep.wasm, by default next to this worker's
 * script, else where `configure({ wasmUrl })` says. Threads need SharedArrayBuffer, so
 * only a cross-origin isolated page gets more than one.
 *
 * Providers: 'webgpu' first when navigator.gpu exists, 'wasm' after it; the service gives a
 * provider up on any failure and `info().executionProvider` says which one runs.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { ConfigError } from '../errors.ts';
import { GeneratorService } from './generator-service.ts';
import { wireErrors, type LandmarkWorkerApi, type WorkerRuntimeInfo, type WorkerRuntimeOptions } from './generator-protocol.ts';

export const ORT_WASM_FILE = 'ort-wasm-simd-threaded.jsep.wasm';
const MAX_THREADS = 4;

let service: GeneratorService | null = null;
let runtime: WorkerRuntimeInfo | null = null;
/** ORT reads env.wasm once, at its first session: later settings would be ignored silently. */
let started = false;

function webgpuAvailable(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && !!(navigator as Navigator & { gpu?: unknown }).gpu;
}

function isolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/** Settles ORT's environment; it is read once, when the first session starts. */
function configureRuntime(options: WorkerRuntimeOptions): WorkerRuntimeInfo {
  if (started) throw new ConfigError('generator-worker.configure: expected before the first load()');
  const wasmUrl = options.wasmUrl ?? new URL(ORT_WASM_FILE, self.location.href).href;
  if (typeof wasmUrl !== 'string' || wasmUrl.length === 0 || wasmUrl.length > 4096) throw new ConfigError(`generator-worker.wasmUrl: expected a URL, got ${JSON.stringify(wasmUrl)}`);
  const cores = Math.max(1, Math.min(MAX_THREADS, navigator.hardwareConcurrency || 1));
  const numThreads = options.numThreads ?? (isolated() ? cores : 1);
  if (!Number.isInteger(numThreads) || numThreads < 1 || numThreads > 16) throw new ConfigError(`generator-worker.numThreads: expected an integer in [1, 16], got ${numThreads}`);
  if (numThreads > 1 && !isolated()) throw new ConfigError(`generator-worker.numThreads: expected 1 outside a cross-origin isolated page, got ${numThreads}`);
  const providers = options.providers ?? (webgpuAvailable() ? ['webgpu', 'wasm'] : ['wasm']);
  ort.env.wasm.wasmPaths = { wasm: wasmUrl };
  ort.env.wasm.numThreads = numThreads;
  ort.env.wasm.proxy = false;
  runtime = { wasmUrl, numThreads, providers: [...providers], crossOriginIsolated: isolated(), webgpuAvailable: webgpuAvailable() };
  return runtime;
}

function getService(): GeneratorService {
  if (!service) {
    const r = runtime ?? configureRuntime({});
    started = true;
    service = new GeneratorService(ort, r.providers);
  }
  return service;
}

const api: LandmarkWorkerApi = {
  configure: (options) => wireErrors(() => configureRuntime(options ?? {})),
  load: (bytes, options) => wireErrors(() => getService().load(bytes, options ?? {})),
  push: (pcm, sampleRate) =>
    wireErrors(async () => {
      const frames = await getService().push(pcm, sampleRate);
      return Comlink.transfer(frames, frames.map((f) => f.landmarks.buffer));
    }),
  finish: () =>
    wireErrors(async () => {
      const frames = await getService().finish();
      return Comlink.transfer(frames, frames.map((f) => f.landmarks.buffer));
    }),
  reset: () => wireErrors(() => getService().reset()),
  info: () => wireErrors(() => getService().info()),
  dispose: () =>
    wireErrors(async () => {
      const s = service;
      service = null;
      if (s) await s.dispose();
    }),
};

Comlink.expose(api);
