/**
 * Which pixels the trainer's steps use: the torso stage's pool draw (neck and torso pixels from
 * the parsing), the head stage's mask targets, and the parsing-derived pools TrainingData keeps.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingData } from '../../trainer/nerf/data.ts';
import { MASK_FREE, maskTargets } from '../../trainer/nerf/losses.ts';
import { Rng } from '../../trainer/nerf/rng.ts';
import { samplePixelsFromPool } from '../../trainer/nerf/sampling.ts';
import { PARSING_LABEL } from '../../worker/subject/layout.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { writeAnalyticSubject } from '../helpers/nerf-subject.ts';

describe('samplePixelsFromPool', () => {
  it('draws the given fraction from the pool and the rest anywhere, deterministically', () => {
    const pool = Uint32Array.from([5, 77, 300]);
    const a = samplePixelsFromPool(new Rng(3), 20, 20, 1000, pool, 0.5);
    const b = samplePixelsFromPool(new Rng(3), 20, 20, 1000, pool, 0.5);
    expect(Array.from(a)).toEqual(Array.from(b));
    const inPool = (v: number) => pool.includes(v);
    expect(Array.from(a.subarray(0, 500)).every(inPool)).toBe(true);
    const rest = Array.from(a.subarray(500));
    expect(rest.every((v) => v < 400)).toBe(true);
    // Uniform draws of 3 pixels out of 400: almost none land in the pool.
    expect(rest.filter(inPool).length).toBeLessThan(25);
    expect(new Set(rest).size).toBeGreaterThan(200);
  });

  it('an empty pool or a zero fraction gives uniform draws only', () => {
    const u = samplePixelsFromPool(new Rng(3), 20, 20, 400, new Uint32Array(0), 0.5);
    expect(new Set(u).size).toBeGreaterThan(200);
    const z = samplePixelsFromPool(new Rng(3), 20, 20, 400, Uint32Array.from([7]), 0);
    expect(Array.from(z).filter((v) => v === 7).length).toBeLessThan(5);
  });
});

describe('parsing-derived training targets', () => {
  let data: TrainingData;
  beforeAll(async () => {
    const files = await writeAnalyticSubject({ size: 32, frames: 6, neck: true });
    data = await TrainingData.open(await openSubject(files!, nodeImageCodec));
  });

  it('mask targets: head 1, background 0, neck and torso free', async () => {
    const { parsing } = await data.images('train', 0);
    const all = Uint32Array.from({ length: parsing.length }, (_, i) => i);
    const t = maskTargets(parsing, all);
    const counts = { head: 0, neck: 0 };
    for (let p = 0; p < parsing.length; p++) {
      const want = parsing[p] === PARSING_LABEL.head ? 1 : parsing[p] === PARSING_LABEL.background ? 0 : MASK_FREE;
      expect(t[p]).toBe(want);
      if (parsing[p] === PARSING_LABEL.head) counts.head++;
      if (parsing[p] === PARSING_LABEL.neck) counts.neck++;
    }
    expect(counts.head).toBeGreaterThan(100);
    expect(counts.neck).toBeGreaterThan(4);
  });

  it('the torso pool holds exactly the neck and torso pixels', async () => {
    const { parsing, torsoPixels } = await data.images('train', 1);
    const want = [];
    for (let p = 0; p < parsing.length; p++) if (parsing[p] === PARSING_LABEL.neck || parsing[p] === PARSING_LABEL.torso) want.push(p);
    expect(want.length).toBeGreaterThan(50);
    expect(Array.from(torsoPixels)).toEqual(want);
  });
});
