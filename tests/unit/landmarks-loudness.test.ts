import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../worker/io/wav.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { activeRms, loudnessCheck, testSound } from '../../worker/landmarks/loudness-check.ts';
import { DEFAULT_GENERATOR_PATH } from '../../cli/commands/landmarks.ts';
import { LOUDNESS_RATIO_TARGET } from '../../cli/commands/generator-quality.ts';
import { gaussian, makeRng } from '../../worker/landmarks/model.ts';
import { trainGenerator } from '../../trainer/train-generator.ts';
import { makeCorpus } from '../../scripts/make-corpus.ts';

let dir = '';
let speech: { samples: Float32Array; sampleRate: number };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'r2t-loudness-'));
  // A held-out synthetic clip: a voice the default generator never heard.
  const m = await makeCorpus(dir, 1, 1, 'heldout');
  speech = readWav(new Uint8Array(await readFile(path.join(dir, m.clips[0].wav))));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('loudness alone does not drive the mouth', () => {
  it('the test sounds are matched to the speech loudness', () => {
    const rms = activeRms(speech.samples, speech.sampleRate);
    for (const kind of ['hum', 'noise', 'tones'] as const) {
      const s = testSound(kind, 2, speech.sampleRate, rms);
      expect(activeRms(s, speech.sampleRate) / rms).toBeCloseTo(1, 1);
    }
  });

  it('the committed default generator opens the mouth on a loudness-matched hum or noise burst far less than on speech', async () => {
    const g = generatorFromOnnx(new Uint8Array(await readFile(DEFAULT_GENERATOR_PATH)));
    const r = loudnessCheck(g, speech.samples, speech.sampleRate);
    expect(r.speech).toBeGreaterThan(0.5);
    expect(r.ratio).toBeLessThanOrEqual(LOUDNESS_RATIO_TARGET);
  }, 60_000);

  it('a generator trained to open the mouth with loudness fails the check', () => {
    // Training pairs where the inner lips part in proportion to the loudness of a buzz.
    const rate = 16000;
    const frames = 250;
    const pcm = new Float32Array(frames * 640);
    const landmarks = new Float32Array(frames * 204);
    const rng = makeRng(5);
    let open = 0;
    for (let t = 0; t < frames; t++) {
      if (t % 6 === 0) open = rng() < 0.3 ? 0 : rng();
      for (let i = 0; i < 640; i++) pcm[t * 640 + i] = 0.3 * open * Math.sin((2 * Math.PI * 150 * (t * 640 + i)) / rate) + 0.001 * gaussian(rng);
      landmarks[t * 204 + 66 * 3 + 1] = -open; // lower inner lip down
    }
    const r = trainGenerator([{ pcm, sampleRate: rate, landmarks, frames }], { channels: 8, epochs: 12, segmentFrames: 25, batch: 2, lr: 3e-3, gainDb: 0, space: 'template' });
    const check = loudnessCheck(r.generator, speech.samples, speech.sampleRate);
    expect(check.speech).toBeGreaterThan(0);
    expect(check.ratio).toBeGreaterThan(0.5);
  }, 120_000);
});
