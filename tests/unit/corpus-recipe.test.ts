import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../worker/io/npy.ts';
import { readWav } from '../../worker/io/wav.ts';
import { makeCorpus } from '../../scripts/make-corpus.ts';
import { makeUtterances, sentencesOf } from '../../scripts/corpus/sentences.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('corpus recipe', () => {
  it('the same seed gives the same texts, voices, prosody and phoneme sequence, with timings within 10 ms', async () => {
    // eSpeak NG's wasm build seeds its own random pitch flutter from the clock, so the audio
    // (and the timings by a few milliseconds) is not bit-identical between runs.
    const a = await mkdtemp(path.join(os.tmpdir(), 'corpus-a-'));
    const b = await mkdtemp(path.join(os.tmpdir(), 'corpus-b-'));
    dirs.push(a, b);
    const ma = await makeCorpus(a, 7, 1, 'train');
    const mb = await makeCorpus(b, 7, 1, 'train');
    const c = ma.clips[0];
    const d = mb.clips[0];
    expect([d.text, d.voice, d.rate, d.pitch]).toEqual([c.text, c.voice, c.rate, c.pitch]);
    expect(d.phonemes.map((p) => p.id)).toEqual(c.phonemes.map((p) => p.id));
    c.phonemes.forEach((p, i) => expect(Math.abs(p.start - d.phonemes[i].start)).toBeLessThan(0.01));
    expect(Math.abs(c.frames - d.frames)).toBeLessThanOrEqual(1);
    const wav = readWav(new Uint8Array(await readFile(path.join(a, c.wav))));
    const npy = readNpy(new Uint8Array(await readFile(path.join(a, c.landmarks))));
    expect(npy.shape).toEqual([c.frames, 68, 3]);
    expect(npy.dtype).toBe('float32');
    expect(c.frames).toBe(Math.ceil(Math.ceil((wav.samples.length * 16000) / wav.sampleRate) / 640));
    const duration = wav.samples.length / wav.sampleRate;
    const spoken = c.phonemes.filter((p) => p.id !== '');
    expect(spoken.length).toBeGreaterThan(10);
    expect(spoken[0].start).toBeGreaterThan(0.2); // the leading silence
    expect(spoken[spoken.length - 1].end).toBeLessThanOrEqual(duration);
  });

  it('held-out utterances share no sentence with the training utterances of the same seed', () => {
    const train = sentencesOf(makeUtterances(3, 2000));
    const held = makeUtterances(3 * 2 + 2 + 1_000_003, 100, train);
    expect(held).toHaveLength(100);
    for (const s of sentencesOf(held)) expect(train.has(s)).toBe(false);
  });
});
