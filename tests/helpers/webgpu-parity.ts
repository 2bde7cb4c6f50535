/**
 * Parity between the WebGPU renderer and the CPU reference, as plain functions so the Node
 * suite and the Chromium page run exactly the same checks (no node:* imports here).
 */
import type { Avatar } from '../../worker/avatar/types.ts';
import { computeFilm, LandmarkConditioner } from '../../worker/model/conditioning.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { headSample, createHeadScratch } from '../../worker/model/head-field.ts';
import { marchImage } from '../../worker/model/march.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { GpuRenderer, type GpuRendererOptions } from '../../worker/render/renderer.ts';
import { windowPointsFor } from './webgpu-avatar.ts';

export interface ParityReport {
  name: string;
  precision: string;
  psnr: number;
  passesCpu: number[];
  passesGpu: number[];
  samplesMismatch: number;
  totalSamples: number;
  meanWeightSum: number;
  codeMaxDiff: number;
  smoothedCodeMaxDiff: number;
  filmMaxDiff: number;
  /** Largest |x_gpu - x_cpu| over the traced samples of every ray. */
  sampleMaxDiff: number;
  /** Fraction of RGBA8 channels more than 1 off the CPU frame's truncation (float noise crossing steps). */
  rgbaFractionOff: number;
  /** Channels where the GPU RGBA8 is not floor(255 * the GPU float image) (must be 0). */
  rgbaEncodingErrors: number;
  /** Rays whose traced sample count differs. */
  traceCountMismatch: number;
  /** The field kernels that rendered: [head, torso]. */
  kernels: [string, string | null];
  /** How the fused path composited ('batch' or 'stepwise'). */
  compositing: string;
}

export function psnrOf(a: Float32Array, b: Float32Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  const mse = se / a.length;
  return mse === 0 ? 200 : 10 * Math.log10(1 / mse);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function fractionOff(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1) n++;
  return n / a.length;
}

function encodingErrors(image: Float32Array, rgba: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < image.length / 3; i++) {
    for (let k = 0; k < 3; k++) if (rgba[i * 4 + k] !== Math.floor(Math.fround(image[i * 3 + k] * 255))) n++;
    if (rgba[i * 4 + 3] !== 255) n++;
  }
  return n;
}

export async function runParity(name: string, avatar: Avatar, pose: Float32Array, gpu: GPU, traceCap = 24, options: Pick<GpuRendererOptions, 'kernels' | 'compile' | 'samplesPerInvocation' | 'compositing'> = {}): Promise<ParityReport> {
  const w = loadModelWeights(avatar);
  const cond = avatar.config.condition;
  const count = cond.numLandmarks * cond.window;
  const numbers = cond.numLandmarks * 3;
  const conditioner = new LandmarkConditioner(w, { mean: new Float32Array(numbers), std: new Float32Array(numbers).fill(1) });
  const pts0 = windowPointsFor(count, 11);
  const pts1 = windowPointsFor(count, 12);
  const code0 = conditioner.code(pts0);
  const code1 = conditioner.code(pts1); // EMA-smoothed with code0
  const film = computeFilm(w, code1);
  const eye = 0.3;
  const cpu = new CpuRenderer(w, avatar.camera);
  const ref = cpu.render({ film1: film.film1, film2: film.film2, pose, eye });
  const scratch = createHeadScratch(w);
  const traced = marchImage(cpu.buildRays(pose), w.bitfield, w.config.march, (x, d, out) => headSample(w, film.film1, film.film2, eye, x, d, scratch, out), { recordSamples: true });

  const renderer = await GpuRenderer.create(avatar, { gpu, traceCap, ...options });
  try {
    const g0 = await renderer.render({ windowPoints: pts0, pose, eye }, ['code']);
    const g1 = await renderer.render({ windowPoints: pts1, pose, eye, smoothing: cond.lipSmoothing }, ['image', 'rgba', 'stats', 'trace', 'code', 'film']);
    const H = avatar.config.head.hiddenDim * 2;
    const filmRef = new Float32Array(2 * H);
    filmRef.set(film.film1);
    filmRef.set(film.film2, H);
    let samplesMismatch = 0;
    for (let i = 0; i < ref.samplesPerRay.length; i++) if (ref.samplesPerRay[i] !== g1.samplesPerRay![i]) samplesMismatch++;
    let sampleMaxDiff = 0;
    let traceCountMismatch = 0;
    const cap = traceCap;
    for (let r = 0; r < ref.samplesPerRay.length; r++) {
      const list = traced.samples![r];
      const n = Math.min(list.length, cap);
      if (Math.min(g1.samplesPerRay![r], cap) !== n) traceCountMismatch++;
      for (let k = 0; k < n; k++) {
        const base = (r * cap + k) * 4;
        for (let d = 0; d < 3; d++) sampleMaxDiff = Math.max(sampleMaxDiff, Math.abs(g1.trace![base + d] - list[k].x[d]));
        sampleMaxDiff = Math.max(sampleMaxDiff, Math.abs(g1.trace![base + 3] - list[k].dt));
      }
    }
    const refRgba = new Uint8Array(ref.image.length / 3 * 4);
    for (let i = 0; i < ref.image.length / 3; i++) {
      for (let k = 0; k < 3; k++) refRgba[i * 4 + k] = Math.floor(Math.fround(ref.image[i * 3 + k] * 255));
      refRgba[i * 4 + 3] = 255;
    }
    let ws = 0;
    for (const v of ref.weightSum) ws += v;
    return {
      name,
      precision: renderer.precision,
      psnr: psnrOf(ref.image, g1.image!),
      passesCpu: ref.passes,
      passesGpu: g1.passes!,
      samplesMismatch,
      totalSamples: g1.totalSamples!,
      meanWeightSum: ws / ref.weightSum.length,
      codeMaxDiff: maxDiff(code0, g0.code!),
      smoothedCodeMaxDiff: maxDiff(code1, g1.code!),
      filmMaxDiff: maxDiff(filmRef, g1.film!),
      sampleMaxDiff,
      rgbaFractionOff: fractionOff(refRgba, g1.rgba!),
      rgbaEncodingErrors: encodingErrors(g1.image!, g1.rgba!),
      traceCountMismatch,
      kernels: renderer.kernels,
      compositing: renderer.compositing,
    };
  } finally {
    renderer.destroy();
  }
}
