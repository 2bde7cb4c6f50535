/**
 * Checkpoints of a landmark-generator training run (GeneratorTraining.state()): what the
 * creation job writes between steps so that pausing, closing the tab or restarting the browser
 * continues the run bit-identically. One binary file:
 *   "R2TGCKPT" | u32 header length | JSON header | float32 arrays (params, Adam m, Adam v) | int32 order.
 * Every length is checked against the header before anything is restored.
 */
import { FormatError } from '../worker/errors.ts';
import type { GeneratorTrainingState } from './train-generator.ts';
import { copyBytes } from '../worker/util/bytes.ts';

export const GENERATOR_CHECKPOINT_MAGIC = 'R2TGCKPT';
const VERSION = 1;
const MAX_HEADER = 1 << 20;
/** Bound on the arrays a header may ask for (a 512-channel generator has ~4 M weights). */
const MAX_FLOATS = 1 << 26;

interface Header {
  version: number;
  step: number;
  epoch: number;
  batchStart: number;
  rngDraws: number;
  epochLoss: number;
  epochCount: number;
  lastLoss: number;
  adamStep: number;
  fingerprint: string;
  /** lengths of the parameter arrays (Adam's m and v have the same) */
  params: number[];
  order: number;
}

export function encodeGeneratorCheckpoint(s: GeneratorTrainingState): Uint8Array {
  const header: Header = {
    version: VERSION,
    step: s.step,
    epoch: s.epoch,
    batchStart: s.batchStart,
    rngDraws: s.rngDraws,
    epochLoss: s.epochLoss,
    epochCount: s.epochCount,
    lastLoss: s.lastLoss,
    adamStep: s.adam.step,
    fingerprint: s.fingerprint,
    params: s.params.map((p) => p.length),
    order: s.order.length,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = 8 + 4 + json.length;
  const start = Math.ceil(head / 4) * 4;
  const floats = 3 * header.params.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(start + 4 * floats + 4 * s.order.length);
  out.set(new TextEncoder().encode(GENERATOR_CHECKPOINT_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  const f = new Float32Array(out.buffer, start, floats);
  let o = 0;
  for (const group of [s.params, s.adam.m, s.adam.v]) {
    for (const a of group) {
      f.set(a, o);
      o += a.length;
    }
  }
  new Int32Array(out.buffer, start + 4 * floats, s.order.length).set(s.order);
  return out;
}

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

export function decodeGeneratorCheckpoint(bytes: Uint8Array, field = 'generator checkpoint'): GeneratorTrainingState {
  const bad = (what: string) => FormatError.checkpoint(field, what);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== GENERATOR_CHECKPOINT_MAGIC) throw bad(`expected a file starting with ${GENERATOR_CHECKPOINT_MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(8, true);
  if (len > MAX_HEADER || 12 + len > bytes.length) throw bad(`header length ${len} out of range`);
  let h: Header;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Header;
  } catch {
    throw bad('the header is not valid JSON');
  }
  if (h?.version !== VERSION) throw bad(`expected version ${VERSION}, got ${JSON.stringify(h?.version)}`);
  const counts = [h.step, h.epoch, h.batchStart, h.rngDraws, h.epochCount, h.adamStep, h.order];
  if (!counts.every((v) => isInt(v, 0, 1e9))) throw bad('expected non-negative integer counters');
  if (![h.epochLoss, h.lastLoss].every((v) => typeof v === 'number' && Number.isFinite(v))) throw bad('expected finite losses');
  if (typeof h.fingerprint !== 'string' || !Array.isArray(h.params) || h.params.length > 256 || !h.params.every((n) => isInt(n, 0, MAX_FLOATS))) throw bad('expected a fingerprint and parameter lengths');
  const per = h.params.reduce((a, b) => a + b, 0);
  if (per > MAX_FLOATS) throw bad(`${per} parameters, expected at most ${MAX_FLOATS}`);
  const start = Math.ceil((12 + len) / 4) * 4;
  const need = start + 4 * 3 * per + 4 * h.order;
  if (bytes.length !== need) throw bad(`expected ${need} bytes for the arrays the header names, got ${bytes.length}`);
  const copy = copyBytes(bytes, start);
  const f = new Float32Array(copy, 0, 3 * per);
  for (let i = 0; i < f.length; i++) if (!Number.isFinite(f[i])) throw bad(`non-finite value at float ${i}`);
  let o = 0;
  const take = () =>
    h.params.map((n) => {
      const a = f.slice(o, o + n);
      o += n;
      return a;
    });
  const params = take();
  const m = take();
  const v = take();
  return {
    step: h.step,
    epoch: h.epoch,
    batchStart: h.batchStart,
    order: new Int32Array(copy, 4 * 3 * per, h.order).slice(),
    rngDraws: h.rngDraws,
    epochLoss: h.epochLoss,
    epochCount: h.epochCount,
    lastLoss: h.lastLoss,
    params,
    adam: { step: h.adamStep, m, v },
    fingerprint: h.fingerprint,
  };
}
