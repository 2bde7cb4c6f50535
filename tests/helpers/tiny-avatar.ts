/**
 * A small, valid, in-memory Avatar with seeded random weights (tiny grids, hidden width 8)
 * so format and model tests run in milliseconds, plus zip surgery for malformed-file tests.
 */
import { unzipSync } from 'fflate';
import { defaultOffsets, expectedTensors, type CameraConfig, type GridConfig, type GridType, type ModelConfig } from '../../worker/avatar/config.ts';
import { HEADER_ENTRY, type AvatarHeader } from '../../worker/avatar/format.ts';
import { crc32 } from '../../worker/io/zip.ts';
import type { Avatar, Tensor } from '../../worker/avatar/types.ts';

export interface TinyAvatarOptions {
  torso?: boolean; // default true
  eyeInput?: boolean; // default true: head.eyeInput and an `eye` tensor
  gridType?: GridType; // default 'tiled'
  seed?: number; // default 1
  /** Number of poses (default 3). */
  poses?: number;
  /** Include landmark_mean/landmark_std and landmarkStats (default true). */
  stats?: boolean;
  /** Include generator bytes (default false). */
  generator?: boolean;
  /** Include the `eye` tensor (default: same as eyeInput). */
  eye?: boolean;
}

import { mulberry32 } from '../../worker/util/random.ts';

export { mulberry32 };

function tinyGrid(inputDim: 2 | 3, features: number, gridType: GridType): GridConfig {
  // Tiled grids must hold every vertex of the finest level; hash grids are capped at 256 rows.
  const log2T = gridType === 'tiled' ? 12 : 8;
  return { inputDim, levels: 2, featuresPerLevel: features, baseResolution: 4, finestResolution: 8, gridType, offsets: defaultOffsets(inputDim, 2, 4, 8, log2T) };
}

/** officialConfig() shrunk: 2-level grids, hidden widths 8, 16^3 occupancy grid; 68 landmarks, window 5. */
export function tinyConfig(opts: Pick<TinyAvatarOptions, 'torso' | 'eyeInput' | 'gridType'> = {}): ModelConfig {
  const gridType = opts.gridType ?? 'tiled';
  return {
    head: { grid: tinyGrid(3, 4, gridType), eyeInput: opts.eyeInput ?? true, hiddenDim: 8, geoFeatDim: 8, colorHiddenDim: 8, individualDim: 4, shDegree: 4 },
    condition: { grid: tinyGrid(3, 2, gridType), numLandmarks: 68, window: 5, hiddenDim: 8, lipSmoothing: 0.35 },
    torso:
      opts.torso === false
        ? null
        : { grid: tinyGrid(2, 2, gridType), deformHiddenDim: 8, netHiddenDim: 8, individualDim: 8, positionDegree: 10, poseDegree: 4, densityResolution: 8 },
    march: { gridResolution: 16, maxSteps: 16, dtGamma: 1 / 256, minNear: 0.05, tThreshold: 1e-4, maxStepsPerPass: 8 },
    aabb: [-1, -0.5, -1, 1, 0.5, 1],
  };
}

export function tinyCamera(): CameraConfig {
  return { fx: 20, fy: 20, cx: 8, cy: 6, width: 16, height: 12 };
}

function poseMatrix(i: number, rand: () => number): Float32Array {
  // A small rotation about y plus a translation in front of the camera.
  const a = (rand() - 0.5) * 0.2 + i * 0.01;
  const c = Math.cos(a);
  const s = Math.sin(a);
  return Float32Array.from([c, 0, s, 0.01 * i, 0, 1, 0, 0, -s, 0, c, -3 + rand() * 0.1, 0, 0, 0, 1]);
}

export function tinyAvatar(opts: TinyAvatarOptions = {}): Avatar {
  const rand = mulberry32(opts.seed ?? 1);
  const config = tinyConfig(opts);
  const camera = tinyCamera();
  const tensors = new Map<string, Tensor>();
  const put = (t: Tensor) => tensors.set(t.name, t);
  for (const spec of expectedTensors(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtypes[0] === 'uint8') {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.floor(rand() * 256);
      put({ name: spec.name, dtype: 'uint8', shape: spec.shape, data });
    } else {
      const data = new Float32Array(n);
      const scale = spec.name.includes('embeddings') ? 2e-4 : spec.name.startsWith('density_grid') ? 20 : 0.5;
      for (let i = 0; i < n; i++) data[i] = (rand() - 0.5) * 2 * scale;
      put({ name: spec.name, dtype: 'float32', shape: spec.shape, data });
    }
  }
  const numPoses = opts.poses ?? 3;
  const poses = new Float32Array(numPoses * 16);
  for (let i = 0; i < numPoses; i++) poses.set(poseMatrix(i, rand), i * 16);
  put({ name: 'poses', dtype: 'float32', shape: [numPoses, 4, 4], data: poses });
  const bg = new Uint8Array(camera.height * camera.width * 3);
  for (let i = 0; i < bg.length; i++) bg[i] = Math.floor(rand() * 256);
  put({ name: 'background', dtype: 'uint8', shape: [camera.height, camera.width, 3], data: bg });
  if (opts.eye ?? opts.eyeInput ?? true) {
    put({ name: 'eye', dtype: 'float32', shape: [numPoses], data: Float32Array.from({ length: numPoses }, () => rand()) });
  }
  let landmarkStats: Avatar['landmarkStats'] = null;
  if (opts.stats ?? true) {
    const k = config.condition.numLandmarks * 3;
    const mean = Float32Array.from({ length: k }, () => rand() - 0.5);
    const std = Float32Array.from({ length: k }, () => 0.01 + rand() * 0.1);
    landmarkStats = { mean, std, frames: 250 };
    put({ name: 'landmark_mean', dtype: 'float32', shape: [k], data: mean });
    put({ name: 'landmark_std', dtype: 'float32', shape: [k], data: std });
  }
  const generator = opts.generator ? Uint8Array.from({ length: 300 }, () => Math.floor(rand() * 256)) : null;
  return { name: 'tiny', config, camera, tensors, landmarkStats, generator, provenance: { source: 'synthetic', seed: opts.seed ?? 1 } };
}

// ---- zip surgery for malformed-file tests ----

export interface RawEntry {
  name: string;
  data: Uint8Array;
  /** Compression method written in the headers (the data is stored as given). */
  method?: number;
}

/** The entries of a valid archive, in archive order. */
export function zipEntries(bytes: Uint8Array): RawEntry[] {
  return Object.entries(unzipSync(bytes)).map(([name, data]) => ({ name, data }));
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, v & 0xffff);
  put16(b, o + 2, (v >>> 16) & 0xffff);
}

export function get32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** A plain zip writer that, unlike zipSync, allows duplicate names and arbitrary method fields. */
export function storedZip(entries: RawEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const crc = crc32(e.data);
    const local = new Uint8Array(30 + name.length);
    put32(local, 0, 0x04034b50);
    put16(local, 4, 20);
    put16(local, 8, e.method ?? 0);
    put32(local, 14, crc);
    put32(local, 18, e.data.length);
    put32(local, 22, e.data.length);
    put16(local, 26, name.length);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    put32(cd, 0, 0x02014b50);
    put16(cd, 4, 20);
    put16(cd, 6, 20);
    put16(cd, 10, e.method ?? 0);
    put32(cd, 16, crc);
    put32(cd, 20, e.data.length);
    put32(cd, 24, e.data.length);
    put16(cd, 28, name.length);
    put32(cd, 42, offset);
    cd.set(name, 46);
    parts.push(local, e.data);
    central.push(cd);
    offset += local.length + e.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const eocd = new Uint8Array(22);
  put32(eocd, 0, 0x06054b50);
  put16(eocd, 8, entries.length);
  put16(eocd, 10, entries.length);
  put32(eocd, 12, cdSize);
  put32(eocd, 16, offset);
  const out = new Uint8Array(offset + cdSize + 22);
  let at = 0;
  for (const p of [...parts, ...central, eocd]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Offset of the central directory record naming `name`, or -1. */
export function centralRecordOffset(bytes: Uint8Array, name: string): number {
  const eocd = bytes.length - 22;
  let pos = get32(bytes, eocd + 16);
  const count = bytes[eocd + 10] | (bytes[eocd + 11] << 8);
  const dec = new TextDecoder();
  for (let k = 0; k < count; k++) {
    const n = bytes[pos + 28] | (bytes[pos + 29] << 8);
    const extra = (bytes[pos + 30] | (bytes[pos + 31] << 8)) + (bytes[pos + 32] | (bytes[pos + 33] << 8));
    if (dec.decode(bytes.subarray(pos + 46, pos + 46 + n)) === name) return pos;
    pos += 46 + n + extra;
  }
  return -1;
}

/** Re-zips a valid archive with header.json changed by `edit` (CRCs recomputed, so only the edit is wrong). */
export function rewriteHeader(bytes: Uint8Array, edit: (h: AvatarHeader) => void): Uint8Array {
  const entries = zipEntries(bytes);
  const he = entries.find((e) => e.name === HEADER_ENTRY)!;
  const header = JSON.parse(new TextDecoder().decode(he.data)) as AvatarHeader;
  edit(header);
  he.data = new TextEncoder().encode(JSON.stringify(header));
  return storedZip(entries);
}

/** Re-zips a valid archive with one entry's bytes replaced. */
export function replaceEntry(bytes: Uint8Array, name: string, data: Uint8Array): Uint8Array {
  return storedZip(zipEntries(bytes).map((e) => (e.name === name ? { name, data } : e)));
}
