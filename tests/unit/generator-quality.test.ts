import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { generatorFromOnnx, generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { DEFAULT_GENERATOR_PATH } from '../../cli/commands/landmarks.ts';
import { QUALITY_TARGETS, formatReport, measureQuality, readHeldout } from '../../cli/commands/generator-quality.ts';
import { makeCorpus } from '../../scripts/make-corpus.ts';

let dir = '';
let model: Uint8Array;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'r2t-quality-'));
  // The first clips of the held-out split of seed 1 (the seed the default model's corpus used):
  // voices, variants and sentences the model never saw.
  await makeCorpus(dir, 1, 6, 'heldout');
  model = new Uint8Array(await readFile(DEFAULT_GENERATOR_PATH));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('generator quality on held-out speech', () => {
  it('the committed default generator meets the lip-correlation, closure and silence targets', async () => {
    // The TypeScript pass (equal to onnxruntime's output within 1e-4, tests/unit/landmarks-onnx.test.ts) keeps this fast.
    const r = await measureQuality(model, dir, 'ts');
    expect(model.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(r.clips).toBe(6);
    expect(r.closures).toBeGreaterThan(5);
    expect(r.silenceFrames).toBeGreaterThan(10);
    expect(r.lipCorrelation).toBeGreaterThanOrEqual(QUALITY_TARGETS.lipCorrelation);
    expect(r.closureRate).toBeGreaterThanOrEqual(QUALITY_TARGETS.closureRate);
    expect(r.silenceDeviation).toBeLessThanOrEqual(QUALITY_TARGETS.silenceTolerance);
    expect(formatReport(r)).toMatch(/correlation: 0\.\d{3}.*PASS/);
  });

  it('a generator that ignores the audio fails the correlation target', async () => {
    const g = generatorFromOnnx(model);
    const head = g.layers[g.layers.length - 1];
    head.weight.fill(0);
    head.bias.fill(0);
    const r = await measureQuality(generatorToOnnx(g), dir, 'ts');
    expect(r.lipCorrelation).toBe(0);
    expect(r.pass.lipCorrelation).toBe(false);
  });

  it('rejects a manifest whose clip names leave the corpus folder, naming the clip', async () => {
    const bad = await mkdtemp(path.join(os.tmpdir(), 'r2t-bad-'));
    try {
      const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { clips: { wav: string }[] };
      m.clips[1].wav = '../../etc/passwd';
      await writeFile(path.join(bad, 'manifest.json'), JSON.stringify(m));
      await expect(readHeldout(bad)).rejects.toThrow(FormatError);
      await expect(readHeldout(bad)).rejects.toThrow(/corpus\.clips\[1\]/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
