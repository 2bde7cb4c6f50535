import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../worker/io/npy.ts';
import { readWav } from '../../worker/io/wav.ts';
import { WIDE_VARIANTS, makeCorpus } from '../../scripts/make-corpus.ts';
import { heldoutUtterances, makeUtterances, sentencesOf, trainUtterances } from '../../scripts/corpus/sentences.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('corpus recipe', () => {
  it('the same seed gives the same files byte for byte, in one process and whatever the clock reads', async () => {
    // eSpeak NG's wasm build seeds rand() (pitch flutter, breath noise) from the clock when it
    // starts; corpus/espeak.ts pins that clock and makeCorpus restarts it, so neither a second
    // corpus in the same process nor another start time changes a sample. Held-out clip 1 uses
    // such a variant (its audio differed in two thirds of its samples between runs before).
    const a = await mkdtemp(path.join(os.tmpdir(), 'corpus-a-'));
    const b = await mkdtemp(path.join(os.tmpdir(), 'corpus-b-'));
    dirs.push(a, b);
    await makeCorpus(a, 1, 2, 'heldout');
    const now = Date.now;
    Date.now = () => now() + 3_600_000;
    try {
      await makeCorpus(b, 1, 2, 'heldout');
    } finally {
      Date.now = now;
    }
    for (const f of ['manifest.json', 'heldout-00000.wav', 'heldout-00000.npy', 'heldout-00001.wav', 'heldout-00001.npy']) {
      expect(Buffer.compare(await readFile(path.join(a, f)), await readFile(path.join(b, f))), f).toBe(0);
    }
  });

  it('the same seed gives the same texts, voices, prosody and phoneme sequence', async () => {
    const a = await mkdtemp(path.join(os.tmpdir(), 'corpus-a-'));
    const b = await mkdtemp(path.join(os.tmpdir(), 'corpus-b-'));
    dirs.push(a, b);
    const ma = await makeCorpus(a, 7, 1, 'train');
    const mb = await makeCorpus(b, 7, 1, 'train');
    const c = ma.clips[0];
    const d = mb.clips[0];
    expect([d.text, d.voice, d.rate, d.pitch]).toEqual([c.text, c.voice, c.rate, c.pitch]);
    expect(d.phonemes.map((p) => p.id)).toEqual(c.phonemes.map((p) => p.id));
    expect(d.phonemes).toEqual(c.phonemes);
    expect(d.frames).toBe(c.frames);
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

  it('the wide split (issue 12: more speakers) never uses a held-out voice, variant or sentence, nor the training split\'s utterances', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'corpus-wide-'));
    dirs.push(dir);
    const m = await makeCorpus(dir, 1, 12, 'wide');
    expect(m.split).toBe('wide');
    expect(m.clips).toHaveLength(12);
    const heldVoice = /^(en-gb-scotland|en-gb-x-gbclan|en-us-nyc)(\+|$)/;
    const heldVariant = /\+(m6|m7|f4|f5)$/;
    for (const c of m.clips) {
      expect(c.source).toBe('espeak-ng'); // left out with eSpeak NG in a leave-one-out row
      expect(c.voice).not.toMatch(heldVoice);
      expect(c.voice).not.toMatch(heldVariant);
      expect(c.rate).toBeGreaterThanOrEqual(110);
      expect(c.rate).toBeLessThanOrEqual(240);
      expect(c.phonemes.filter((p) => p.id !== '').length).toBeGreaterThan(5);
    }
    for (const v of ['m6', 'm7', 'f4', 'f5']) expect(WIDE_VARIANTS).not.toContain(v);
    // many more named variants than the train split's 10, each a distinct voice
    expect(new Set(WIDE_VARIANTS).size).toBe(WIDE_VARIANTS.length);
    expect(WIDE_VARIANTS.length).toBeGreaterThan(60);
    const heldout = sentencesOf(heldoutUtterances(1, 200));
    expect([...sentencesOf(m.clips.map((c) => c.text))].filter((s) => heldout.has(s))).toEqual([]);
    const train = new Set(trainUtterances(1, 600));
    expect(m.clips.filter((c) => train.has(c.text))).toEqual([]);
  });
});
