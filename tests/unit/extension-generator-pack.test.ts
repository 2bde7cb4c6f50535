import { describe, expect, it } from 'vitest';
import { createGenerator } from '../../worker/landmarks/model.ts';
import { packGenerator, unpackGenerator } from '../../worker/engine/generator-pack.ts';

describe('generator pack (the eval-free default generator the extension ships)', () => {
  it('round-trips every weight and field of a generator exactly', () => {
    const g = createGenerator({ channels: 16, lookAhead: 2 }, 3);
    const back = unpackGenerator(packGenerator(g));
    expect(back.lookAhead).toBe(g.lookAhead);
    expect(back.space).toBe(g.space);
    expect(back.featMean).toEqual(g.featMean);
    expect(back.outScale).toEqual(g.outScale);
    expect(back.layers.length).toBe(g.layers.length);
    for (let i = 0; i < g.layers.length; i++) {
      expect(back.layers[i].weight).toEqual(g.layers[i].weight);
      expect(back.layers[i].bias).toEqual(g.layers[i].bias);
      expect(back.layers[i].dilation).toBe(g.layers[i].dilation);
    }
  });

  it('rejects a truncated pack naming what is missing', () => {
    const bytes = packGenerator(createGenerator({ channels: 16, lookAhead: 2 }, 3));
    expect(() => unpackGenerator(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
    expect(() => unpackGenerator(new Uint8Array(4))).toThrow(/at least 8 bytes/);
  });
});
