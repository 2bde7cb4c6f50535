import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../worker/errors.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { readWav, writeWav } from '../../worker/io/wav.ts';
import { lipOpening } from '../../worker/landmarks/quality.ts';
import { alignedToPhonemes, arpabetToIpa, AH_STRESSED_SECONDS } from '../../scripts/corpus/arpabet.ts';
import { normaliseTranscript, numberWords } from '../../scripts/corpus/transcript.ts';
import { visemeClasses } from '../../scripts/corpus/visemes.ts';
import { FLITE_VOICES } from '../../scripts/corpus/flite.ts';
import { picoPlan } from '../../scripts/corpus/pico.ts';
import { heldoutUtterances, sentencesOf, trainUtterances } from '../../scripts/corpus/sentences.ts';
import { ASTERISK_SOUNDS, makeAlignedCorpus, pocketsphinxAligner, pocketsphinxTestJobs, type AlignResult, type Aligner } from '../../scripts/make-aligned-corpus.ts';

describe('transcript normalisation for the aligner', () => {
  it('spells numbers as they are read', () => {
    expect(numberWords('0')).toEqual(['zero']);
    expect(numberWords('15')).toEqual(['fifteen']);
    expect(numberWords('42')).toEqual(['forty', 'two']);
    expect(numberWords('100')).toEqual(['one', 'hundred']);
    expect(numberWords('2019')).toEqual(['two', 'thousand', 'nineteen']);
    // Long digit strings and leading zeros are read digit by digit, like phone numbers.
    expect(numberWords('5551234')).toEqual(['five', 'five', 'five', 'one', 'two', 'three', 'four']);
    expect(numberWords('07')).toEqual(['zero', 'seven']);
    expect(() => numberWords('1a')).toThrow(/expected digits/);
  });

  it('lower-cases, drops punctuation, splits hyphens, keeps apostrophes and speaks symbols', () => {
    expect(normaliseTranscript('Call-Forward on No Answer.')).toBe('call forward on no answer');
    expect(normaliseTranscript("Waldo's premier provider, press 1!")).toBe("waldo's premier provider press one");
    expect(normaliseTranscript('press * to pause, or # to exit')).toBe('press star to pause or pound to exit');
    expect(normaliseTranscript('At the tone the time will be exactly...')).toBe('at the tone the time will be exactly');
  });

  it('refuses texts that describe sounds instead of speech', () => {
    expect(normaliseTranscript('[ascending tones]')).toBeNull();
    expect(normaliseTranscript('...')).toBeNull();
  });
});

describe('ARPAbet phones to the corpus visemes', () => {
  it('gives every phone the class eSpeak NG gives the same sound', () => {
    const cls = (p: string, s = 0.1) => visemeClasses(arpabetToIpa(p, s));
    expect(cls('M')).toEqual(['bilabial']);
    expect(cls('B')).toEqual(['bilabial']);
    expect(cls('P')).toEqual(['bilabial']);
    expect(cls('F')).toEqual(['labiodental']);
    expect(cls('AA')).toEqual(['open']);
    expect(cls('OW')).toEqual(['back-round', 'rounded']);
    expect(cls('UW')).toEqual(['rounded']);
    expect(cls('IY')).toEqual(['front']);
    expect(cls('CH')).toEqual(['postalveolar']);
    expect(cls('SIL')).toEqual(['rest']);
    expect(cls('+NSN+')).toEqual(['rest']);
  });

  it('reads AH by its length: long ones are the open stressed vowel, short ones schwa', () => {
    expect(visemeClasses(arpabetToIpa('AH', AH_STRESSED_SECONDS + 0.02))).toEqual(['open']);
    expect(visemeClasses(arpabetToIpa('AH', AH_STRESSED_SECONDS - 0.02))).toEqual(['schwa']);
  });

  it('rejects a phone it does not know', () => {
    expect(() => arpabetToIpa('QX', 0.1)).toThrow(ConfigError);
  });

  it('fills gaps, the lead-in and the tail with pauses and clips phones to the audio', () => {
    const ph = alignedToPhonemes([{ p: 'M', start: 0.3, end: 0.4 }, { p: 'AA', start: 0.45, end: 0.6 }, { p: 'SIL', start: 0.6, end: 0.9 }, { p: 'IY', start: 0.9, end: 1.4 }], 1.2);
    expect(ph.map((p) => p.id)).toEqual(['', 'm', '', 'ɑ', '', 'i']);
    expect(ph[0]).toEqual({ id: '', start: 0, end: 0.3 });
    expect(ph[ph.length - 1].end).toBeCloseTo(1.2);
    for (let i = 1; i < ph.length; i++) expect(ph[i].start).toBeCloseTo(ph[i - 1].end);
  });

  it('rejects phones out of order', () => {
    expect(() => alignedToPhonemes([{ p: 'M', start: 0.5, end: 0.6 }, { p: 'AA', start: 0.2, end: 0.3 }], 1)).toThrow(/alignment.phones\[1\]/);
    expect(() => alignedToPhonemes([{ p: 'M', start: 0.5, end: 0.4 }], 1)).toThrow(/alignment.phones\[0\]/);
  });
});

describe('evaluation hygiene of the training sources', () => {
  it('never trains on the LibriVox clips in PocketSphinx test data nor on ARCTIC-derived Flite voices', () => {
    const jobs = pocketsphinxTestJobs('/ps');
    expect(jobs.length).toBe(9);
    expect(jobs.filter((j) => /librivox/i.test(j.audio))).toEqual([]);
    expect(FLITE_VOICES.filter((v) => /awb|rms|slt/.test(v))).toEqual([]);
  });

  it('has SVOX Pico read training sentences that no held-out utterance and no eSpeak NG or Flite clip says', () => {
    const plan = picoPlan(1, 300);
    expect(plan.length).toBe(300);
    const pico = sentencesOf(plan.map((u) => u.text));
    const heldout = sentencesOf(heldoutUtterances(1, 200));
    expect([...pico].filter((s) => heldout.has(s))).toEqual([]);
    // Whole utterances differ from the other synthesisers' (single sentences may recur by chance).
    const others = new Set(trainUtterances(1, 600));
    expect(plan.filter((u) => others.has(u.text))).toEqual([]);
    expect(new Set(plan.map((u) => u.voice))).toEqual(new Set(['en-US', 'en-GB']));
    for (const u of plan) {
      expect(Number(u.speed)).toBeGreaterThanOrEqual(0.8);
      expect(Number(u.pitch)).toBeLessThanOrEqual(1.25);
    }
    expect(() => picoPlan(1, 0)).toThrow(/--count/);
    expect(() => picoPlan(-1, 5)).toThrow(/--seed/);
  });
});

describe('aligned corpus builder', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'r2t-aligned-test-'));
    // 1 s of a buzz at 8 kHz (the rate of the Asterisk prompts); the fake aligner times it.
    const pcm = new Float32Array(8000);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin((2 * Math.PI * 140 * i) / 8000);
    await writeFile(path.join(dir, 'ok.wav'), writeWav([pcm], 8000, 'pcm16'));
    await writeFile(path.join(dir, 'bad.wav'), writeWav([pcm], 8000, 'pcm16'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('times the phones after the added lead-in, closes the lips on m and lists skipped clips', async () => {
    const seen: { id: string; raw: string; text: string }[] = [];
    const aligner: Aligner = async (jobs) => {
      seen.push(...jobs);
      const out: AlignResult[] = [];
      for (const j of jobs) {
        // The aligner is handed 16 kHz 16-bit audio: its length gives the padded duration.
        const total = (await readFile(j.raw)).length / 2 / 16000;
        if (j.text === 'bad') out.push({ id: j.id, ok: false, error: 'no alignment path' });
        else out.push({ id: j.id, ok: true, score: -5, phones: [{ p: 'SIL', start: 0, end: total / 2 - 0.3 }, { p: 'AA', start: total / 2 - 0.3, end: total / 2 - 0.04 }, { p: 'M', start: total / 2 - 0.04, end: total / 2 + 0.04 }, { p: 'AA', start: total / 2 + 0.04, end: total / 2 + 0.3 }] });
      }
      return out;
    };
    const out = path.join(dir, 'corpus');
    const m = await makeAlignedCorpus(
      [
        { source: 'fake-speaker', audio: path.join(dir, 'ok.wav'), text: 'Mama!' },
        { source: 'fake-speaker', audio: path.join(dir, 'bad.wav'), text: 'bad' },
        { source: 'fake-speaker', audio: path.join(dir, 'ok.wav'), text: '[tone]' },
      ],
      out,
      3,
      aligner,
    );
    expect(seen.map((s) => s.text)).toEqual(['mama', 'bad']);
    expect(m.clips).toHaveLength(1);
    expect(m.skipped.map((s) => s.reason)).toEqual(['transcript is not speech: "[tone]"', 'no alignment path']);
    const c = m.clips[0];
    expect(c.source).toBe('fake-speaker');
    expect(c.sampleRate).toBe(8000);
    const wav = readWav(new Uint8Array(await readFile(path.join(out, c.wav))));
    expect(wav.samples.length / 8000).toBeGreaterThan(1.5);
    expect(wav.samples.length / 8000).toBeLessThan(2.41);
    const track = readNpy(new Uint8Array(await readFile(path.join(out, c.landmarks))));
    expect(track.shape).toEqual([c.frames, 68, 3]);
    const open = lipOpening(track.data as Float32Array, c.frames);
    expect(c.closureFrames).toHaveLength(1);
    const f = c.closureFrames[0];
    expect(Math.abs(f / 25 - wav.samples.length / 8000 / 2)).toBeLessThan(0.03);
    const peak = Math.max(...open);
    expect(peak).toBeGreaterThan(0.5);
    expect(open[f]).toBeLessThan(0.2 * peak);
    expect(c.silenceFrames[0]).toBe(0);
    expect(JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')).clips[0].id).toBe(c.id);
  });

  it('fails with a specific error when nothing could be aligned', async () => {
    const none: Aligner = async (jobs) => jobs.map((j) => ({ id: j.id, ok: false as const, error: 'words not in the CMU dictionary: zzz' }));
    await expect(makeAlignedCorpus([{ source: 's', audio: path.join(dir, 'ok.wav'), text: 'zzz' }], path.join(dir, 'none'), 1, none)).rejects.toThrow(/no recording could be aligned.*zzz/);
    await expect(makeAlignedCorpus([], path.join(dir, 'none'), 1, none)).rejects.toThrow(/expected 1\.\.\d+ recordings/);
  });

  // The real aligner needs PocketSphinx (pip) and a real recording (apt); both are data tools,
  // so machines without them skip this check.
  const hasAligner = spawnSync(process.env.PYTHON ?? 'python3', ['-c', 'import pocketsphinx'], { stdio: 'ignore' }).status === 0;
  const prompt = path.join(ASTERISK_SOUNDS, 'agent-loginok.wav');
  it.skipIf(!hasAligner || !existsSync(prompt))('PocketSphinx aligns a real recording: the dictionary phones, the first vowel where the speech is', async () => {
    const out = path.join(dir, 'real');
    const m = await makeAlignedCorpus([{ source: 'asterisk-allison', audio: prompt, text: 'Agent logged in.' }], out, 1, pocketsphinxAligner);
    const c = m.clips[0];
    // "agent logged in" with the dictionary's phones (the AH of "agent" may read as either vowel).
    const phones = c.phonemes.filter((p) => p.id !== '').map((p) => p.id.replace('ʌ', 'ə'));
    expect(phones).toEqual(['eɪ', 'dʒ', 'ə', 'n', 't', 'l', 'ɔ', 'ɡ', 'd', 'ɪ', 'n']);
    const wav = readWav(new Uint8Array(await readFile(path.join(out, c.wav))));
    // Speech energy at the aligned first vowel is far above the added lead-in's noise floor.
    const first = c.phonemes.find((p) => p.id !== '')!;
    const rms = (a: number, b: number) => {
      let s = 0;
      const i0 = Math.floor(a * wav.sampleRate);
      const i1 = Math.floor(b * wav.sampleRate);
      for (let i = i0; i < i1; i++) s += wav.samples[i] ** 2;
      return Math.sqrt(s / Math.max(1, i1 - i0));
    };
    expect(rms(first.start, first.end)).toBeGreaterThan(30 * rms(0, Math.max(0.05, first.start - 0.1)));
  }, 60_000);
});
