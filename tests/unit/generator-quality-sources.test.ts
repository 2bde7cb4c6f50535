import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEL } from '../../worker/audio/mel.ts';
import { audioToMel } from '../../worker/audio/features.ts';
import { createGenerator, gaussian, makeRng } from '../../worker/landmarks/model.ts';
import { generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { activeRms } from '../../worker/landmarks/loudness-check.ts';
import { formatSourceTable, leaveOneOut, loudnessBySource, measureQuality } from '../../cli/commands/generator-quality.ts';
import { degrade, parseChannels } from '../../cli/commands/generator-quality-channels.ts';
import { loadCorpus } from '../../trainer/generator-corpus.ts';
import { makeCorpus } from '../../scripts/make-corpus.ts';

let heldout = '';
let twoSources = '';

beforeAll(async () => {
  heldout = await mkdtemp(path.join(os.tmpdir(), 'r2t-sources-'));
  await makeCorpus(heldout, 1, 4, 'heldout');
  // The same clips as a training corpus of two "voices": the first two and the last two.
  twoSources = await mkdtemp(path.join(os.tmpdir(), 'r2t-sources2-'));
  await cp(heldout, twoSources, { recursive: true });
  const m = JSON.parse(await readFile(path.join(twoSources, 'manifest.json'), 'utf8'));
  m.split = 'train';
  m.clips.forEach((c: { source: string }, i: number) => (c.source = i < 2 ? 'voice-a' : 'voice-b'));
  await writeFile(path.join(twoSources, 'manifest.json'), JSON.stringify(m));
});

afterAll(async () => {
  for (const d of [heldout, twoSources]) if (d) await rm(d, { recursive: true, force: true });
});

describe('per-source quality rows', () => {
  it('splits the figures by source, the rows adding up to the pooled clips and frames, and names the worst row', async () => {
    const g = createGenerator({ channels: 8, lookAhead: 2 }, 3);
    g.space = 'template';
    const r = await measureQuality(generatorToOnnx(g), twoSources, 'ts');
    expect(r.bySource.map((s) => s.source)).toEqual(['voice-a', 'voice-b']);
    expect(r.bySource.reduce((a, s) => a + s.clips, 0)).toBe(r.clips);
    expect(r.bySource.reduce((a, s) => a + s.frames, 0)).toBe(r.frames);
    expect(r.bySource.reduce((a, s) => a + s.closures, 0)).toBe(r.closures);
    const table = formatSourceTable(new Map([['clean', r.bySource]]));
    const worst = [...r.bySource].sort((a, b) => a.lipCorrelation - b.lipCorrelation)[0];
    expect(table).toMatch(new RegExp(`worst row: ${worst.source} \\(clean\\) lip r ${worst.lipCorrelation.toFixed(3)}`));
    expect(table.split('\n')).toHaveLength(4);
  });

  it('measures only the asked sources and says so when none is there', async () => {
    const g = createGenerator({ channels: 8, lookAhead: 2 }, 3);
    g.space = 'template';
    const r = await measureQuality(generatorToOnnx(g), twoSources, 'ts', { only: new Set(['voice-b']) });
    expect(r.bySource.map((s) => s.source)).toEqual(['voice-b']);
    await expect(measureQuality(generatorToOnnx(g), twoSources, 'ts', { only: new Set(['nobody']) })).rejects.toThrow(/no clip of source nobody/);
  });
});

describe('loudness-only rows', () => {
  it('checks up to the asked number of clips of every source and keeps each source\'s worst ratio', async () => {
    const g = createGenerator({ channels: 8, lookAhead: 2 }, 3);
    g.space = 'template';
    const rows = await loudnessBySource(generatorToOnnx(g), [twoSources], 1);
    expect(rows.map((r) => [r.source, r.clips])).toEqual([['voice-a', 1], ['voice-b', 1]]);
    for (const r of rows) expect(r.ratio).toBeCloseTo(Math.max(r.hum, r.noise) / r.speech, 6);
  }, 60_000);
});

describe('listening conditions', () => {
  const rate = 16000;
  const rng = makeRng(4);
  const white = Float32Array.from({ length: rate * 2 }, () => 0.1 * gaussian(rng));
  const bandDb = (pcm: Float32Array, lo: number, hi: number) => {
    const mel = audioToMel(pcm, rate, 0, 150);
    let s = 0;
    let n = 0;
    for (let t = 20; t < 150; t++) {
      for (let c = 0; c < MEL.bins; c++) {
        const f = 700 * (Math.pow(10, (2595 * Math.log10(1 + MEL.fmin / 700) + ((2595 * Math.log10(1 + MEL.fmax / 700) - 2595 * Math.log10(1 + MEL.fmin / 700)) * (c + 1)) / (MEL.bins + 1)) / 2595) - 1);
        if (f >= lo && f <= hi) {
          s += Math.exp(mel[t * MEL.bins + c]);
          n++;
        }
      }
    }
    return 10 * Math.log10(s / n);
  };

  it('telephone keeps 500-3000 Hz and removes what is above 4 kHz and below 150 Hz', () => {
    const tel = degrade(white, rate, 'telephone');
    expect(tel.length).toBe(white.length);
    expect(Math.abs(bandDb(tel, 500, 3000) - bandDb(white, 500, 3000))).toBeLessThan(1);
    expect(bandDb(white, 4500, 7500) - bandDb(tel, 4500, 7500)).toBeGreaterThan(30);
    expect(bandDb(white, 20, 150) - bandDb(tel, 20, 150)).toBeGreaterThan(6);
  });

  for (const [cond, snr] of [['noise20', 20], ['noise10', 10]] as const) {
    it(`${cond} adds noise ${snr} dB below the speech`, () => {
      const speech = new Float32Array(rate * 2);
      for (let i = rate / 2; i < rate * 1.5; i++) speech[i] = 0.3 * Math.sin((2 * Math.PI * 200 * i) / rate);
      const noisy = degrade(speech, rate, cond);
      const noise = noisy.map((v, i) => v - speech[i]);
      const noiseRms = Math.sqrt(noise.reduce((a, v) => a + v * v, 0) / noise.length);
      expect(20 * Math.log10(activeRms(speech, rate) / noiseRms)).toBeCloseTo(snr, 0);
      expect(degrade(speech, rate, cond)).toEqual(noisy); // seeded
    });
  }

  it('rejects an unknown condition by name', () => {
    expect(parseChannels('clean,noise20')).toEqual(['clean', 'noise20']);
    expect(() => parseChannels('clean,underwater')).toThrow(/--channels: .*"underwater"/);
  });
});

describe('leave-one-out and evaluation hygiene', () => {
  it('refuses to train on a held-out corpus', async () => {
    await expect(loadCorpus(heldout)).rejects.toThrow(/held-out \(evaluation\) corpus; never train on it/);
  });

  it('trains one generator per source without it and measures each on its own source', async () => {
    const log: string[] = [];
    const rows = await leaveOneOut([twoSources], { steps: 3, channels: 4, seed: 1, conditions: ['clean'], log: (s) => log.push(s) });
    const clean = rows.get('clean')!;
    expect(clean.map((r) => [r.source, r.clips])).toEqual([['voice-a', 2], ['voice-b', 2]]);
    expect(log.filter((l) => l.startsWith('without'))).toEqual([expect.stringMatching(/^without voice-a: 3 steps on 2 clips/), expect.stringMatching(/^without voice-b: 3 steps on 2 clips/)]);
    await expect(leaveOneOut([heldout], { steps: 3, channels: 4, seed: 1, conditions: ['clean'] })).rejects.toThrow(/never train on it/);
    // One row only (a long run resumed source by source), still trained without that source.
    const only: string[] = [];
    const b = await leaveOneOut([twoSources], { steps: 3, channels: 4, seed: 1, conditions: ['clean'], heldSources: ['voice-b'], log: (s) => only.push(s) });
    expect(b.get('clean')!.map((r) => r.source)).toEqual(['voice-b']);
    expect(only.filter((l) => l.startsWith('without'))).toEqual([expect.stringMatching(/^without voice-b: 3 steps on 2 clips/)]);
    await expect(leaveOneOut([twoSources], { steps: 3, channels: 4, seed: 1, conditions: ['clean'], heldSources: ['voice-z'] })).rejects.toThrow(/no clips of source voice-z/);
    const one = await mkdtemp(path.join(os.tmpdir(), 'r2t-sources1-'));
    try {
      await cp(twoSources, one, { recursive: true });
      const m = JSON.parse(await readFile(path.join(one, 'manifest.json'), 'utf8'));
      m.clips.forEach((c: { source: string }) => (c.source = 'voice-a'));
      await writeFile(path.join(one, 'manifest.json'), JSON.stringify(m));
      await expect(leaveOneOut([one], { steps: 3, channels: 4, seed: 1, conditions: ['clean'] })).rejects.toThrow(/at least two sources, got voice-a/);
    } finally {
      await rm(one, { recursive: true, force: true });
    }
  }, 60_000);
});
