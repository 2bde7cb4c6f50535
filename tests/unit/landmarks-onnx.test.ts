import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { decodeOnnx, encodeOnnx } from '../../worker/io/onnx-proto.ts';
import { createGenerator, forwardGenerator, melFramesFor } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx, generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { OnnxGenerator } from '../../worker/landmarks/onnx-runner.ts';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

function trainedLike() {
  const g = createGenerator(undefined, 7);
  for (let c = 0; c < 80; c++) {
    g.featMean[c] = -6 + c * 0.01;
    g.featScale[c] = 0.3 + c * 0.001;
  }
  for (let d = 0; d < 204; d++) {
    g.outMean[d] = Math.sin(d) * 0.5;
    g.outScale[d] = 0.05 + (d % 7) * 0.01;
  }
  for (const l of g.layers) for (let i = 0; i < l.bias.length; i++) l.bias[i] = 0.01 * Math.cos(i);
  return g;
}

function melInput(n: number): Float32Array {
  return Float32Array.from({ length: n * 80 }, (_, i) => -6 + 3 * Math.sin(i * 0.37) + Math.cos(i * 0.011));
}

function expectInputError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    expect((e as FormatError).code).toBe('INPUT_FORMAT');
    expect((e as FormatError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a FormatError');
}

describe('generator ONNX export', () => {
  it('onnxruntime-web (wasm, one thread) gives the TypeScript forward pass within 1e-4', async () => {
    const g = trainedLike();
    const nMel = melFramesFor(g, 50);
    const mel = melInput(nMel);
    const ts = forwardGenerator(g, mel, nMel);
    const session = await OnnxGenerator.create(ort, generatorToOnnx(g));
    const onnx = await session.run(mel, nMel);
    await session.release();
    expect(onnx.frames).toBe(50);
    expect(ts.frames).toBe(50);
    let diff = 0;
    let spread = 0;
    for (let i = 0; i < ts.landmarks.length; i++) {
      diff = Math.max(diff, Math.abs(ts.landmarks[i] - onnx.landmarks[i]));
      spread = Math.max(spread, Math.abs(ts.landmarks[i] - g.outMean[i % 204]));
    }
    expect(spread).toBeGreaterThan(1e-2); // the comparison is not between two constants
    expect(diff).toBeLessThanOrEqual(1e-4);
  });

  it('round-trips every weight and the metadata exactly, in a model under 4 MB', () => {
    const g = trainedLike();
    g.space = 'template';
    const bytes = generatorToOnnx(g);
    expect(bytes.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    const back = generatorFromOnnx(bytes);
    expect(back.space).toBe('template');
    expect(back.lookAhead).toBe(2);
    expect(back.featScale).toEqual(g.featScale);
    expect(back.outMean).toEqual(g.outMean);
    back.layers.forEach((l, i) => {
      expect(l.weight).toEqual(g.layers[i].weight);
      expect(l.bias).toEqual(g.layers[i].bias);
    });
  });

  it('rejects a model of another kind, a missing initializer and garbage bytes with INPUT_FORMAT', () => {
    const model = decodeOnnx(generatorToOnnx(trainedLike()));
    const otherKind = { ...model, metadataProps: (model.metadataProps ?? []).map((e) => (e.key === 'r2talker.kind' ? { ...e, value: 'x' } : e)) };
    expectInputError(() => generatorFromOnnx(encodeOnnx(otherKind)), /metadata\.kind/);
    const missing = { ...model, graph: { ...model.graph, initializer: model.graph.initializer.filter((t) => t.name !== 'conv2.bias') } };
    expectInputError(() => generatorFromOnnx(encodeOnnx(missing)), /conv2\.bias/);
    expectInputError(() => generatorFromOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])), /^generator/);
  });
});
