/**
 * Once per frame: landmark window -> code c (grid encoding, optional lip EMA) -> the two
 * conditioning MLPs -> FiLM vectors in `film` (film1 then film2, each [a | b]).
 * The MLPs run one invocation per output row over vec4 weight chunks (shaders/encoders/film.wgsl);
 * their weights live in a buffer of their own, packed chunk-major by `packConditionWeights`.
 */
import type { Avatar } from '../avatar/types.ts';
import type { FrameBuffers } from './frame-buffers.ts';
import { gridConsts } from './frame-buffers.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM } from './gpu-util.ts';
import { encodeValues, tensorF32, type WeightPrecision } from './weights-pack.ts';
import { buildModule } from './wgsl.ts';

export type ConditionMode = 'points' | 'code' | 'film';

const WG = 64;
/** vec4 chunks one invocation of the first layer sums before the rows are split into slices. */
const CHUNKS_PER_SLICE = 256;

const pad4 = (n: number) => 4 * Math.ceil(n / 4);

export interface ConditionLayout {
  /** vec4 chunks of the code c, of a hidden vector. */
  k0: number;
  kh: number;
  /** First vec4 of each layer in the packed buffer. */
  base: [number, number, number];
  /** Partial sums the first layer is split into. */
  slices: number;
  hidden: number;
  filmOut: number;
}

export function conditionLayout(avatar: Avatar): ConditionLayout {
  const c = avatar.config.condition;
  const condIn = c.numLandmarks * c.window * c.grid.levels * c.grid.featuresPerLevel;
  const hidden = c.hiddenDim;
  const filmOut = 2 * avatar.config.head.hiddenDim;
  const k0 = Math.ceil(condIn / 4);
  const kh = Math.ceil(hidden / 4);
  const b1 = k0 * 2 * hidden;
  const b2 = b1 + kh * 2 * hidden;
  return { k0, kh, base: [0, b1, b2], slices: Math.ceil(k0 / CHUNKS_PER_SLICE), hidden, filmOut };
}

/**
 * Both MLPs' three layers as vec4 chunks: chunk k of row r (rows of M1, then of M2) at
 * base + k * rows + r, zero padded past a row's end.
 */
export function packConditionWeights(avatar: Avatar, precision: WeightPrecision): Uint8Array {
  const L = conditionLayout(avatar);
  const layers: { names: [string, string]; rows: number; k: number }[] = [
    { names: ['mlp_lms_style_1.net.0.weight', 'mlp_lms_style_2.net.0.weight'], rows: L.hidden, k: L.k0 },
    { names: ['mlp_lms_style_1.net.1.weight', 'mlp_lms_style_2.net.1.weight'], rows: L.hidden, k: L.kh },
    { names: ['mlp_lms_style_1.net.2.weight', 'mlp_lms_style_2.net.2.weight'], rows: L.filmOut, k: L.kh },
  ];
  const total = layers.reduce((a, l) => a + l.k * 2 * l.rows, 0);
  const out = new Float32Array(4 * total);
  layers.forEach((l, li) => {
    const R = 2 * l.rows;
    l.names.forEach((name, m) => {
      const w = tensorF32(avatar, name);
      const cols = w.length / l.rows;
      for (let row = 0; row < l.rows; row++) {
        const r = m * l.rows + row;
        for (let i = 0; i < cols; i++) out[4 * (L.base[li] + (i >> 2) * R + r) + (i & 3)] = w[row * cols + i];
      }
    });
  });
  return encodeValues(out, precision);
}

interface FilmStep {
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  invocations: number;
}

export class ConditionPass {
  private lmEncode!: GPUComputePipeline;
  private lmSmooth!: GPUComputePipeline;
  private readonly lmGroup: GPUBindGroup;
  private filmSteps: FilmStep[] = [];
  readonly ready: Promise<void>;
  private readonly params: GPUBuffer;
  private readonly buffers: GPUBuffer[];
  private readonly numPoints: number;
  private readonly codeLength: number;
  private destroyed = false;

  constructor(private readonly device: GPUDevice, private readonly fb: FrameBuffers) {
    const c = fb.avatar.config.condition;
    this.numPoints = c.numLandmarks * c.window;
    this.codeLength = this.numPoints * c.grid.levels * c.grid.featuresPerLevel;
    const wt = fb.precision;
    const lmModule = device.createShaderModule({
      label: 'r2t.condition.landmarks',
      code: buildModule({ parts: ['common/grid-index.wgsl', 'common/grid.wgsl', 'encoders/landmarks.wgsl'], consts: gridConsts(c.grid), weightType: wt }),
    });
    const lmLayout = makeLayout(device, 'r2t.condition.landmarks.bgl', ['read-only-storage', 'uniform', 'read-only-storage', 'storage', 'storage', 'uniform']);
    this.params = makeBuffer(device, 'r2t.condition.params', 16, UNIFORM());
    this.lmGroup = makeBindGroup(device, 'r2t.condition.landmarks.bg', lmLayout, [fb.condGrid, fb.condLevels, fb.points, fb.code, fb.prevCode, this.params]);

    const L = conditionLayout(fb.avatar);
    const S = STORAGE();
    const packed = packConditionWeights(fb.avatar, wt);
    const weights = makeBuffer(device, 'r2t.condition.weights', packed.byteLength, S, packed);
    const partial = makeBuffer(device, 'r2t.condition.partial', pad4(L.slices * 2 * L.hidden) * 4, S);
    const hA = makeBuffer(device, 'r2t.condition.hidden0', 2 * pad4(L.hidden) * 4, S);
    const hB = makeBuffer(device, 'r2t.condition.hidden1', 2 * pad4(L.hidden) * 4, S);
    this.buffers = [this.params, weights, partial, hA, hB];
    const filmModule = device.createShaderModule({ label: 'r2t.condition.film', code: buildModule({ parts: ['encoders/film.wgsl'], consts: {}, weightType: wt }) });
    const layout = makeLayout(device, 'r2t.condition.film.bgl', ['read-only-storage', 'read-only-storage', 'storage']);
    const rows = 2 * L.hidden;
    const hiddenOut = { ROWS: rows, ROWS_PER_MLP: L.hidden, OUT_STRIDE: pad4(L.hidden), RELU: 1 };
    const layer0 = { ...hiddenOut, K: L.k0, K_SLICE: CHUNKS_PER_SLICE, SLICES: L.slices, W_BASE: L.base[0], IN_STRIDE: 0 };
    const steps: { name: string; entry: string; consts: Record<string, number>; io: [GPUBuffer, GPUBuffer]; invocations: number }[] = [];
    if (L.slices > 1) {
      steps.push({ name: 'layer0', entry: 'film_layer', consts: layer0, io: [fb.code, partial], invocations: rows * L.slices });
      steps.push({ name: 'reduce0', entry: 'film_reduce', consts: layer0, io: [partial, hA], invocations: rows });
    } else {
      steps.push({ name: 'layer0', entry: 'film_layer', consts: { ...layer0, K_SLICE: L.k0 }, io: [fb.code, hA], invocations: rows });
    }
    steps.push({ name: 'layer1', entry: 'film_layer', consts: { ...hiddenOut, K: L.kh, K_SLICE: L.kh, SLICES: 1, W_BASE: L.base[1], IN_STRIDE: L.kh }, io: [hA, hB], invocations: rows });
    steps.push({
      name: 'layer2',
      entry: 'film_layer',
      consts: { ROWS: 2 * L.filmOut, ROWS_PER_MLP: L.filmOut, OUT_STRIDE: L.filmOut, RELU: 0, K: L.kh, K_SLICE: L.kh, SLICES: 1, W_BASE: L.base[2], IN_STRIDE: L.kh },
      io: [hB, fb.film],
      invocations: 2 * L.filmOut,
    });
    const filmReady = Promise.all(
      steps.map(async (s): Promise<FilmStep> => ({
        pipeline: await makePipeline(device, `r2t.condition.${s.name}`, filmModule, s.entry, [layout], { ...s.consts, WG_FILM: WG }, fb.compile),
        group: makeBindGroup(device, `r2t.condition.${s.name}.bg`, layout, [weights, ...s.io]),
        invocations: s.invocations,
      })),
    );
    this.ready = Promise.all([makePipeline(device, 'r2t.condition.encode', lmModule, 'encode_landmarks', [lmLayout], {}, fb.compile), makePipeline(device, 'r2t.condition.smooth', lmModule, 'smooth_code', [lmLayout], {}, fb.compile), filmReady]).then(([enc, smooth, film]) => {
      this.lmEncode = enc;
      this.lmSmooth = smooth;
      this.filmSteps = film;
    });
  }

  /** GPU memory held by this pass's own buffers (the packed MLP weights dominate). */
  get bytesHeld(): number {
    return this.buffers.reduce((a, b) => a + b.size, 0);
  }

  /** smoothing: EMA weight of the previous code (0 = first frame or no smoothing). */
  setParams(smoothing: number): void {
    const buf = new ArrayBuffer(16);
    new Uint32Array(buf)[0] = this.numPoints;
    new Float32Array(buf)[1] = smoothing;
    this.device.queue.writeBuffer(this.params, 0, buf);
  }

  run(encoder: GPUCommandEncoder, mode: ConditionMode, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'r2t.condition', timestampWrites });
    if (mode === 'points') {
      pass.setPipeline(this.lmEncode);
      pass.setBindGroup(0, this.lmGroup);
      pass.dispatchWorkgroups(Math.ceil((this.numPoints * this.fb.avatar.config.condition.grid.levels) / WG));
      pass.setPipeline(this.lmSmooth);
      pass.dispatchWorkgroups(Math.ceil(pad4(this.codeLength) / WG));
    }
    if (mode !== 'film') {
      for (const s of this.filmSteps) {
        pass.setPipeline(s.pipeline);
        pass.setBindGroup(0, s.group);
        pass.dispatchWorkgroups(Math.ceil(s.invocations / WG));
      }
    }
    pass.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.buffers) b.destroy();
  }
}
