/**
 * The assertions every WebGPU-vs-CPU parity report must pass (Node only: vitest's expect; the
 * report itself comes from tests/helpers/webgpu-parity.ts, which also runs in Chromium).
 */
import { expect } from 'vitest';
import type { ParityReport } from './webgpu-parity.ts';

export interface ParityBounds {
  /** Most RGBA8 pixels allowed off by a level from the CPU conversion (fraction). */
  maxRgbaFractionOff?: number;
  /** Least mean composited weight: a visible head, not the background alone. */
  minWeight?: number;
}

export function expectParity(r: ParityReport, bounds: ParityBounds = {}): void {
  expect(r.precision).toBe('f32');
  expect(r.psnr).toBeGreaterThanOrEqual(45);
  expect(r.passesGpu).toEqual(r.passesCpu);
  expect(r.samplesMismatch).toBe(0);
  expect(r.traceCountMismatch).toBe(0);
  expect(r.sampleMaxDiff).toBeLessThan(1e-5);
  expect(r.codeMaxDiff).toBeLessThan(1e-3);
  expect(r.smoothedCodeMaxDiff).toBeLessThan(1e-3);
  expect(r.filmMaxDiff).toBeLessThan(1e-3);
  expect(r.rgbaEncodingErrors).toBe(0);
  if (bounds.maxRgbaFractionOff !== undefined) expect(r.rgbaFractionOff).toBeLessThan(bounds.maxRgbaFractionOff);
  expect(r.totalSamples).toBeGreaterThan(0);
  if (bounds.minWeight !== undefined) expect(r.meanWeightSum).toBeGreaterThan(bounds.minWeight);
}
