/**
 * Incremental evaluation of the generator's convolution chain: feed normalised mel frames
 * as they arrive, get each output frame once its whole window is in. Each layer keeps only
 * the input frames its next output still needs. Outputs are computed by the same
 * `convForward` loop as the offline pass, on the same values, so they are bit-identical.
 */
import { MEL } from '../audio/mel.ts';
import { convForward, convOutLength, type ConvLayer } from './conv.ts';
import { LANDMARK_DIM, type LandmarkGenerator } from './model.ts';

class LayerState {
  buf: Float32Array;
  len = 0; // frames buffered
  start = 0; // absolute index of buf frame 0
  produced = 0;

  constructor(readonly layer: ConvLayer) {
    this.buf = new Float32Array(64 * layer.cin);
  }

  push(x: Float32Array, frames: number): { y: Float32Array; frames: number } {
    const { cin, stride, dilation, kernel } = this.layer;
    const keepFrom = this.produced * stride;
    const drop = Math.max(0, Math.min(this.len, keepFrom - this.start));
    if (drop > 0) {
      this.buf.copyWithin(0, drop * cin, this.len * cin);
      this.len -= drop;
      this.start += drop;
    }
    if ((this.len + frames) * cin > this.buf.length) {
      const grown = new Float32Array(Math.max(2 * this.buf.length, (this.len + frames) * cin));
      grown.set(this.buf.subarray(0, this.len * cin));
      this.buf = grown;
    }
    this.buf.set(x.subarray(0, frames * cin), this.len * cin);
    this.len += frames;
    const offset = this.produced * stride - this.start;
    const avail = this.len - offset;
    const n = convOutLength({ kernel, dilation, stride }, avail);
    if (n === 0) return { y: new Float32Array(0), frames: 0 };
    const y = convForward(this.layer, this.buf.subarray(offset * cin, (offset + (n - 1) * stride + dilation * (kernel - 1) + 1) * cin), avail);
    this.produced += n;
    return { y, frames: n };
  }
}

export class StreamingGenerator {
  private readonly states: LayerState[];

  constructor(readonly generator: LandmarkGenerator) {
    this.states = generator.layers.map((l) => new LayerState(l));
  }

  /** Raw mel frames [n][80] in; landmark frames [m][204] out. */
  push(mel: Float32Array, frames: number): { landmarks: Float32Array; frames: number } {
    const g = this.generator;
    let x: Float32Array = new Float32Array(frames * MEL.bins);
    for (let t = 0; t < frames; t++) {
      for (let c = 0; c < MEL.bins; c++) x[t * MEL.bins + c] = (mel[t * MEL.bins + c] - g.featMean[c]) * g.featScale[c];
    }
    let n = frames;
    for (const s of this.states) {
      const r = s.push(x, n);
      x = r.y;
      n = r.frames;
      if (n === 0) return { landmarks: new Float32Array(0), frames: 0 };
    }
    for (let t = 0; t < n; t++) {
      for (let d = 0; d < LANDMARK_DIM; d++) x[t * LANDMARK_DIM + d] = x[t * LANDMARK_DIM + d] * g.outScale[d] + g.outMean[d];
    }
    return { landmarks: x, frames: n };
  }
}
