/**
 * The landmark generator's speed budget (issue 4), on ONE thread of onnxruntime-web wasm in
 * Node (ort.env.wasm.numThreads = 1; JS is single-threaded too), with the shipped model:
 *   - ms per 40 ms frame, live: one session run per frame over exactly its window
 *     (receptive field), as GeneratorService does when audio arrives frame by frame;
 *   - ms per 40 ms frame, offline: one run over a long track, divided by its frames;
 *   - ms per frame of the whole live service (resampling 48 kHz -> 16 kHz, log-mel, ORT,
 *     frame building), 40 ms chunks;
 *   - the model file's size;
 *   - the latency added beyond the spec's 2-frame look-ahead, measured on the live service
 *     fed 128-sample chunks at 48 kHz (an AudioWorklet quantum): for each frame, the audio
 *     pushed when it came out minus (its time + 80 ms), plus the wall time of that push.
 * Each figure is printed with its target and the ratio to it. Wall times on a shared
 * machine are noisy, so medians and this process's CPU time are printed next to them.
 * Usage: npx tsx bench/generator.ts [--model <onnx>] [--seconds <n>]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { MEL } from '../worker/audio/mel.ts';
import { GeneratorService } from '../worker/landmarks/generator-service.ts';
import { LANDMARK_FPS, melFramesFor, receptiveField } from '../worker/landmarks/model.ts';
import { generatorFromOnnx } from '../worker/landmarks/onnx-export.ts';
import { OnnxGenerator } from '../worker/landmarks/onnx-runner.ts';

const TARGET = { msPerFrame: 5, modelBytes: 4_000_000, addedLatencyMs: 40 } as const;
const FRAME_MS = 1000 / LANDMARK_FPS;
const RATE = 48000;

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const modelPath = path.resolve(arg('--model') ?? path.join(here, '../assets/generator/default.onnx'));
const seconds = Math.max(2, Math.min(Number(arg('--seconds') ?? 20), 120));

/** OS threads of this process (Linux), to show ORT added none. */
function readThreads(): string {
  try {
    return String(readdirSync('/proc/self/task').length);
  } catch {
    return 'n/a';
  }
}
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** q-quantile (nearest rank) */
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const median = (xs: number[]) => quantile(xs, 0.5);
const line = (label: string, value: number, unit: string, target: number, extra = '') =>
  console.log(`  ${label.padEnd(50)} ${value.toFixed(3).padStart(10)} ${unit.padEnd(3)} target <= ${target} ${unit}: ${(value / target).toFixed(3)}x of budget ${value <= target ? 'OK' : 'OVER'}${extra}`);

/** Speech-like test audio: voiced pulses through moving formant-ish tones, syllable envelope. */
function syntheticSpeech(n: number, rate: number): Float32Array {
  const out = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const env = Math.max(0, Math.sin(2 * Math.PI * 3.7 * t)) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 0.31 * t));
    const f1 = 500 + 300 * Math.sin(2 * Math.PI * 2.3 * t);
    const f2 = 1500 + 600 * Math.sin(2 * Math.PI * 1.7 * t);
    out[i] = env * (0.3 * Math.sin(2 * Math.PI * f1 * t) + 0.15 * Math.sin(2 * Math.PI * f2 * t) + 0.05 * (s / 2 ** 32 - 0.5));
  }
  return out;
}

const threadsAtStart = readThreads();
ort.env.wasm.numThreads = 1;
const bytes = new Uint8Array(readFileSync(modelPath));
const g = generatorFromOnnx(bytes, path.basename(modelPath));
const rf = receptiveField(g);
console.log(`\nlandmark generator budget: ${path.relative(process.cwd(), modelPath)} (${g.layers[0].cout} channels, receptive field ${rf} mel frames, look-ahead ${g.lookAhead} frames)`);
console.log(`  onnxruntime-web ${ort.env.versions.web ?? '?'} wasm, numThreads ${ort.env.wasm.numThreads}, Node ${process.version}, ${seconds} s of audio`);

// Generator alone.
const session = await OnnxGenerator.create(ort, bytes, ['wasm']);
const frames = seconds * LANDMARK_FPS;
const nMel = melFramesFor(g, frames);
const mel = new Float32Array(nMel * MEL.bins);
for (let i = 0; i < mel.length; i++) mel[i] = -8 + 4 * Math.sin(i * 0.013) + Math.sin(i * 0.7);
const win = mel.slice(0, rf * MEL.bins);
// Warm-up: the first runs allocate, and V8 tiers the wasm up on background threads.
for (let i = 0; i < 300; i++) await session.run(win, rf);
await session.run(mel, nMel);
const liveWall: number[] = [];
let c0 = cpuMs();
for (let i = 0; i < frames; i++) {
  const t0 = performance.now();
  await session.run(win, rf);
  liveWall.push(performance.now() - t0);
}
const liveCpu = (cpuMs() - c0) / frames;
const offWall: number[] = [];
c0 = cpuMs();
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await session.run(mel, nMel);
  offWall.push((performance.now() - t0) / frames);
}
const offCpu = (cpuMs() - c0) / 5 / frames;
await session.release();

// The whole live service, 40 ms chunks at 48 kHz.
const pcm = syntheticSpeech(seconds * RATE, RATE);
const service = new GeneratorService(ort, ['wasm']);
await service.load(bytes);
await service.push(pcm.subarray(0, RATE), RATE); // warm-up
await service.reset();
const chunk = RATE / LANDMARK_FPS;
let emitted = 0;
let t0 = performance.now();
c0 = cpuMs();
for (let at = 0; at < pcm.length; at += chunk) emitted += (await service.push(pcm.subarray(at, at + chunk), RATE)).length;
const serviceWall = (performance.now() - t0) / emitted;
const serviceCpu = (cpuMs() - c0) / emitted;
await service.reset();

// Latency with 128-sample chunks.
const runsBefore = service.info().runs;
const lookAheadMs = g.lookAhead * FRAME_MS;
const audioPart: number[] = [];
const pushWall: number[] = [];
const pushCpu: number[] = [];
const addedWall: number[] = [];
for (let at = 0; at < pcm.length; at += 128) {
  t0 = performance.now();
  c0 = cpuMs();
  const out = await service.push(pcm.subarray(at, at + 128), RATE);
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  for (const f of out) {
    const a = (f.emittedAt - f.time) * 1000 - lookAheadMs;
    audioPart.push(a);
    pushWall.push(wall);
    pushCpu.push(cpu);
    addedWall.push(a + wall);
  }
}
const runs = service.info().runs - runsBefore;
const threads = readThreads();
await service.dispose();

console.log('  ---- per 40 ms frame, one thread');
line('generator live (one run per frame), median', median(liveWall), 'ms', TARGET.msPerFrame, ` (mean ${(liveWall.reduce((a, b) => a + b, 0) / frames).toFixed(3)} ms, CPU ${liveCpu.toFixed(3)} ms)`);
line('generator offline (one run, whole track)', median(offWall), 'ms', TARGET.msPerFrame, ` (CPU ${offCpu.toFixed(3)} ms)`);
line('live service: resample + mel + ORT, 40 ms chunks', serviceWall, 'ms', TARGET.msPerFrame, ` (CPU ${serviceCpu.toFixed(3)} ms)`);
console.log('  ---- model');
line('model file size', bytes.length / 1e6, 'MB', TARGET.modelBytes / 1e6, ` (${bytes.length} bytes)`);
console.log('  ---- latency beyond the 2-frame look-ahead (128-sample chunks at 48 kHz)');
const fmt = (xs: number[]) => `median ${median(xs).toFixed(2)}, p99 ${quantile(xs, 0.99).toFixed(2)}, worst ${Math.max(...xs).toFixed(2)}`;
line('added latency, 99% of frames', quantile(addedWall, 0.99), 'ms', TARGET.addedLatencyMs, ` (${addedWall.length} frames, ${runs} session runs)`);
console.log(`    = audio wait ${fmt(audioPart)} ms (mel window 22.5 ms + resampler half filter + the 128-sample quantum)`);
console.log(`    + compute of the push that completed the frame: wall ${fmt(pushWall)} ms; CPU ${fmt(pushCpu)} ms`);
console.log(`    all frames: ${fmt(addedWall)} ms (a worst wall figure far above its CPU figure is this shared machine preempting the process)`);
console.log(`  OS threads of this process: ${threadsAtStart} before onnxruntime started, ${threads} after every run (Node's own main, libuv and V8 helpers; CPU times above also count V8's background GC)`);
console.log(`  real-time factor of the live service: ${(FRAME_MS / serviceWall).toFixed(1)}x faster than real time on one thread`);
