/**
 * The landmark generator as a resumable job (trainer/generator-resume.ts): stopped at any step
 * and resumed from its checkpoint it ends with exactly the generator an uninterrupted
 * `trainGenerator` run makes (augmentation, speed and silence draws included); damaged or
 * foreign checkpoints are refused with their reason; a subject with dropped frames trains on
 * each long-enough run of frames with its own stretch of the sound.
 */
import { describe, expect, it } from 'vitest';
import { AUGMENT_DEFAULTS } from '../../trainer/generator-augment.ts';
import { decodeGeneratorCheckpoint, encodeGeneratorCheckpoint } from '../../trainer/generator-checkpoint.ts';
import { MIN_RUN_FRAMES, subjectPairs } from '../../trainer/generator-pairs.ts';
import { trainGeneratorResumable } from '../../trainer/generator-resume.ts';
import { GeneratorTraining, trainGenerator, type TrainOptions, type TrainingPair } from '../../trainer/train-generator.ts';
import { readWav, writeWav } from '../../worker/io/wav.ts';
import { MemorySubjectFiles } from '../../worker/subject/files.ts';
import type { Subject } from '../../worker/subject/reader.ts';

function pair(frames: number, seed: number): TrainingPair {
  const pcm = new Float32Array(frames * 640);
  const landmarks = new Float32Array(frames * 204);
  for (let t = 0; t < frames; t++) {
    const open = 0.5 + 0.5 * Math.sin((t + seed) / 3);
    for (let i = 0; i < 640; i++) pcm[t * 640 + i] = 0.4 * open * Math.sin((2 * Math.PI * 180 * (t * 640 + i)) / 16000);
    for (let d = 0; d < 204; d++) landmarks[t * 204 + d] = Math.sin(d + seed) + (d === 57 * 3 + 1 ? -open : 0);
  }
  return { pcm, sampleRate: 16000, landmarks, frames };
}

const weights = (r: { generator: { layers: { weight: Float32Array; bias: Float32Array }[] } }) => r.generator.layers.flatMap((l) => [...l.weight, ...l.bias]);

class MemoryCheckpoint {
  bytes: Uint8Array | null = null;
  writes = 0;
  readCheckpoint = async () => this.bytes;
  writeCheckpoint = async (b: Uint8Array) => {
    this.bytes = b.slice();
    this.writes++;
  };
}

describe('trainGeneratorResumable', () => {
  const pairs = [pair(120, 1), pair(70, 4)];
  // template space: the silence and non-speech draws need it
  const options: Partial<TrainOptions> = { channels: 8, epochs: 3, segmentFrames: 20, batch: 2, seed: 7, speed: 0.1, augment: AUGMENT_DEFAULTS, nonSpeech: 0.1, quietRoom: 0.1, space: 'template' };

  it('stopped at several steps and resumed, ends with the uninterrupted run\u2019s generator', async () => {
    const straight = trainGenerator(pairs, options);
    const io = new MemoryCheckpoint();
    const seen: number[] = [];
    for (const stopAt of [2, 5, 11]) {
      const ctrl = new AbortController();
      const run = trainGeneratorResumable(pairs, options, io, {
        signal: ctrl.signal,
        checkpointEvery: 0,
        onProgress: (p) => {
          seen.push(p.step);
          if (p.step === stopAt) ctrl.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'ABORTED', message: `generator training interrupted at step ${stopAt}` });
    }
    const done = await trainGeneratorResumable(pairs, options, io, { checkpointEvery: 4, onProgress: (p) => void seen.push(p.step) });
    // no step is taken twice
    expect(seen).toEqual(Array.from({ length: straight.steps }, (_, i) => i + 1));
    expect(done.steps).toBe(straight.steps);
    expect(weights(done)).toEqual(weights(straight));
    expect(done.trainLoss).toBe(straight.trainLoss);
    expect(done.validationLoss).toBe(straight.validationLoss);
  });

  it('refuses a checkpoint of other inputs or settings, and a damaged one, saying why', async () => {
    const run = new GeneratorTraining(pairs, options);
    run.next();
    const bytes = encodeGeneratorCheckpoint(run.state());
    expect(() => new GeneratorTraining(pairs, { ...options, seed: 8 }).restore(decodeGeneratorCheckpoint(bytes))).toThrow(/made from another recording or with other settings/);
    expect(() => new GeneratorTraining([pair(120, 2), pair(70, 4)], options).restore(decodeGeneratorCheckpoint(bytes))).toThrow(/another recording/);
    expect(() => decodeGeneratorCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(/expected \d+ bytes for the arrays the header names/);
    expect(() => decodeGeneratorCheckpoint(new TextEncoder().encode('R2TNCKPT....'))).toThrow(/expected a file starting with R2TGCKPT/);
    const io = new MemoryCheckpoint();
    io.bytes = bytes;
    await expect(trainGeneratorResumable(pairs, { ...options, epochs: 4 }, io, { checkpointEvery: 0 })).rejects.toThrow(/the generator checkpoint: made from another recording or with other settings/);
  });
});

describe('subjectPairs', () => {
  function subjectWith(audIds: number[], frames: number): { files: MemorySubjectFiles; subject: Subject } {
    const files = new MemorySubjectFiles('mem:/s');
    const p = pair(frames, 3);
    files.files.set('aud.wav', writeWav([p.pcm], 16000));
    const split = { frames: audIds.map((a) => ({ audId: a, condition: p.landmarks.subarray(a * 204, (a + 1) * 204) })) };
    return { files, subject: { splits: { train: split } } as unknown as Subject };
  }

  it('splits a track with dropped frames into runs, each with its stretch of the sound; short runs are left out', async () => {
    const ids = [...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 45 + i), ...Array.from({ length: 30 }, (_, i) => 60 + i)];
    const { files, subject } = subjectWith(ids, 90);
    const got = await subjectPairs(files, subject);
    expect(got.map((p) => p.frames)).toEqual([40, 30]);
    expect(got[1].pcm.length).toBe(30 * 640);
    const whole = pair(90, 3);
    const sound = readWav(files.files.get('aud.wav')!).samples;
    // the second run's sound and track start at frame 60
    expect(Array.from(got[1].pcm)).toEqual(Array.from(sound.subarray(60 * 640, 90 * 640)));
    expect(Array.from(got[1].landmarks.subarray(0, 204))).toEqual(Array.from(whole.landmarks.subarray(60 * 204, 61 * 204)));
  });

  it('says what is missing: the sound, or any run long enough', async () => {
    const { files, subject } = subjectWith([0, 1, 2, 10, 11], 20);
    await expect(subjectPairs(files, subject)).rejects.toThrow(new RegExp(`no stretch of ${MIN_RUN_FRAMES} consecutive frames`));
    files.files.delete('aud.wav');
    await expect(subjectPairs(files, subject)).rejects.toThrow(/mem:\/s\/aud\.wav: missing/);
  });
});
