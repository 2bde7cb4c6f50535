import { describe, expect, it } from 'vitest';
import { R2TalkerError } from '../../worker/errors.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import type { AvatarHeader } from '../../worker/avatar/format.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { centralRecordOffset, get32, mulberry32, put32, replaceEntry, rewriteHeader, tinyAvatar, zipEntries } from '../helpers/tiny-avatar.ts';

/** Every mutated file must load or fail with an R2TalkerError, each within this bound. */
const PER_CASE_MS = 2_000;
const WHOLE_TEST_MS = 20_000;

type Outcome = 'loaded' | 'rejected';

async function outcome(label: string, bytes: Uint8Array): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: readAvatar did not settle within ${PER_CASE_MS} ms`)), PER_CASE_MS);
  });
  try {
    const avatar = await Promise.race([readAvatar(bytes), hang]);
    // Whatever the reader accepts, the writer must accept too: they share one set of rules.
    writeAvatar(avatar);
    return 'loaded';
  } catch (e) {
    if (!(e instanceof R2TalkerError)) throw new Error(`${label}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    return 'rejected';
  } finally {
    clearTimeout(timer);
  }
}

/** Byte ranges of the zip structure (local headers, central directory, end record) of a file. */
function structureRanges(bytes: Uint8Array): [number, number][] {
  const ranges: [number, number][] = [];
  const cdOffset = get32(bytes, bytes.length - 22 + 16);
  ranges.push([cdOffset, bytes.length]);
  for (const e of zipEntries(bytes)) {
    const lho = get32(bytes, centralRecordOffset(bytes, e.name) + 42);
    ranges.push([lho, lho + 30 + e.name.length]);
  }
  return ranges;
}

function mutations(valid: Uint8Array): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [];
  const rand = mulberry32(20240611);
  const n = valid.length;

  // Truncation: every byte of the first 100 and last 100, and 100 spread through the middle.
  const cuts = new Set<number>();
  for (let i = 0; i < 100; i++) cuts.add(i).add(n - 1 - i);
  for (let i = 0; i < 100; i++) cuts.add(Math.floor((i * n) / 100));
  for (const c of cuts) out.push([`truncate at ${c}`, valid.slice(0, c)]);

  // Flipped bytes: half anywhere, half inside the zip structure where parsing decisions are made.
  const ranges = structureRanges(valid);
  for (let k = 0; k < 200; k++) {
    const b = valid.slice();
    const flips = 1 + Math.floor(rand() * 4);
    const where: number[] = [];
    for (let f = 0; f < flips; f++) {
      let at: number;
      if (k % 2 === 0) at = Math.floor(rand() * n);
      else {
        const [lo, hi] = ranges[Math.floor(rand() * ranges.length)];
        at = lo + Math.floor(rand() * (hi - lo));
      }
      b[at] ^= 1 + Math.floor(rand() * 255);
      where.push(at);
    }
    out.push([`flip bytes at ${where.join(',')}`, b]);
  }

  // Huge or hostile values in every length/offset field of the zip headers.
  const huge = [0xffffffff, 0x7fffffff, 0x80000000, n, n + 1, 0xffff];
  const eocd = n - 22;
  const fields32: [string, number][] = [
    ['eocd.cdSize', eocd + 12],
    ['eocd.cdOffset', eocd + 16],
  ];
  for (const e of zipEntries(valid)) {
    const cd = centralRecordOffset(valid, e.name);
    const lho = get32(valid, cd + 42);
    fields32.push([`${e.name} central csize`, cd + 20], [`${e.name} central usize`, cd + 24], [`${e.name} central offset`, cd + 42]);
    fields32.push([`${e.name} local csize`, lho + 18], [`${e.name} local usize`, lho + 22]);
    fields32.push([`${e.name} central name/extra length`, cd + 28], [`${e.name} local name/extra length`, lho + 26]);
  }
  fields32.push(['eocd.entries', eocd + 8], ['eocd.commentLength', eocd + 18]);
  for (const [label, at] of fields32) {
    for (const v of huge) {
      const b = valid.slice();
      put32(b, at, v);
      out.push([`${label} = ${v}`, b]);
    }
  }

  // Huge or hostile values in header.json, re-zipped with correct checksums so they reach validation.
  const hostile: unknown[] = [2 ** 31, 2 ** 53, 1e308, -1, 0, 0.5, '8', null];
  const edits: [string, (h: AvatarHeader, v: unknown) => void][] = [
    ['first tensor shape[0]', (h, v) => ((h.tensors[0].shape as unknown[])[0] = v)],
    ['poses shape[0]', (h, v) => ((h.tensors.find((t) => t.name === 'poses')!.shape as unknown[])[0] = v)],
    ['generator.bytes', (h, v) => ((h.generator as unknown as Record<string, unknown>).bytes = v)],
    ['landmarkStats.frames', (h, v) => ((h.landmarkStats as unknown as Record<string, unknown>).frames = v)],
    ['config.head.grid.offsets[2]', (h, v) => ((h.config.head.grid.offsets as unknown[])[2] = v)],
    ['config.head.grid.levels', (h, v) => ((h.config.head.grid as unknown as Record<string, unknown>).levels = v)],
    ['config.condition.numLandmarks', (h, v) => ((h.config.condition as unknown as Record<string, unknown>).numLandmarks = v)],
    ['config.march.gridResolution', (h, v) => ((h.config.march as unknown as Record<string, unknown>).gridResolution = v)],
    ['camera.width', (h, v) => ((h.camera as unknown as Record<string, unknown>).width = v)],
    ['version', (h, v) => ((h as unknown as Record<string, unknown>).version = v)],
    ['tensors', (h, v) => ((h as unknown as Record<string, unknown>).tensors = v)],
    ['config', (h, v) => ((h as unknown as Record<string, unknown>).config = v)],
  ];
  for (const [label, edit] of edits) for (const v of hostile) out.push([`header ${label} = ${JSON.stringify(v)}`, rewriteHeader(valid, (h) => edit(h, v))]);
  out.push(['header tensors x 100000', rewriteHeader(valid, (h) => (h.tensors = Array.from({ length: 100000 }, () => h.tensors[0])))]);
  // Built as text: JSON.stringify itself would overflow the stack on this nesting.
  const headerText = new TextDecoder().decode(zipEntries(valid).find((e) => e.name === 'header.json')!.data);
  const nested = headerText.replace(/"provenance":\{[^}]*\}/, `"provenance":${'['.repeat(100000)}${']'.repeat(100000)}`);
  out.push(['header deeply nested provenance', replaceEntry(valid, 'header.json', new TextEncoder().encode(nested))]);
  // Text-level damage to header.json with correct checksums, so it reaches the JSON parser and the schema checks.
  const headerBytes = new TextEncoder().encode(headerText);
  for (let k = 0; k < 40; k++) {
    const cut = Math.floor(rand() * headerBytes.length);
    out.push([`header.json cut at ${cut}`, replaceEntry(valid, 'header.json', headerBytes.slice(0, cut))]);
  }
  for (let k = 0; k < 80; k++) {
    const b = headerBytes.slice();
    const at = Math.floor(rand() * b.length);
    b[at] = 0x20 + Math.floor(rand() * 95); // another printable ASCII character
    out.push([`header.json char ${at} = ${String.fromCharCode(b[at])}`, replaceEntry(valid, 'header.json', b)]);
  }
  out.push(['header.json random bytes', replaceEntry(valid, 'header.json', Uint8Array.from({ length: 500 }, () => Math.floor(rand() * 256)))]);
  return out;
}

describe('avatar reader fuzz', () => {
  it(
    'every mutated file either loads or throws an R2TalkerError, and none hangs',
    async () => {
      const start = performance.now();
      const valid = writeAvatar(tinyAvatar({ generator: true, seed: 11 }));
      const cases = mutations(valid);
      expect(cases.length).toBeGreaterThan(500);
      const counts: Record<Outcome, number> = { loaded: 0, rejected: 0 };
      for (const [label, bytes] of cases) counts[await outcome(label, bytes)]++;
      // The mutations are meant to break files: most must be rejected, and the control must load.
      expect(counts.rejected).toBeGreaterThan(cases.length * 0.8);
      expect(await outcome('control', valid)).toBe('loaded');
      expect(performance.now() - start).toBeLessThan(WHOLE_TEST_MS);
    },
    WHOLE_TEST_MS + 5_000,
  );
});
