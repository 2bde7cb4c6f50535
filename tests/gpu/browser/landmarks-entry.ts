/**
 * Page script of tests/gpu/landmarks-worker.test.ts: drives generator-worker.ts (a module
 * worker) through comlink exactly as an app would, and hands the frames back to the test.
 */
import { R2TalkerError } from '../../../worker/errors.ts';
import { connectLandmarkWorker, type GeneratorServiceInfo, type LandmarkWorkerApi, type LiveLandmarkFrame, type WorkerRuntimeInfo } from '../../../worker/landmarks/generator-protocol.ts';

export interface RunRequest {
  /** raw little-endian float32 PCM to fetch */
  pcmUrl: string;
  sampleRate: number;
  /** null: the worker's default (webgpu first where navigator.gpu exists) */
  providers: string[] | null;
  minChunk: number;
  maxChunk: number;
  seed: number;
  /** fire every push without awaiting the previous one (the service must keep the order) */
  pipelined: boolean;
}

export interface PlainFrame {
  index: number;
  time: number;
  emittedAt: number;
  fromFinish: boolean;
  landmarks: number[];
}

export interface RunResult {
  runtime: WorkerRuntimeInfo;
  info: GeneratorServiceInfo;
  frames: PlainFrame[];
  pushes: number;
  chunkMin: number;
  chunkMax: number;
  ms: number;
}

let client: (LandmarkWorkerApi & { release(): void }) | null = null;
let runtime: WorkerRuntimeInfo | null = null;

async function connect(): Promise<LandmarkWorkerApi> {
  if (!client) {
    client = connectLandmarkWorker(new Worker('/generator-worker.js', { type: 'module' }));
    runtime = await client.configure({});
  }
  return client;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Chunk sizes: both bounds first, then uniform in [min, max] from a small LCG. */
function chunkSizes(total: number, min: number, max: number, seed: number): number[] {
  const sizes = [min, max];
  let s = seed >>> 0;
  let sum = min + max;
  while (sum < total) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const n = min + Math.floor((s / 2 ** 32) * (max - min + 1));
    sizes.push(n);
    sum += n;
  }
  return sizes;
}

function plain(f: LiveLandmarkFrame, fromFinish: boolean): PlainFrame {
  return { index: f.index, time: f.time, emittedAt: f.emittedAt, fromFinish, landmarks: Array.from(f.landmarks) };
}

async function runLandmarks(req: RunRequest): Promise<RunResult> {
  const w = await connect();
  const model = await fetchBytes('/default.onnx');
  const pcmBytes = await fetchBytes(req.pcmUrl);
  const pcm = new Float32Array(pcmBytes.buffer, pcmBytes.byteOffset, pcmBytes.byteLength / 4);
  await w.load(model, req.providers ? { providers: req.providers } : {});
  const sizes = chunkSizes(pcm.length, req.minChunk, req.maxChunk, req.seed);
  const t0 = performance.now();
  const frames: PlainFrame[] = [];
  const pending: Promise<LiveLandmarkFrame[]>[] = [];
  let at = 0;
  let pushes = 0;
  for (const n of sizes) {
    if (at >= pcm.length) break;
    const chunk = pcm.slice(at, at + n);
    at += chunk.length;
    pushes++;
    const p = w.push(chunk, req.sampleRate);
    if (req.pipelined) pending.push(p);
    else for (const f of await p) frames.push(plain(f, false));
  }
  for (const p of pending) for (const f of await p) frames.push(plain(f, false));
  for (const f of await w.finish()) frames.push(plain(f, true));
  const ms = performance.now() - t0;
  const info = await w.info();
  await w.reset();
  const used = sizes.slice(0, pushes);
  return { runtime: runtime!, info, frames, pushes, chunkMin: Math.min(...used), chunkMax: Math.max(...used), ms };
}

/** Errors thrown in the worker arrive as the engine's classes with their codes. */
async function probeErrors(): Promise<{ name: string; code: string; message: string; isR2: boolean }[]> {
  const w = connectLandmarkWorker(new Worker('/generator-worker.js', { type: 'module' }));
  const out: { name: string; code: string; message: string; isR2: boolean }[] = [];
  const grab = async (p: Promise<unknown>) => {
    try {
      await p;
      out.push({ name: 'none', code: 'none', message: 'resolved', isR2: false });
    } catch (e) {
      const r = e instanceof R2TalkerError;
      out.push({ name: (e as Error).name, code: r ? (e as R2TalkerError).code : 'none', message: (e as Error).message, isR2: r });
    }
  };
  await grab(w.push(new Float32Array(480), 48000));
  await grab(w.load(new Uint8Array([1, 2, 3, 4])));
  await w.dispose();
  w.release();
  return out;
}

const g = globalThis as { runLandmarks?: typeof runLandmarks; probeErrors?: typeof probeErrors };
g.runLandmarks = runLandmarks;
g.probeErrors = probeErrors;
