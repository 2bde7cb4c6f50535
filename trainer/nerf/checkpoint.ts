/**
 * Training checkpoints: everything a resumed run needs to continue exactly as an uninterrupted
 * one would (parameters, Adam moments and step counts, occupancy grid, EMA, the torso density,
 * the RNG state, stage and step), in one self-describing binary file:
 *   "R2TNCKPT" | u32 header length | JSON header | 8-byte aligned float32/uint8 arrays.
 * Parsing validates every field and bound, so a truncated or foreign file is an error naming
 * what is wrong, never a silent half-restore.
 */
import { FormatError } from '../../worker/errors.ts';
import type { AdamMoments, OccupancyState, ParamSet } from './backend.ts';

export const CHECKPOINT_MAGIC = 'R2TNCKPT';
export const CHECKPOINT_VERSION = 1;
const MAX_HEADER = 1 << 24;

export type StageName = 'head' | 'lips' | 'torso';

export interface TrainerState {
  /** identifies the run's settings; a resume with other settings is refused */
  fingerprint: string;
  stage: StageName;
  /** steps done in `stage` */
  step: number;
  completed: StageName[];
  rng: number;
  occupancyRefreshes: number;
  params: ParamSet;
  moments: Map<string, AdamMoments>;
  occupancy: OccupancyState;
  ema: ParamSet | null;
  /** EMA updates so far in this stage (the effective decay depends on it) */
  emaUpdates: number;
  /** length of `stage` when it started (a resume must keep it) */
  stageIters: number;
  torsoDensity: Float32Array | null;
  /** held-out metrics of completed stages, for the provenance */
  metrics: Record<string, number>;
}

interface ArrayEntry {
  key: string;
  dtype: 'float32' | 'uint8';
  offset: number;
  length: number;
}

interface Header {
  version: number;
  fingerprint: string;
  stage: StageName;
  step: number;
  completed: StageName[];
  rng: number;
  occupancyRefreshes: number;
  emaUpdates: number;
  stageIters: number;
  steps: Record<string, number>;
  metrics: Record<string, number>;
  arrays: ArrayEntry[];
}

export function encodeCheckpoint(s: TrainerState): Uint8Array {
  const arrays: [string, Float32Array | Uint8Array][] = [];
  for (const [k, v] of s.params) arrays.push([`param/${k}`, v]);
  const steps: Record<string, number> = {};
  for (const [k, v] of s.moments) {
    arrays.push([`m/${k}`, v.m], [`v/${k}`, v.v]);
    steps[k] = v.step;
  }
  arrays.push(['occupancy/density', s.occupancy.density], ['occupancy/bitfield', s.occupancy.bitfield]);
  if (s.ema) for (const [k, v] of s.ema) arrays.push([`ema/${k}`, v]);
  if (s.torsoDensity) arrays.push(['torsoDensity', s.torsoDensity]);
  let offset = 0;
  const entries: ArrayEntry[] = arrays.map(([key, a]) => {
    const e: ArrayEntry = { key, dtype: a instanceof Float32Array ? 'float32' : 'uint8', offset, length: a.length };
    offset += Math.ceil(a.byteLength / 8) * 8;
    return e;
  });
  const header: Header = {
    version: CHECKPOINT_VERSION,
    fingerprint: s.fingerprint,
    stage: s.stage,
    step: s.step,
    completed: s.completed,
    rng: s.rng,
    occupancyRefreshes: s.occupancyRefreshes,
    emaUpdates: s.emaUpdates,
    stageIters: s.stageIters,
    steps,
    metrics: s.metrics,
    arrays: entries,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 8) * 8;
  const out = new Uint8Array(start + offset);
  out.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  arrays.forEach(([, a], i) => out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + entries[i].offset));
  return out;
}

const STAGES: StageName[] = ['head', 'lips', 'torso'];

export function decodeCheckpoint(bytes: Uint8Array, field = 'checkpoint'): TrainerState {
  const bad = (msg: string) => FormatError.input(field, msg);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== CHECKPOINT_MAGIC) throw bad(`not a trainer checkpoint (expected magic ${CHECKPOINT_MAGIC})`);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (len > MAX_HEADER || 12 + len > bytes.length) throw bad(`header length ${len} does not fit the ${bytes.length}-byte file`);
  let h: Header;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Header;
  } catch (e) {
    throw FormatError.input(field, 'header is not valid JSON', e);
  }
  if (h.version !== CHECKPOINT_VERSION) throw bad(`version ${h.version} is not supported (expected ${CHECKPOINT_VERSION})`);
  if (!STAGES.includes(h.stage)) throw bad(`stage ${JSON.stringify(h.stage)} is unknown`);
  if (!Array.isArray(h.completed) || !h.completed.every((s) => STAGES.includes(s))) throw bad('completed: expected a list of stage names');
  for (const k of ['step', 'rng', 'occupancyRefreshes', 'emaUpdates', 'stageIters'] as const) if (!Number.isInteger(h[k]) || h[k] < 0) throw bad(`${k}: expected a non-negative integer, got ${h[k]}`);
  if (typeof h.fingerprint !== 'string' || !Array.isArray(h.arrays)) throw bad('fingerprint or arrays missing');
  const start = Math.ceil((12 + len) / 8) * 8;
  const arrays = new Map<string, Float32Array | Uint8Array>();
  for (const e of h.arrays) {
    const size = e.dtype === 'float32' ? 4 : e.dtype === 'uint8' ? 1 : 0;
    if (!size || !Number.isInteger(e.offset) || !Number.isInteger(e.length) || e.offset < 0 || e.length < 0 || e.offset % 8 !== 0) throw bad(`array ${e.key}: bad declaration`);
    const from = start + e.offset;
    const to = from + e.length * size;
    if (to > bytes.length) throw bad(`array ${e.key}: truncated (needs bytes ${from}..${to} of ${bytes.length})`);
    const copy = bytes.slice(from, to);
    arrays.set(e.key, e.dtype === 'float32' ? new Float32Array(copy.buffer) : copy);
  }
  const group = (prefix: string): ParamSet => {
    const m: ParamSet = new Map();
    for (const [k, v] of arrays) if (k.startsWith(prefix) && v instanceof Float32Array) m.set(k.slice(prefix.length), v);
    return m;
  };
  const params = group('param/');
  const moments = new Map<string, AdamMoments>();
  for (const [k, m] of group('m/')) {
    const v = arrays.get(`v/${k}`);
    const step = h.steps?.[k];
    if (!(v instanceof Float32Array) || !Number.isInteger(step)) throw bad(`moments of ${k} incomplete`);
    moments.set(k, { m, v, step });
  }
  const density = arrays.get('occupancy/density');
  const bitfield = arrays.get('occupancy/bitfield');
  if (!(density instanceof Float32Array) || !(bitfield instanceof Uint8Array)) throw bad('occupancy state missing');
  const ema = group('ema/');
  const torso = arrays.get('torsoDensity');
  return {
    fingerprint: h.fingerprint,
    stage: h.stage,
    step: h.step,
    completed: h.completed,
    rng: h.rng,
    occupancyRefreshes: h.occupancyRefreshes,
    params,
    moments,
    occupancy: { density, bitfield },
    ema: ema.size ? ema : null,
    emaUpdates: h.emaUpdates,
    stageIters: h.stageIters,
    torsoDensity: torso instanceof Float32Array ? torso : null,
    metrics: h.metrics && typeof h.metrics === 'object' ? h.metrics : {},
  };
}
