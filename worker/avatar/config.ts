/**
 * The model configuration an avatar declares, and the tensors it implies.
 *
 * This is the single contract shared by the .r2t reader/writer, the checkpoint importer,
 * the CPU reference model and the GPU renderer: each derives tensor names and shapes from
 * `expectedTensors(config)` rather than hard-coding them.
 */
import { ConfigError } from '../errors.ts';

export type GridType = 'tiled' | 'hash';

/** A multi-resolution grid encoder (torch-ngp GridEncoder semantics, model-spec §4). */
export interface GridConfig {
  /** 2 (torso) or 3 (head, landmarks). */
  inputDim: 2 | 3;
  levels: number;
  featuresPerLevel: number;
  baseResolution: number;
  /** "desired_resolution" of the reference: finest level resolution. */
  finestResolution: number;
  gridType: GridType;
  /** Prefix sums of per-level table rows, `levels + 1` entries; authoritative for table sizes. */
  offsets: number[];
}

export interface HeadConfig {
  grid: GridConfig;
  /** Whether the eye value is appended to the grid features (65 vs 64 inputs). */
  eyeInput: boolean;
  /** sigma_net hidden width (64). */
  hiddenDim: number;
  /** geometric feature width passed to the colour net (64). */
  geoFeatDim: number;
  /** colour net hidden width (64). */
  colorHiddenDim: number;
  /** length of the per-frame individual code (4). */
  individualDim: number;
  /** spherical harmonics degree of the view direction encoding (4 -> 16 values). */
  shDegree: number;
}

export interface ConditionConfig {
  grid: GridConfig;
  numLandmarks: number; // 68
  window: number; // 5 frames: t-2..t+2
  hiddenDim: number; // 128 (conditioning MLP width; output = 2 * head.hiddenDim)
  /** Lip smoothing EMA weight of the previous code: c <- k*c_prev + (1-k)*c (0.35). */
  lipSmoothing: number;
}

export interface TorsoConfig {
  grid: GridConfig;
  deformHiddenDim: number; // 64
  netHiddenDim: number; // 32
  individualDim: number; // 8
  positionDegree: number; // 10
  poseDegree: number; // 4
  densityResolution: number; // 128 (square 2-D density grid)
}

export interface MarchConfig {
  /** Occupancy bitfield resolution per axis (128). */
  gridResolution: number;
  maxSteps: number; // 16
  dtGamma: number; // 1/256
  minNear: number; // 0.05
  /** Early termination threshold on transmittance (1e-4). */
  tThreshold: number;
  /** Max samples per ray per pass of the image-wide schedule (8). */
  maxStepsPerPass: number;
}

export interface ModelConfig {
  head: HeadConfig;
  condition: ConditionConfig;
  torso: TorsoConfig | null;
  march: MarchConfig;
  /** aabb_infer: [xmin, ymin, zmin, xmax, ymax, zmax]. */
  aabb: [number, number, number, number, number, number];
}

export interface CameraConfig {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

export type DType = 'float32' | 'float16' | 'uint8' | 'int32';

export interface TensorSpec {
  name: string;
  shape: number[];
  /** dtypes the tensor may be stored as. Weights may be float16; bitfields and images are uint8. */
  dtypes: DType[];
}

/** Hard bounds on anything a file can declare, so hostile headers cannot request huge allocations. */
export const LIMITS = {
  maxLevels: 32,
  maxFeaturesPerLevel: 8,
  maxResolution: 1 << 14,
  maxTableRowsPerLevel: 1 << 24,
  maxTotalGridRows: 1 << 26,
  maxHidden: 1024,
  maxLandmarks: 512,
  maxWindow: 15,
  maxImageSide: 4096,
  maxPoses: 1 << 20,
  maxTensorBytes: 1 << 30,
  maxShDegree: 4,
  maxFreqDegree: 16,
  maxMarchSteps: 1024,
} as const;

export function shDim(degree: number): number {
  return degree * degree;
}

/** Level resolution per model-spec §4 (float32 maths, computed on the host). */
export function gridLevelParams(grid: GridConfig): { scale: Float32Array; resolution: Uint32Array; tableSize: Uint32Array } {
  const L = grid.levels;
  const perLevelScale = L > 1 ? Math.pow(2, Math.log2(grid.finestResolution / grid.baseResolution) / (L - 1)) : 1;
  const S = Math.fround(Math.log2(perLevelScale));
  const scale = new Float32Array(L);
  const resolution = new Uint32Array(L);
  const tableSize = new Uint32Array(L);
  for (let l = 0; l < L; l++) {
    // exp2f(l*S)*H - 1 in float32, as the CUDA kernel does.
    const s = Math.fround(Math.fround(Math.pow(2, Math.fround(l * S))) * grid.baseResolution - 1);
    scale[l] = s;
    resolution[l] = Math.ceil(s) + 1;
    tableSize[l] = grid.offsets[l + 1] - grid.offsets[l];
  }
  return { scale, resolution, tableSize };
}

/** The reference's default per-level table sizes: min(2^log2T, (R+1)^D) rounded up to 8 (python side). */
export function defaultOffsets(inputDim: number, levels: number, base: number, finest: number, log2TableSize: number): number[] {
  const perLevelScale = levels > 1 ? Math.pow(2, Math.log2(finest / base) / (levels - 1)) : 1;
  const maxParams = 2 ** log2TableSize;
  const offsets = [0];
  let offset = 0;
  for (let i = 0; i < levels; i++) {
    const resolution = Math.ceil(base * Math.pow(perLevelScale, i));
    let params = Math.min(maxParams, (resolution + 1) ** inputDim);
    params = Math.ceil(params / 8) * 8;
    offset += params;
    offsets.push(offset);
  }
  return offsets;
}

/** The configuration of the official R2-Talker checkpoints (model-spec §3-§7). */
export function officialConfig(opts: { eyeInput?: boolean; torso?: boolean; aabb?: number[] } = {}): ModelConfig {
  const grid3 = (features: number): GridConfig => ({
    inputDim: 3,
    levels: 16,
    featuresPerLevel: features,
    baseResolution: 32,
    finestResolution: 2048,
    gridType: 'tiled',
    offsets: defaultOffsets(3, 16, 32, 2048, 16),
  });
  return {
    head: { grid: grid3(4), eyeInput: opts.eyeInput ?? true, hiddenDim: 64, geoFeatDim: 64, colorHiddenDim: 64, individualDim: 4, shDegree: 4 },
    condition: { grid: grid3(2), numLandmarks: 68, window: 5, hiddenDim: 128, lipSmoothing: 0.35 },
    torso:
      opts.torso === false
        ? null
        : {
            grid: { inputDim: 2, levels: 16, featuresPerLevel: 2, baseResolution: 16, finestResolution: 2048, gridType: 'tiled', offsets: defaultOffsets(2, 16, 16, 2048, 16) },
            deformHiddenDim: 64,
            netHiddenDim: 32,
            individualDim: 8,
            positionDegree: 10,
            poseDegree: 4,
            densityResolution: 128,
          },
    march: { gridResolution: 128, maxSteps: 16, dtGamma: 1 / 256, minNear: 0.05, tThreshold: 1e-4, maxStepsPerPass: 8 },
    aabb: (opts.aabb ?? [-1, -0.5, -1, 1, 0.5, 1]) as ModelConfig['aabb'],
  };
}

export function freqEncodedDim(inputDim: number, degree: number): number {
  return inputDim + inputDim * 2 * degree;
}

/** Input width of the torso deform net: freq(x, 2D) ++ freq(pose, 6D) ++ torso code. */
export function torsoInputDim(t: TorsoConfig): number {
  return freqEncodedDim(2, t.positionDegree) + freqEncodedDim(6, t.poseDegree) + t.individualDim;
}

const F = ['float32', 'float16'] as DType[];

/**
 * Every tensor an avatar with this config holds, with its exact shape. Names follow the
 * official checkpoint keys (less the `model.` prefix) so import is a rename-free copy.
 * Linear weights are [out, in] as in PyTorch.
 */
export function expectedTensors(cfg: ModelConfig): TensorSpec[] {
  const h = cfg.head;
  const c = cfg.condition;
  const gridRows = (g: GridConfig) => g.offsets[g.levels];
  const condIn = c.numLandmarks * c.window * c.grid.levels * c.grid.featuresPerLevel;
  const sigmaIn = h.grid.levels * h.grid.featuresPerLevel + (h.eyeInput ? 1 : 0);
  const colorIn = shDim(h.shDegree) + h.geoFeatDim + h.individualDim;
  const filmOut = 2 * h.hiddenDim;
  const R = cfg.march.gridResolution;
  const specs: TensorSpec[] = [
    { name: 'encoder.embeddings', shape: [gridRows(h.grid), h.grid.featuresPerLevel], dtypes: F },
    { name: 'encoder_idexp_lm3d.embeddings', shape: [gridRows(c.grid), c.grid.featuresPerLevel], dtypes: F },
    { name: 'sigma_net.net.0.weight', shape: [h.hiddenDim, sigmaIn], dtypes: F },
    { name: 'sigma_net.net.1.weight', shape: [h.hiddenDim, h.hiddenDim], dtypes: F },
    { name: 'sigma_net.net.2.weight', shape: [1 + h.geoFeatDim, h.hiddenDim], dtypes: F },
    { name: 'color_net.net.0.weight', shape: [h.colorHiddenDim, colorIn], dtypes: F },
    { name: 'color_net.net.1.weight', shape: [3, h.colorHiddenDim], dtypes: F },
    { name: 'individual_code', shape: [h.individualDim], dtypes: ['float32'] },
    { name: 'density_bitfield', shape: [(R * R * R) / 8], dtypes: ['uint8'] },
  ];
  for (const k of [1, 2]) {
    specs.push(
      { name: `mlp_lms_style_${k}.net.0.weight`, shape: [c.hiddenDim, condIn], dtypes: F },
      { name: `mlp_lms_style_${k}.net.1.weight`, shape: [c.hiddenDim, c.hiddenDim], dtypes: F },
      { name: `mlp_lms_style_${k}.net.2.weight`, shape: [filmOut, c.hiddenDim], dtypes: F },
    );
  }
  const t = cfg.torso;
  if (t) {
    const tin = torsoInputDim(t);
    const gridOut = t.grid.levels * t.grid.featuresPerLevel;
    specs.push(
      { name: 'torso_encoder.embeddings', shape: [gridRows(t.grid), t.grid.featuresPerLevel], dtypes: F },
      { name: 'torso_deform_net.net.0.weight', shape: [t.deformHiddenDim, tin], dtypes: F },
      { name: 'torso_deform_net.net.1.weight', shape: [t.deformHiddenDim, t.deformHiddenDim], dtypes: F },
      { name: 'torso_deform_net.net.2.weight', shape: [2, t.deformHiddenDim], dtypes: F },
      { name: 'torso_net.net.0.weight', shape: [t.netHiddenDim, gridOut + tin], dtypes: F },
      { name: 'torso_net.net.1.weight', shape: [t.netHiddenDim, t.netHiddenDim], dtypes: F },
      { name: 'torso_net.net.2.weight', shape: [4, t.netHiddenDim], dtypes: F },
      { name: 'individual_code_torso', shape: [t.individualDim], dtypes: ['float32'] },
      { name: 'density_grid_torso', shape: [t.densityResolution * t.densityResolution], dtypes: ['float32'] },
    );
  }
  return specs;
}

function checkInt(name: string, v: unknown, lo: number, hi: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new ConfigError(`${name}: expected an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
}

function checkNum(name: string, v: unknown, lo: number, hi: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new ConfigError(`${name}: expected a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
}

export function validateGridConfig(name: string, g: GridConfig, inputDim?: 2 | 3): void {
  if (!g || typeof g !== 'object') throw new ConfigError(`${name}: expected an object`);
  checkInt(`${name}.inputDim`, g.inputDim, 2, 3);
  if (inputDim !== undefined && g.inputDim !== inputDim) throw new ConfigError(`${name}.inputDim: expected ${inputDim}, got ${g.inputDim}`);
  checkInt(`${name}.levels`, g.levels, 1, LIMITS.maxLevels);
  checkInt(`${name}.featuresPerLevel`, g.featuresPerLevel, 1, LIMITS.maxFeaturesPerLevel);
  checkInt(`${name}.baseResolution`, g.baseResolution, 1, LIMITS.maxResolution);
  checkInt(`${name}.finestResolution`, g.finestResolution, g.baseResolution, LIMITS.maxResolution);
  if (g.gridType !== 'tiled' && g.gridType !== 'hash') throw new ConfigError(`${name}.gridType: expected "tiled" or "hash", got ${JSON.stringify(g.gridType)}`);
  if (!Array.isArray(g.offsets) || g.offsets.length !== g.levels + 1) {
    throw new ConfigError(`${name}.offsets: expected ${g.levels + 1} entries, got ${Array.isArray(g.offsets) ? g.offsets.length : typeof g.offsets}`);
  }
  if (g.offsets[0] !== 0) throw new ConfigError(`${name}.offsets[0]: expected 0, got ${g.offsets[0]}`);
  for (let l = 0; l < g.levels; l++) {
    checkInt(`${name}.offsets[${l + 1}]`, g.offsets[l + 1], g.offsets[l] + 1, g.offsets[l] + LIMITS.maxTableRowsPerLevel);
  }
  checkInt(`${name}.offsets[${g.levels}]`, g.offsets[g.levels], 1, LIMITS.maxTotalGridRows);
}

/** Throws ConfigError naming the first field that is out of bounds. */
export function validateModelConfig(cfg: ModelConfig): void {
  if (!cfg || typeof cfg !== 'object') throw new ConfigError('model: expected an object');
  const h = cfg.head;
  if (!h || typeof h !== 'object') throw new ConfigError('model.head: expected an object');
  validateGridConfig('model.head.grid', h.grid, 3);
  if (typeof h.eyeInput !== 'boolean') throw new ConfigError(`model.head.eyeInput: expected a boolean, got ${JSON.stringify(h.eyeInput)}`);
  checkInt('model.head.hiddenDim', h.hiddenDim, 1, LIMITS.maxHidden);
  checkInt('model.head.geoFeatDim', h.geoFeatDim, 1, LIMITS.maxHidden);
  checkInt('model.head.colorHiddenDim', h.colorHiddenDim, 1, LIMITS.maxHidden);
  checkInt('model.head.individualDim', h.individualDim, 0, LIMITS.maxHidden);
  checkInt('model.head.shDegree', h.shDegree, 1, LIMITS.maxShDegree);
  const c = cfg.condition;
  if (!c || typeof c !== 'object') throw new ConfigError('model.condition: expected an object');
  validateGridConfig('model.condition.grid', c.grid, 3);
  checkInt('model.condition.numLandmarks', c.numLandmarks, 1, LIMITS.maxLandmarks);
  checkInt('model.condition.window', c.window, 1, LIMITS.maxWindow);
  if (c.window % 2 !== 1) throw new ConfigError(`model.condition.window: expected an odd number, got ${c.window}`);
  checkInt('model.condition.hiddenDim', c.hiddenDim, 1, LIMITS.maxHidden);
  checkNum('model.condition.lipSmoothing', c.lipSmoothing, 0, 1);
  const t = cfg.torso;
  if (t !== null) {
    if (!t || typeof t !== 'object') throw new ConfigError('model.torso: expected an object or null');
    validateGridConfig('model.torso.grid', t.grid, 2);
    checkInt('model.torso.deformHiddenDim', t.deformHiddenDim, 1, LIMITS.maxHidden);
    checkInt('model.torso.netHiddenDim', t.netHiddenDim, 1, LIMITS.maxHidden);
    checkInt('model.torso.individualDim', t.individualDim, 0, LIMITS.maxHidden);
    checkInt('model.torso.positionDegree', t.positionDegree, 0, LIMITS.maxFreqDegree);
    checkInt('model.torso.poseDegree', t.poseDegree, 0, LIMITS.maxFreqDegree);
    checkInt('model.torso.densityResolution', t.densityResolution, 2, 1024);
  }
  const m = cfg.march;
  if (!m || typeof m !== 'object') throw new ConfigError('model.march: expected an object');
  checkInt('model.march.gridResolution', m.gridResolution, 2, 512);
  if ((m.gridResolution & (m.gridResolution - 1)) !== 0) throw new ConfigError(`model.march.gridResolution: expected a power of two, got ${m.gridResolution}`);
  checkInt('model.march.maxSteps', m.maxSteps, 1, LIMITS.maxMarchSteps);
  checkNum('model.march.dtGamma', m.dtGamma, 0, 1);
  checkNum('model.march.minNear', m.minNear, 0, 10);
  checkNum('model.march.tThreshold', m.tThreshold, 0, 1);
  checkInt('model.march.maxStepsPerPass', m.maxStepsPerPass, 1, LIMITS.maxMarchSteps);
  if (!Array.isArray(cfg.aabb) || cfg.aabb.length !== 6) throw new ConfigError('model.aabb: expected 6 numbers');
  for (let i = 0; i < 6; i++) checkNum(`model.aabb[${i}]`, cfg.aabb[i], -16, 16);
  for (let i = 0; i < 3; i++) if (!(cfg.aabb[i] < cfg.aabb[i + 3])) throw new ConfigError(`model.aabb: min[${i}] must be below max[${i}]`);
}

export function validateCamera(cam: CameraConfig): void {
  if (!cam || typeof cam !== 'object') throw new ConfigError('camera: expected an object');
  checkInt('camera.width', cam.width, 1, LIMITS.maxImageSide);
  checkInt('camera.height', cam.height, 1, LIMITS.maxImageSide);
  checkNum('camera.fx', cam.fx, 1e-3, 1e6);
  checkNum('camera.fy', cam.fy, 1e-3, 1e6);
  checkNum('camera.cx', cam.cx, -1e6, 1e6);
  checkNum('camera.cy', cam.cy, -1e6, 1e6);
}
