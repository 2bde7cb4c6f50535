/**
 * Generator timing: milliseconds of compute per 40 ms landmark frame.
 * - `offlineMsPerFrame`: one session run over a long sequence, divided by its frames.
 * - `liveMsPerFrame`: one run per frame over exactly the receptive field (what a live
 *   player that recomputes the window each frame pays).
 * - `tsLiveMsPerFrame`: the incremental TypeScript pass (StreamingGenerator) per frame.
 * Single-threaded when the caller set `ort.env.wasm.numThreads = 1`.
 */
import { MEL } from '../audio/mel.ts';
import { StreamingGenerator } from './chain.ts';
import { MEL_PER_FRAME, melFramesFor, receptiveField, type LandmarkGenerator } from './model.ts';
import { OnnxGenerator, type OrtModule } from './onnx-runner.ts';
import { generatorToOnnx } from './onnx-export.ts';

export interface GeneratorBenchmark {
  offlineMsPerFrame: number;
  liveMsPerFrame: number;
  tsLiveMsPerFrame: number;
  modelBytes: number;
  executionProvider: string;
}

export async function benchmarkGenerator(ort: OrtModule, g: LandmarkGenerator, opts: { frames?: number; liveRuns?: number } = {}): Promise<GeneratorBenchmark> {
  const frames = Math.max(1, Math.min(opts.frames ?? 250, 10_000));
  const liveRuns = Math.max(1, Math.min(opts.liveRuns ?? 100, 10_000));
  const bytes = generatorToOnnx(g);
  const session = await OnnxGenerator.create(ort, bytes);
  try {
    const nMel = melFramesFor(g, frames);
    const mel = new Float32Array(nMel * MEL.bins);
    for (let i = 0; i < mel.length; i++) mel[i] = -8 + 4 * Math.sin(i * 0.013) + Math.sin(i * 0.7);
    await session.run(mel, nMel); // warm-up
    let t0 = performance.now();
    await session.run(mel, nMel);
    const offline = (performance.now() - t0) / frames;
    const rf = receptiveField(g);
    const win = mel.subarray(0, rf * MEL.bins);
    await session.run(win, rf);
    t0 = performance.now();
    for (let i = 0; i < liveRuns; i++) await session.run(win, rf);
    const live = (performance.now() - t0) / liveRuns;
    const chain = new StreamingGenerator(g);
    t0 = performance.now();
    let produced = 0;
    for (let at = 0; at < nMel; at += MEL_PER_FRAME) {
      const n = Math.min(MEL_PER_FRAME, nMel - at);
      produced += chain.push(mel.subarray(at * MEL.bins, (at + n) * MEL.bins), n).frames;
    }
    const ts = (performance.now() - t0) / Math.max(1, produced);
    return { offlineMsPerFrame: offline, liveMsPerFrame: live, tsLiveMsPerFrame: ts, modelBytes: bytes.length, executionProvider: session.executionProvider };
  } finally {
    await session.release();
  }
}
