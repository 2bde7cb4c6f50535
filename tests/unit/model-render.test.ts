import { f16round } from '@petamoriken/float16';
import { describe, expect, it } from 'vitest';
import { CpuRenderer, toRgba8, type FrameInput } from '../../worker/model/cpu-renderer.ts';
import { createHeadScratch, headSample } from '../../worker/model/head-field.ts';
import { sigmoid } from '../../worker/model/mlp.ts';
import { buildWeights, constantHeadValues, dt128, frontPose, oneLevelGrid, tinyCamera8, tinyModelConfig, type TensorValues } from '../helpers/model-fixtures.ts';

const cam = tinyCamera8();
const N = cam.width * cam.height;
const zeroFilm = (): Pick<FrameInput, 'film1' | 'film2'> => ({ film1: new Float32Array(2), film2: new Float32Array(2) });
const frame = (): FrameInput => ({ ...zeroFilm(), pose: frontPose(), eye: 0.25 });
/** A background with a different value per pixel and channel. */
const background = Uint8Array.from({ length: N * 3 }, (_, i) => (i * 37) % 256);
const bgValue = (i: number) => f16round(Math.fround(background[i] / 255));
const EMPTY = new Uint8Array(128 ** 3 / 8);

describe('headSample', () => {
  it('applies h <- W h * (1 + b) + a after both hidden layers, sigma = exp(h0), colour = sigmoid', () => {
    const config = tinyModelConfig();
    config.head = { grid: oneLevelGrid(3, 1, 2), eyeInput: true, hiddenDim: 2, geoFeatDim: 2, colorHiddenDim: 1, individualDim: 1, shDegree: 1 };
    const w = buildWeights(config, cam, {
      'encoder.embeddings': new Float32Array(32).fill(1),
      'sigma_net.net.0.weight': [1, 2, -1, 1],
      'sigma_net.net.1.weight': [1, 0, 0.5, 0],
      'sigma_net.net.2.weight': [0.4, 0, 0, 1, 1, -1],
      'color_net.net.0.weight': [0, 1, 1, 2],
      'color_net.net.1.weight': [1, -1, 0],
      individual_code: [0.25],
    });
    // features [1, eye 0.3]; layer 0: [1.6, -0.7] -> *(1+b)+a -> [2.5, -0.15] -> relu [2.5, 0]
    // layer 1: [2.5, 1.25] -> [2.5, 0.5]; out: [1.0, 0.5, 2.0]; colour hidden 0.5 + 2 + 0.5 = 3
    const film1 = Float32Array.from([0.1, 0.2, 0.5, -0.5]);
    const film2 = Float32Array.from([0, -2, 0, 1]);
    const out = new Float32Array(4);
    headSample(w, film1, film2, 0.3, [0.1, -0.2, 0.3], [0, 0, 1], createHeadScratch(w), out);
    expect(out[0]).toBeCloseTo(Math.E, 5);
    expect(out[1]).toBeCloseTo(sigmoid(3), 6);
    expect(out[2]).toBeCloseTo(sigmoid(-3), 6);
    expect(out[3]).toBeCloseTo(0.5, 6);
  });
});

describe('CpuRenderer, head only', () => {
  it('composites a constant field to 1 - exp(-sigma*dt*16) over the background, 16 passes of 1', () => {
    const sigma = 2;
    const w = buildWeights(tinyModelConfig(), cam, constantHeadValues(Math.log(sigma), [1, -1, 0.5]), background);
    const r = new CpuRenderer(w, cam).render(frame());
    const W = 1 - Math.exp(-sigma * dt128() * 16);
    const c = [sigmoid(1), sigmoid(-1), sigmoid(0.5)];
    expect(r.passes).toEqual(new Array(16).fill(1));
    for (let i = 0; i < N; i++) {
      expect(r.samplesPerRay[i]).toBe(16);
      expect(r.weightSum[i]).toBeCloseTo(W, 5);
      for (let k = 0; k < 3; k++) {
        expect(r.headRgb[i * 3 + k]).toBeCloseTo(c[k] * W, 5);
        expect(r.image[i * 3 + k]).toBeCloseTo(c[k] * W + (1 - W) * bgValue(i * 3 + k), 5);
      }
    }
  });

  it('an opaque field hides the background completely (2 samples: the second has T = 0)', () => {
    const w = buildWeights(tinyModelConfig(), cam, constantHeadValues(30, [2, 0, -2]), background);
    const r = new CpuRenderer(w, cam).render(frame());
    expect(r.passes).toEqual([1, 1]);
    for (let i = 0; i < N; i++) {
      expect(r.samplesPerRay[i]).toBe(2);
      expect(r.weightSum[i]).toBe(1);
      // the image is exactly the accumulated head colour: (1 - 1) * background adds nothing
      for (let k = 0; k < 3; k++) expect(r.image[i * 3 + k]).toBe(r.headRgb[i * 3 + k]);
      expect(r.image[i * 3]).toBeCloseTo(sigmoid(2), 6);
      expect(r.image[i * 3 + 1]).toBeCloseTo(0.5, 6);
      expect(r.image[i * 3 + 2]).toBeCloseTo(sigmoid(-2), 6);
    }
  });

  it('an empty bitfield renders exactly the float16-rounded background', () => {
    const w = buildWeights(tinyModelConfig(), cam, { ...constantHeadValues(5, [1, 1, 1]), density_bitfield: EMPTY }, background);
    const r = new CpuRenderer(w, cam).render(frame());
    expect(r.passes).toEqual([1]);
    for (let i = 0; i < N * 3; i++) expect(r.image[i]).toBe(bgValue(i));
    expect(bgValue(3)).not.toBe(Math.fround(background[3] / 255)); // the rounding is real
  });

  it('rejects a camera that does not match the background size', () => {
    const w = buildWeights(tinyModelConfig(), cam);
    expect(() => new CpuRenderer(w, { ...cam, width: 9 })).toThrow(/camera/);
  });
});

describe('CpuRenderer, torso', () => {
  // Torso grid constant 0.7; torso net picks the grid feature: alpha = sigmoid(0.7 a0), colour = sigmoid(0.7 ak).
  const torsoNet = (a: number[]): TensorValues => ({
    'torso_encoder.embeddings': new Float32Array(16).fill(0.7),
    'torso_net.net.0.weight': [1, 0, 0, 0, 0, 0, 0, 0, 0],
    'torso_net.net.1.weight': [1],
    'torso_net.net.2.weight': a,
  });
  const headOff = { ...constantHeadValues(0, [0, 0, 0]), density_bitfield: EMPTY };

  it('blends torso colour over the background with the torso alpha where the density grid is occupied', () => {
    const w = buildWeights(tinyModelConfig({ torso: true }), cam, { ...headOff, ...torsoNet([1, 2, -1, 0]), density_grid_torso: new Float32Array(64).fill(1) }, background);
    const r = new CpuRenderer(w, cam).render(frame());
    const alpha = sigmoid(0.7);
    const col = [sigmoid(1.4), sigmoid(-0.7), 0.5];
    for (let i = 0; i < N; i++) for (let k = 0; k < 3; k++) expect(r.image[i * 3 + k]).toBeCloseTo(col[k] * alpha + bgValue(i * 3 + k) * (1 - alpha), 5);
  });

  it('samples the density grid transposed: the image row indexes the grid width axis', () => {
    // grid [y][x] = 1 for x <= 3: image rows 0..3 are torso, rows 4..7 plain background
    const grid = Float32Array.from({ length: 64 }, (_, i) => (i % 8 <= 3 ? 1 : 0));
    const w = buildWeights(tinyModelConfig({ torso: true }), cam, { ...headOff, ...torsoNet([20, 20, 20, 20]), density_grid_torso: grid }, background);
    const r = new CpuRenderer(w, cam).render(frame());
    const torsoColour = sigmoid(14) * sigmoid(14) + 0; // alpha and colour both sigmoid(14)
    for (let row = 0; row < 8; row++) {
      for (let col = 0; col < 8; col++) {
        const i = (row * 8 + col) * 3;
        if (row <= 3) expect(r.image[i]).toBeCloseTo(torsoColour + bgValue(i) * (1 - sigmoid(14)), 6);
        else expect(r.image[i]).toBe(bgValue(i));
      }
    }
  });

  it('without a torso the background is used as is; with an empty torso grid too', () => {
    const off = new CpuRenderer(buildWeights(tinyModelConfig(), cam, headOff, background), cam).render(frame());
    const empty = new CpuRenderer(buildWeights(tinyModelConfig({ torso: true }), cam, { ...headOff, ...torsoNet([1, 1, 1, 1]) }, background), cam).render(frame());
    for (let i = 0; i < N * 3; i++) {
      expect(off.image[i]).toBe(bgValue(i));
      expect(empty.image[i]).toBe(bgValue(i));
    }
  });
});

describe('toRgba8', () => {
  it('truncates (floor(v*255)) rather than rounds, alpha 255', () => {
    const out = toRgba8(Float32Array.from([0.5, 0.999, 1, 0.0039, 0.004, 0]), 2, 1);
    expect(Array.from(out)).toEqual([127, 254, 255, 255, 0, 1, 0, 255]);
  });
});
