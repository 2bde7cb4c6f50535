/**
 * The person-specific generator as a long job: GeneratorTraining (the code `r2talker
 * train-generator` runs) driven step by step with progress, cancellation and checkpoints, so
 * the create page's worker can pause it, lose the tab and continue bit-identically. Platform-
 * free: checkpoints go through the caller's read/write functions (OPFS in the browser, memory
 * or files in Node).
 */
import { R2TalkerError } from '../worker/errors.ts';
import { generatorToOnnx } from '../worker/landmarks/onnx-export.ts';
import { mapGenerator, type LandmarkMap } from '../worker/model/landmark-map.ts';
import { decodeGeneratorCheckpoint, encodeGeneratorCheckpoint } from './generator-checkpoint.ts';
import { GeneratorTraining, type TrainOptions, type TrainProgress, type TrainResult, type TrainingPair } from './train-generator.ts';

export interface GeneratorCheckpointIo {
  readCheckpoint(): Promise<Uint8Array | null>;
  writeCheckpoint(bytes: Uint8Array): Promise<void>;
}

export interface ResumableOptions {
  signal?: AbortSignal;
  /** a checkpoint every this many steps (0 = only when stopped) */
  checkpointEvery: number;
  onProgress?: (p: TrainProgress) => void;
  onCheckpoint?: (step: number, steps: number) => Promise<void> | void;
}

/** Trains (or finishes training) with `options`; throws ABORTED, after checkpointing, when `signal` fires. */
export async function trainGeneratorResumable(pairs: TrainingPair[], options: Partial<TrainOptions>, io: GeneratorCheckpointIo, r: ResumableOptions): Promise<TrainResult> {
  const run = new GeneratorTraining(pairs, options);
  const saved = await io.readCheckpoint();
  if (saved) run.restore(decodeGeneratorCheckpoint(saved, 'the generator checkpoint'), 'the generator checkpoint');
  const snapshot = async () => {
    await io.writeCheckpoint(encodeGeneratorCheckpoint(run.state()));
    await r.onCheckpoint?.(run.stepsDone, run.steps);
  };
  let lastYield = Date.now();
  while (!run.done) {
    // The steps are synchronous CPU work: without turning the event loop a pause message
    // (or Ctrl-C) would wait for the whole run.
    if (Date.now() - lastYield > 50) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = Date.now();
    }
    if (r.signal?.aborted) {
      await snapshot();
      throw new R2TalkerError('ABORTED', `generator training interrupted at step ${run.stepsDone}`);
    }
    const p = run.next();
    r.onProgress?.(p);
    if (r.checkpointEvery > 0 && p.step % r.checkpointEvery === 0 && !run.done) await snapshot();
  }
  const result = run.result();
  await snapshot();
  return result;
}

/**
 * The trained generator as the `.r2t` embeds it (ONNX), with what it was trained on; the CLI
 * writes the same. `map`: the landmark map of the avatar it goes into (avatarLandmarkMap), which
 * was trained on the person's landmarks moved into another space; the generator, trained on the
 * person's own track, goes through the same map.
 */
export function trainedGeneratorOnnx(result: TrainResult, frames: number, epochs: number, map: LandmarkMap | null = null): Uint8Array {
  return generatorToOnnx(map ? mapGenerator(result.generator, map) : result.generator, {
    source: 'train-generator',
    frames: String(frames),
    epochs: String(epochs),
    trainLoss: result.trainLoss.toFixed(5),
    validationLoss: result.validationLoss === null ? 'none' : result.validationLoss.toFixed(5),
  });
}
