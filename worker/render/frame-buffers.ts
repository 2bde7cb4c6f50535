/**
 * The GPU resources every pass of a frame shares: avatar data (weights, grids, bitfield,
 * background) uploaded once, and per-frame working buffers sized from the camera.
 */
import type { Avatar } from '../avatar/types.ts';
import { gridLevelParams, shDim, type GridConfig } from '../avatar/config.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../avatar/tensor.ts';
import { FormatError } from '../errors.ts';
import { makeBuffer, STORAGE, UNIFORM, destroyAll, type CompileMode } from './gpu-util.ts';
import { encodeValues, packWeights, tensorF32, type WeightPrecision } from './weights-pack.ts';
import type { ConstValue } from './wgsl.ts';

/** GridLevel uniform array (16 bytes a level) for a grid config. */
export function gridLevelBlock(grid: GridConfig): ArrayBuffer {
  const p = gridLevelParams(grid);
  const buf = new ArrayBuffer(16 * grid.levels);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  for (let l = 0; l < grid.levels; l++) {
    f[l * 4] = p.scale[l];
    u[l * 4 + 1] = p.resolution[l];
    u[l * 4 + 2] = p.tableSize[l];
    u[l * 4 + 3] = grid.offsets[l];
  }
  return buf;
}

export function gridConsts(grid: GridConfig): Record<string, ConstValue> {
  return { GRID_DIM: grid.inputDim, GRID_FEATS: grid.featuresPerLevel, GRID_LEVELS: grid.levels, GRID_HASH: grid.gridType === 'hash' };
}

/** Background per model-spec §7b.11: image/255 rounded to float16, as float32 RGB. */
export function backgroundValues(avatar: Avatar): Float32Array {
  const { width, height } = avatar.camera;
  const t = avatar.tensors.get('background');
  if (!t) return new Float32Array(width * height * 3).fill(1);
  if (t.dtype !== 'uint8' || t.shape.length !== 3 || t.shape[0] !== height || t.shape[1] !== width || t.shape[2] !== 3) {
    throw FormatError.expected('AVATAR_FORMAT', 'tensors.background', `uint8 [${height},${width},3]`, `${t.dtype} [${t.shape.join(',')}]`);
  }
  const v = new Float32Array(t.data.length);
  for (let i = 0; i < v.length; i++) v[i] = t.data[i] / 255;
  return float16BitsToFloat32(float32ToFloat16Bits(v));
}

/** u32 index of Ctrl.n_steps (after count[2], cur, step, n_alive, n_step, pass_index, total, n_samples). */
export const CTRL_STEPS = 14;

export class FrameBuffers {
  readonly numRays: number;
  readonly maxPasses: number;
  readonly traceCap: number;
  /** How the passes built on these buffers compile their pipelines. */
  readonly compile: CompileMode;
  readonly consts: Record<string, ConstValue>;
  readonly precision: WeightPrecision;
  readonly weightBytes: number;
  // avatar data
  readonly weights: GPUBuffer;
  readonly headGrid: GPUBuffer;
  readonly headLevels: GPUBuffer;
  readonly condGrid: GPUBuffer;
  readonly condLevels: GPUBuffer;
  readonly torsoGrid: GPUBuffer | null;
  readonly torsoLevels: GPUBuffer | null;
  readonly torsoDensity: GPUBuffer | null;
  readonly bitfield: GPUBuffer;
  readonly background: GPUBuffer;
  // per frame
  readonly code: GPUBuffer;
  readonly prevCode: GPUBuffer;
  readonly points: GPUBuffer;
  readonly film: GPUBuffer;
  readonly rays: GPUBuffer;
  readonly alive: GPUBuffer;
  readonly ctrl: GPUBuffer;
  readonly indirect: GPUBuffer;
  readonly samples: GPUBuffer;
  readonly fieldOut: GPUBuffer;
  readonly trace: GPUBuffer;
  readonly bgFinal: GPUBuffer;
  readonly frameTail: GPUBuffer;
  readonly image: GPUBuffer;
  readonly rgba8: GPUBuffer;
  readonly texture: GPUTexture;
  private destroyed = false;

  /** Points per fused field invocation (worker/render/mlp-codegen.ts). */
  readonly samplesPerInvocation: number;

  constructor(device: GPUDevice, readonly avatar: Avatar, precision: WeightPrecision, opts: { traceCap?: number; compile?: CompileMode; samplesPerInvocation?: number } = {}) {
    const cfg = avatar.config;
    const { width, height } = avatar.camera;
    const h = cfg.head;
    const c = cfg.condition;
    this.precision = precision;
    this.numRays = width * height;
    this.maxPasses = Math.min(cfg.march.maxSteps, 1024);
    this.traceCap = Math.max(0, Math.min(opts.traceCap ?? 0, 64));
    this.compile = opts.compile ?? 'async';
    this.samplesPerInvocation = opts.samplesPerInvocation ?? 1;
    const packed = packWeights(avatar, precision);
    this.weightBytes = packed.bytes.byteLength;
    const condIn = c.numLandmarks * c.window * c.grid.levels * c.grid.featuresPerLevel;
    this.consts = {
      ...packed.offsets,
      MAX_PASSES: this.maxPasses,
      SIG_IN: h.grid.levels * h.grid.featuresPerLevel + (h.eyeInput ? 1 : 0),
      EYE_INPUT: h.eyeInput,
      HID: h.hiddenDim,
      GEO: h.geoFeatDim,
      CHID: h.colorHiddenDim,
      IND: h.individualDim,
      SH_DIM: shDim(h.shDegree),
      COL_IN: shDim(h.shDegree) + h.geoFeatDim + h.individualDim,
      FILM_OUT: 2 * h.hiddenDim,
      COND_IN: condIn,
      COND_HID: c.hiddenDim,
    };
    const S = STORAGE();
    const enc = (name: string) => encodeValues(tensorF32(avatar, name), precision);
    this.weights = makeBuffer(device, 'r2t.weights', packed.bytes.byteLength, S, packed.bytes);
    this.headGrid = makeBuffer(device, 'r2t.headGrid', enc('encoder.embeddings').byteLength, S, enc('encoder.embeddings'));
    this.headLevels = makeBuffer(device, 'r2t.headLevels', 16 * h.grid.levels, UNIFORM(), gridLevelBlock(h.grid));
    const condEmb = enc('encoder_idexp_lm3d.embeddings');
    this.condGrid = makeBuffer(device, 'r2t.condGrid', condEmb.byteLength, S, condEmb);
    this.condLevels = makeBuffer(device, 'r2t.condLevels', 16 * c.grid.levels, UNIFORM(), gridLevelBlock(c.grid));
    const t = cfg.torso;
    if (t) {
      const te = enc('torso_encoder.embeddings');
      this.torsoGrid = makeBuffer(device, 'r2t.torsoGrid', te.byteLength, S, te);
      this.torsoLevels = makeBuffer(device, 'r2t.torsoLevels', 16 * t.grid.levels, UNIFORM(), gridLevelBlock(t.grid));
      const dens = tensorF32(avatar, 'density_grid_torso');
      this.torsoDensity = makeBuffer(device, 'r2t.torsoDensity', dens.byteLength, S, dens);
      Object.assign(this.consts, {
        T_IN: 2 + 4 * t.positionDegree + 6 + 12 * t.poseDegree + t.individualDim,
        T_POS_DEG: t.positionDegree,
        T_DEF: t.deformHiddenDim,
        T_HID: t.netHiddenDim,
        T_NET_IN: t.grid.levels * t.grid.featuresPerLevel + 2 + 4 * t.positionDegree + 6 + 12 * t.poseDegree + t.individualDim,
      });
    } else {
      this.torsoGrid = this.torsoLevels = this.torsoDensity = null;
    }
    const bits = avatar.tensors.get('density_bitfield');
    if (!bits || bits.dtype !== 'uint8') throw FormatError.avatar('tensors.density_bitfield', 'missing or not uint8');
    this.bitfield = makeBuffer(device, 'r2t.bitfield', bits.data.byteLength, S, bits.data);
    const bg = backgroundValues(avatar);
    this.background = makeBuffer(device, 'r2t.background', bg.byteLength, S, bg);
    const N = this.numRays;
    // Padded to whole vec4s: the conditioning MLPs read c as array<vec4f> (the tail stays 0).
    const codeBytes = 16 * Math.ceil(condIn / 4);
    this.code = makeBuffer(device, 'r2t.code', codeBytes, S);
    this.prevCode = makeBuffer(device, 'r2t.prevCode', codeBytes, S);
    this.points = makeBuffer(device, 'r2t.points', c.numLandmarks * c.window * 12, S);
    // Bound as a uniform by the fused head kernel (keeps it within 8 storage buffers per stage).
    this.film = makeBuffer(device, 'r2t.film', 4 * h.hiddenDim * 4, S | GPUBufferUsage.UNIFORM);
    this.rays = makeBuffer(device, 'r2t.rays', N * 48, S);
    // Two alive lists, then two sample lists (shaders/marching/wavefront.wgsl).
    this.alive = makeBuffer(device, 'r2t.alive', 4 * N * 4, S);
    this.ctrl = makeBuffer(device, 'r2t.ctrl', CTRL_STEPS * 4 + 4 * this.maxPasses, S);
    this.indirect = makeBuffer(device, 'r2t.indirect', 64, S | GPUBufferUsage.INDIRECT);
    // n_alive * n_step never exceeds the ray count (n_step <= N / n_alive), so N slots suffice.
    this.samples = makeBuffer(device, 'r2t.samples', N * 16, S);
    this.fieldOut = makeBuffer(device, 'r2t.fieldOut', N * 16, S);
    this.trace = makeBuffer(device, 'r2t.trace', Math.max(16, N * this.traceCap * 16), S);
    // The plain background (alpha 0): the fused torso kernel rewrites only the torso pixels.
    this.bgFinal = makeBuffer(device, 'r2t.bgFinal', N * 16, S, expandRgb(bg));
    this.frameTail = makeBuffer(device, 'r2t.frameTail', 4 * (6 + 12 * (t?.poseDegree ?? 0) + (t?.individualDim ?? 0) + 4), S);
    this.image = makeBuffer(device, 'r2t.image', N * 16, S);
    this.rgba8 = makeBuffer(device, 'r2t.rgba8', N * 4, S);
    this.texture = device.createTexture({
      label: 'r2t.frameTexture',
      size: [width, height],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_SRC,
    });
  }

  /** Bytes of GPU memory these resources hold. */
  get bytesHeld(): number {
    let total = 0;
    for (const v of Object.values(this)) if (v && typeof v === 'object' && 'getMappedRange' in v) total += (v as GPUBuffer).size;
    return total + this.numRays * 4;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const v of Object.values(this)) if (v && typeof v === 'object' && 'destroy' in v) (v as GPUBuffer).destroy();
  }
}

function expandRgb(rgb: Float32Array): Float32Array {
  const n = rgb.length / 3;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) out.set([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], 0], i * 4);
  return out;
}

export { destroyAll };
