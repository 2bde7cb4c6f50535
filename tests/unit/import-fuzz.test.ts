import { mulberry32 } from '../../worker/util/random.ts';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { R2TalkerError } from '../../worker/errors.ts';
import { readTorchCheckpoint } from '../../worker/import/checkpoint.ts';
import { openTorchZip, readZipEntry } from '../../worker/import/torch-zip.ts';
import { TINY_DIR, readBytes } from '../helpers/import-fixtures.ts';

const prng = mulberry32;

const original = readBytes(join(TINY_DIR, 'tiny.pth'));
const zip = openTorchZip(original);
const pickle = readZipEntry(zip, 'data.pkl').slice();
const storages: Record<string, Uint8Array> = {};
for (const name of zip.entries.keys()) if (name !== 'data.pkl') storages[`tiny/${name}`] = readZipEntry(zip, name).slice();

/** Re-zips with a (mutated) pickle so the CRC passes and the unpickler itself is exercised. */
function withPickle(pkl: Uint8Array): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = { 'tiny/data.pkl': [pkl, { level: 0 }] };
  for (const [k, v] of Object.entries(storages)) files[k] = [v, { level: 0 }];
  return zipSync(files);
}

interface Tally {
  ok: number;
  rejected: number;
  slowest: number;
}

/** The contract: a result or an R2TalkerError, never another exception, never slow. */
function attempt(bytes: Uint8Array, tally: Tally, label: string): void {
  const t0 = performance.now();
  try {
    readTorchCheckpoint(bytes);
    tally.ok++;
  } catch (e) {
    if (!(e instanceof R2TalkerError)) throw new Error(`${label}: escaped as ${String(e)}`);
    expect(e.code, label).toBe('CHECKPOINT_FORMAT');
    tally.rejected++;
  }
  tally.slowest = Math.max(tally.slowest, performance.now() - t0);
}

const fresh = (): Tally => ({ ok: 0, rejected: 0, slowest: 0 });

describe('checkpoint reader fuzzing (tiny fixture, seeded)', () => {
  it('every truncation of the archive or of data.pkl ends in an R2TalkerError', () => {
    const rnd = prng(1);
    const tally = fresh();
    for (let i = 0; i < 150; i++) {
      const n = i < 40 ? i : Math.floor(rnd() * original.length);
      attempt(original.subarray(0, n), tally, `archive cut at ${n}`);
    }
    for (let i = 0; i < 150; i++) {
      const n = Math.floor(rnd() * pickle.length);
      attempt(withPickle(pickle.subarray(0, n)), tally, `pickle cut at ${n}`);
    }
    expect(tally.ok).toBe(0);
    expect(tally.slowest).toBeLessThan(1000);
  });

  it('flipped bytes anywhere in the archive give a result or an R2TalkerError', () => {
    const rnd = prng(2);
    const tally = fresh();
    for (let i = 0; i < 400; i++) {
      const b = original.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] ^= 1 + Math.floor(rnd() * 255);
      attempt(b, tally, `archive flip #${i}`);
    }
    // Flips in model storages, headers and data.pkl are caught; flips in never-read optimizer
    // storages or header padding are harmless, so some files still parse.
    expect(tally.rejected).toBeGreaterThan(200);
    expect(tally.slowest).toBeLessThan(1000);
  });

  it('flipped bytes inside a CRC-valid data.pkl give a result or an R2TalkerError', () => {
    const rnd = prng(3);
    const tally = fresh();
    for (let i = 0; i < 400; i++) {
      const p = pickle.slice();
      const flips = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < flips; k++) p[Math.floor(rnd() * p.length)] = Math.floor(rnd() * 256);
      attempt(withPickle(p), tally, `pickle flip #${i}`);
    }
    expect(tally.rejected).toBeGreaterThan(50);
    expect(tally.slowest).toBeLessThan(1000);
  });

  it('huge declared lengths, counts and sizes are refused without allocating them', () => {
    const tally = fresh();
    // Every 4-byte length/int argument in the pickle set to a huge value, one at a time.
    const ops = new Map([
      [0x58, [0xf0, 0xff, 0xff, 0xff]], // BINUNICODE length
      [0x4a, [0xff, 0xff, 0xff, 0x7f]], // BININT (numel, sizes, strides, offsets)
      [0x72, [0xff, 0xff, 0xff, 0xff]], // LONG_BINPUT index
    ]);
    let cases = 0;
    for (let i = 0; i < pickle.length && cases < 250; i++) {
      const patch = ops.get(pickle[i]);
      if (!patch) continue;
      const p = pickle.slice();
      p.set(patch, i + 1);
      attempt(withPickle(p), tally, `pickle huge value at ${i}`);
      cases++;
    }
    // Central-directory sizes and offsets, and the end record's counts.
    const v = new DataView(original.buffer, original.byteOffset);
    for (let at = 0; at + 4 <= original.length; at++) {
      const sig = v.getUint32(at, true);
      const fields = sig === 0x02014b50 ? [20, 24, 42] : sig === 0x06054b50 ? [10, 12, 16] : sig === 0x06064b50 ? [24, 32, 40, 48] : [];
      for (const f of fields) {
        const b = original.slice();
        new DataView(b.buffer).setUint32(at + f, 0xfffffff0, true);
        attempt(b, tally, `zip field ${at}+${f}`);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(100);
    expect(tally.rejected).toBeGreaterThan(0);
    expect(tally.slowest).toBeLessThan(1000);
  });
}, 30_000);
