/**
 * The CPU reference renderer (worker/model/cpu-renderer.ts) of the built-in demo avatar
 * behind the FrameRenderer interface. The demo head is rendered at a reduced camera (64x64
 * by default) so that the CPU gets several real renders a second; the session scales it up.
 * Runs inside the render worker: one render blocks its thread for ~0.2 s.
 */
import type { Avatar, Tensor } from '../avatar/types.ts';
import { demoLandmarkTrack, makeDemoAvatar } from '../avatar/synthetic.ts';
import { computeFilm, LandmarkConditioner } from '../model/conditioning.ts';
import { CpuRenderer, toRgba8 } from '../model/cpu-renderer.ts';
import { landmarkStatistics, normaliseClamp, type LandmarkStatistics } from '../model/landmarks.ts';
import { DEFAULT_EYE, pingPongIndex, smoothPoses } from '../model/poses.ts';
import { loadModelWeights, type ModelWeights } from '../model/weights.ts';
import type { FrameRenderer, RenderInput, RenderedFrame } from './interfaces.ts';

/** Shrinks an avatar's camera and background by an integer factor (box filter). */
export function downscaleAvatar(avatar: Avatar, factor: number): Avatar {
  if (!Number.isInteger(factor) || factor < 1 || factor > 16) throw new RangeError(`factor: expected an integer in [1, 16], got ${factor}`);
  const cam = avatar.camera;
  if (cam.width % factor !== 0 || cam.height % factor !== 0) throw new RangeError(`factor: ${factor} does not divide ${cam.width}x${cam.height}`);
  const bg = avatar.tensors.get('background');
  if (!bg || !(bg.data instanceof Uint8Array)) throw new RangeError('background: expected a uint8 tensor');
  const w = cam.width / factor;
  const h = cam.height / factor;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) sum += bg.data[((y * factor + dy) * cam.width + x * factor + dx) * 3 + k];
        out[(y * w + x) * 3 + k] = Math.round(sum / (factor * factor));
      }
    }
  }
  const tensors = new Map(avatar.tensors);
  const background: Tensor = { name: 'background', dtype: 'uint8', shape: [h, w, 3], data: out };
  tensors.set('background', background);
  return {
    ...avatar,
    camera: { fx: cam.fx / factor, fy: cam.fy / factor, cx: cam.cx / factor, cy: cam.cy / factor, width: w, height: h },
    tensors,
  };
}

export class CpuReferenceRenderer implements FrameRenderer {
  readonly name = 'cpu-reference';
  readonly isPlaceholder = false;
  private readonly renderer: CpuRenderer;
  private readonly conditioner: LandmarkConditioner;
  private readonly poses: Float32Array;
  private readonly poseCount: number;
  private readonly numbers: number;
  private readonly window: number;
  /** The last `window` normalised frames, oldest first; the newest is the look-ahead end. */
  private readonly history: Float32Array;
  private readonly scratch: Float32Array;
  private destroyed = false;

  constructor(
    private readonly weights: ModelWeights,
    avatar: Avatar,
    private readonly stats: LandmarkStatistics,
  ) {
    this.renderer = new CpuRenderer(weights, avatar.camera);
    this.conditioner = new LandmarkConditioner(weights, stats);
    const poses = avatar.tensors.get('poses');
    if (!poses || !(poses.data instanceof Float32Array) || poses.data.length % 16 !== 0 || poses.data.length === 0) throw new RangeError('poses: expected [N,4,4] float32');
    this.poseCount = poses.data.length / 16;
    this.poses = smoothPoses(poses.data, this.poseCount, 3);
    const cond = weights.config.condition;
    this.numbers = cond.numLandmarks * 3;
    this.window = cond.window;
    this.history = new Float32Array(this.window * this.numbers);
    for (let j = 0; j < this.window; j++) this.history.set(stats.mean, j * this.numbers);
    this.scratch = new Float32Array(this.numbers);
  }

  /** The built-in demo head at 1/`factor` of its 256x256 camera. */
  static demo(factor = 4): CpuReferenceRenderer {
    const avatar = downscaleAvatar(makeDemoAvatar(), factor);
    const weights = loadModelWeights(avatar);
    const frames = 100;
    const stats = landmarkStatistics(demoLandmarkTrack(frames), frames, weights.config.condition.numLandmarks * 3);
    return new CpuReferenceRenderer(weights, avatar, stats);
  }

  /** Landmarks of the demo's convention with the mouth opened by `open` (0..0.16): idle and level-driven speech. */
  neutralWithOpening(open: number): Float32Array {
    const f = Float32Array.from(this.stats.mean);
    const o = Math.max(0, Math.min(0.16, open));
    for (let lm = 0; lm < this.numbers / 3; lm++) {
      if ((lm >= 61 && lm <= 63) || (lm >= 49 && lm <= 53)) f[lm * 3 + 1] += o / 2;
      if ((lm >= 65 && lm <= 67) || (lm >= 55 && lm <= 59)) f[lm * 3 + 1] -= o / 2;
      if (lm >= 5 && lm <= 11) f[lm * 3 + 1] -= o * 0.4;
    }
    return f;
  }

  async render(input: RenderInput): Promise<RenderedFrame> {
    if (this.destroyed) throw new Error('CpuReferenceRenderer: render after destroy');
    const frame = input.landmarks && input.landmarks.length === this.numbers ? input.landmarks : this.neutralWithOpening(input.audioLevel * 1.5);
    normaliseClamp(frame, this.stats, this.scratch);
    this.history.copyWithin(0, this.numbers);
    this.history.set(this.scratch, (this.window - 1) * this.numbers);
    const { film1, film2 } = computeFilm(this.weights, this.conditioner.code(this.history));
    const p = pingPongIndex(Math.max(0, Math.floor(input.poseIndex)), this.poseCount);
    const result = this.renderer.render({ film1, film2, pose: this.poses.slice(p * 16, p * 16 + 16), eye: input.eye ?? DEFAULT_EYE });
    const data = toRgba8(result.image, result.width, result.height) as Uint8ClampedArray<ArrayBuffer>;
    return { kind: 'rgba', width: result.width, height: result.height, data };
  }

  destroy(): void {
    this.destroyed = true;
  }
}
