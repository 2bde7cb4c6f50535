/**
 * TrainerBackend: the contract between the NeRF training loop (trainer/nerf/loop.ts) and the
 * device that does the arithmetic. The CPU backend (trainer/nerf/cpu/backend.ts) is the
 * readable reference; the WebGPU backend (trainer/nerf/gpu/backend.ts) must produce the same
 * numbers within float32 tolerance for the same inputs.
 *
 * Everything random (which rays, the jitter of each ray's first sample, which occupancy cells
 * are probed) is decided by the loop and passed in, so two backends given the same step
 * inputs compute the same step, and a resumed run replays exactly what an uninterrupted one
 * would have done.
 *
 * Parameters live in named groups whose names are the avatar tensor names of
 * `expectedTensors(config)` (worker/avatar/config.ts), so a trained parameter set becomes an
 * .r2t without renaming.
 */
import type { CameraConfig, ModelConfig } from '../../worker/avatar/config.ts';

/** How a group is optimised: grids and MLPs get the reference's two learning rates (§9). */
export type ParamKind = 'grid' | 'mlp';

export interface ParamGroupSpec {
  /** avatar tensor name, e.g. `encoder.embeddings`, `sigma_net.net.0.weight` */
  name: string;
  kind: ParamKind;
  /** float32 element count */
  length: number;
  /** which stage trains it */
  stage: 'head' | 'torso';
}

/** Named float32 parameter arrays, one per ParamGroupSpec (the backend holds the live copy; readParams copies it out). */
export type ParamSet = Map<string, Float32Array>;

/** Adam state of one group, for checkpoints: first and second moments and its own step count. */
export interface AdamMoments {
  m: Float32Array;
  v: Float32Array;
  /** updates this group has had (bias correction); frozen steps do not count, as in torch */
  step: number;
}

/** Per-step optimiser settings (the loop computes the decayed learning rates). */
export interface AdamStep {
  beta1: number;
  beta2: number;
  eps: number;
  /** learning rate per group name; a group absent here is frozen this step (no update, moments kept) */
  lr: Map<string, number>;
}

/** One frame's conditioning input: the normalised, clamped, zero-padded landmark window. */
export interface FrameCondition {
  /** window * numLandmarks * 3 values (model/landmarks.ts windowPoints after normaliseClamp) */
  points: Float32Array;
  /** eye value of the frame (ignored when the config has no eye input) */
  eye: number;
}

/** A batch of training rays, all from one frame (the reference trains one image per step). */
export interface TrainRays {
  count: number;
  /** 3 per ray, world space, renderer convention */
  origins: Float32Array;
  directions: Float32Array;
  /** aabb slab test of each ray (model/rays.ts nearFar); misses hold +Infinity */
  nears: Float32Array;
  fars: Float32Array;
  /** in [0,1): the first sample sits at near + jitter * dt (the reference's perturbed march) */
  jitter: Float32Array;
}

/** Levels of each grid in use this step (progressive optimisation); finer levels output zero and get no gradient. */
export interface ActiveLevels {
  head: number;
  condition: number;
  torso: number;
}

export interface HeadForwardInput {
  condition: FrameCondition;
  rays: TrainRays;
  activeLevels: ActiveLevels;
}

/**
 * The loop owns the losses (trainer/nerf/losses.ts: MSE, weight-sum entropy, SSIM) and the
 * background blend: a backend returns the network's outputs, takes dLoss/d(outputs) back, and
 * never needs to know which loss was used.
 */
export interface HeadForwardResult {
  /** head colour per ray, premultiplied by its weights (3 per ray); the loop composites the background */
  rgb: Float32Array;
  /** head weight sum per ray */
  weightSum: Float32Array;
  /** samples evaluated (for samples/s) */
  samples: number;
}

export interface TorsoForwardInput {
  /** 16 values, renderer convention, of the frame */
  pose: Float32Array;
  /**
   * torso coordinates (qRow, qCol) in [-1,1] of each ray, 2 per ray: model/torso.ts torsoCoord of
   * the pixel (row, col), or a density-grid point for the torso occupancy refresh
   */
  coords: Float32Array;
  activeLevels: ActiveLevels;
}

export interface TorsoForwardResult {
  /** torso colour per ray (sigmoid outputs, 3 per ray); the loop composites torso over background under the head */
  colors: Float32Array;
  /** torso alpha per ray (sigmoid output) */
  alpha: Float32Array;
}

/** Occupancy refresh input (reference update_extra_state): the loop picks the cells and points. */
export interface OccupancyUpdate {
  condition: FrameCondition;
  /** cell indices (Morton order) to probe */
  cells: Uint32Array;
  /** one point per probed cell, 3 per cell, in [-1,1]^3 (the cell's corner + a random offset) */
  points: Float32Array;
  /** multiplied into every cell's running density before the max with the new values (0.95) */
  decay: number;
  /** upper bound of the occupancy threshold: threshold = min(mean density, this) (10) */
  thresholdCap: number;
  activeLevels: ActiveLevels;
}

export interface OccupancyStats {
  meanDensity: number;
  threshold: number;
  occupiedFraction: number;
}

export interface BackendInit {
  config: ModelConfig;
  camera: CameraConfig;
  groups: ParamGroupSpec[];
  params: ParamSet;
}

export interface TrainerBackend {
  readonly name: 'cpu' | 'webgpu';
  /** Allocates parameter, gradient, moment and occupancy storage and uploads the parameters. */
  init(init: BackendInit): Promise<void>;
  /**
   * Head forward over one frame's rays. With keep = true the activations are kept for one
   * headBackward call (the next forward discards them).
   */
  headForward(input: HeadForwardInput, keep: boolean): Promise<HeadForwardResult>;
  /**
   * Backward of the last kept headForward from dLoss/dRgb (3 per ray, w.r.t. the premultiplied
   * head colour) and dLoss/dWeightSum (1 per ray). Gradients of every head group replace the previous ones.
   */
  headBackward(dColor: Float32Array, dWeightSum: Float32Array): Promise<void>;
  /** Torso forward (head frozen: its output comes in with the input). */
  torsoForward(input: TorsoForwardInput, keep: boolean): Promise<TorsoForwardResult>;
  /** Backward of the last kept torsoForward; gradients of every torso group replace the previous ones. */
  torsoBackward(dColor: Float32Array, dAlpha: Float32Array): Promise<void>;
  /** Adam update of the groups named in `step.lr` from the current gradients. */
  adam(step: AdamStep): Promise<void>;
  /** Refreshes the occupancy density grid and bitfield; returns the new threshold statistics. */
  updateOccupancy(update: OccupancyUpdate): Promise<OccupancyStats>;
  /** Copies of the current parameters (all groups). */
  readParams(): Promise<ParamSet>;
  /** Replaces parameters (resume, EMA swap for evaluation). Groups not named keep their values. */
  writeParams(params: ParamSet): Promise<void>;
  /** Copies of the current gradients (tests compare backends with them). */
  readGrads(): Promise<ParamSet>;
  /** Copies of the Adam moments per group (checkpoints). */
  readMoments(): Promise<Map<string, AdamMoments>>;
  /** Restores moments saved by readMoments (resume). */
  writeMoments(moments: Map<string, AdamMoments>): Promise<void>;
  /** The occupancy state: running density per cell (gridResolution^3, Morton order) and bitfield. */
  readOccupancy(): Promise<OccupancyState>;
  writeOccupancy(state: OccupancyState): Promise<void>;
  /** Frees every buffer; the backend is unusable afterwards. */
  dispose(): void;
}

export interface OccupancyState {
  /** running density per cell, Morton order; -1 marks cells no training camera sees */
  density: Float32Array;
  bitfield: Uint8Array;
}
