/**
 * Bias-free fully connected layers as the reference MLPs use them: weights [out, in]
 * row-major (PyTorch's Linear layout), y = W x.
 */

import { SimdMlp, simdLayersExist } from './simd-mlp.ts';

/**
 * y[yOff + o] = sum_i W[o*inDim + i] * x[xOff + i] for o < outDim, each sum in float64 in input
 * order. Layers put in a SIMD kernel (simd-mlp.ts) run there, with the same result, when x and
 * y are that kernel's vectors.
 */
export function linear(
  W: Float32Array,
  outDim: number,
  inDim: number,
  x: ArrayLike<number>,
  xOff: number,
  y: Float32Array,
  yOff: number,
): void {
  if (simdLayersExist && SimdMlp.run(W, outDim, inDim, x, xOff, y, yOff)) return;
  for (let o = 0; o < outDim; o++) {
    const row = o * inDim;
    let acc = 0;
    for (let i = 0; i < inDim; i++) acc += W[row + i] * x[xOff + i];
    y[yOff + o] = acc;
  }
}

export function relu(v: Float32Array, off: number, n: number): void {
  for (let i = off; i < off + n; i++) if (v[i] < 0) v[i] = 0;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * FiLM as the reference computes it (model-spec §5): h <- h * (1 + b) + a with
 * a = g[0:H], b = g[H:2H] of the conditioning vector g (length 2H).
 */
export function film(h: Float32Array, off: number, H: number, g: Float32Array): void {
  for (let i = 0; i < H; i++) h[off + i] = h[off + i] * (1 + g[H + i]) + g[i];
}
