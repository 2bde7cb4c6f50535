import { describe, expect, it } from 'vitest';
import { createGenerator } from '../../worker/landmarks/model.ts';
import { predictLandmarks } from '../../worker/landmarks/stream.ts';
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

  it('keeps a normalised generator\'s feature normalisation, so the extension feeds it the features it was trained on', () => {
    const g = createGenerator({ channels: 16, lookAhead: 2 }, 3);
    const mean = Array.from({ length: 80 }, (_, i) => -6 + i * 0.01);
    const std = Array.from({ length: 80 }, (_, i) => 1 + i * 0.02);
    g.featureNorm = { kind: 'online-mvn', tau: 3, priorSeconds: 1, gate: -9, mean, std, quietFloor: 1.5 };
    const back = unpackGenerator(packGenerator(g));
    expect(back.featureNorm).toEqual(g.featureNorm);
    const x = Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin(i * 0.05) * Math.max(0, Math.sin(i / 800)));
    expect(predictLandmarks(back, x, 16000).landmarks).toEqual(predictLandmarks(g, x, 16000).landmarks);
    expect(unpackGenerator(packGenerator(createGenerator({ channels: 16, lookAhead: 2 }, 3))).featureNorm).toBeUndefined();
    // a malformed normalisation is refused when the pack is read, naming the field
    const bad = packGenerator({ ...g, featureNorm: { ...g.featureNorm, tau: 3 } });
    const len = new DataView(bad.buffer, bad.byteOffset).getUint32(0, true);
    const header = new TextDecoder().decode(bad.subarray(4, 4 + len)).replace('"tau":3', '"tau":0');
    bad.set(new TextEncoder().encode(header), 4);
    expect(() => unpackGenerator(bad)).toThrow(/featureNorm.tau/);
  });

  it('rejects a truncated pack naming what is missing', () => {
    const bytes = packGenerator(createGenerator({ channels: 16, lookAhead: 2 }, 3));
    expect(() => unpackGenerator(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
    expect(() => unpackGenerator(new Uint8Array(4))).toThrow(/at least 8 bytes/);
  });
});
