/**
 * Hand-written gradients of the generator's layers. The forward pass is the engine's own
 * (`convForward`); this file only adds what training needs: the backward pass of a valid
 * 1-D convolution with ReLU, and a forward that keeps every activation.
 */
import { convForward, convOutLength, type ConvLayer } from '../worker/landmarks/conv.ts';
import { MEL } from '../worker/audio/mel.ts';
import type { LandmarkGenerator } from '../worker/landmarks/model.ts';

export interface LayerGrads {
  weight: Float32Array;
  bias: Float32Array;
}

export function zeroGrads(g: LandmarkGenerator): LayerGrads[] {
  return g.layers.map((l) => ({ weight: new Float32Array(l.weight.length), bias: new Float32Array(l.bias.length) }));
}

/**
 * Accumulates dL/dW, dL/db and (when `dx` is given) dL/dx of one layer.
 * `y` is the layer's output (after ReLU) and `dy` the gradient w.r.t. that output.
 */
export function convBackward(layer: ConvLayer, x: Float32Array, tin: number, y: Float32Array, dy: Float32Array, grads: LayerGrads, dx: Float32Array | null): void {
  const { cin, cout, kernel, dilation, stride, relu, weight } = layer;
  const tout = convOutLength(layer, tin);
  const gw = grads.weight;
  const gb = grads.bias;
  for (let t = 0; t < tout; t++) {
    const base = t * stride;
    for (let co = 0; co < cout; co++) {
      const idx = t * cout + co;
      // ReLU passes the gradient only where the output was positive.
      const g = relu && y[idx] <= 0 ? 0 : dy[idx];
      if (g === 0) continue;
      gb[co] += g;
      for (let k = 0; k < kernel; k++) {
        const xo = (base + k * dilation) * cin;
        const wo = (co * kernel + k) * cin;
        for (let ci = 0; ci < cin; ci++) gw[wo + ci] += g * x[xo + ci];
        if (dx) for (let ci = 0; ci < cin; ci++) dx[xo + ci] += g * weight[wo + ci];
      }
    }
  }
}

export interface Activations {
  /** acts[0] = normalised input, acts[i+1] = output of layer i (the last is z, before outScale) */
  acts: Float32Array[];
  lengths: number[];
}

export function forwardTrain(g: LandmarkGenerator, mel: Float32Array, nMel: number): Activations {
  const x = new Float32Array(nMel * MEL.bins);
  for (let t = 0; t < nMel; t++) {
    for (let c = 0; c < MEL.bins; c++) x[t * MEL.bins + c] = (mel[t * MEL.bins + c] - g.featMean[c]) * g.featScale[c];
  }
  const acts: Float32Array[] = [x];
  const lengths = [nMel];
  for (const l of g.layers) {
    const tin = lengths[lengths.length - 1];
    acts.push(convForward(l, acts[acts.length - 1], tin));
    lengths.push(convOutLength(l, tin));
  }
  return { acts, lengths };
}

/** Backward through every layer from dL/dz; the input gradient is not needed. */
export function backwardTrain(g: LandmarkGenerator, a: Activations, dz: Float32Array, grads: LayerGrads[]): void {
  let dy = dz;
  for (let i = g.layers.length - 1; i >= 0; i--) {
    const l = g.layers[i];
    const dx = i > 0 ? new Float32Array(a.acts[i].length) : null;
    convBackward(l, a.acts[i], a.lengths[i], a.acts[i + 1], dy, grads[i], dx);
    if (dx) dy = dx;
  }
}
