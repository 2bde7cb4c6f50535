import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../helpers/temp-dirs.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { convertPose } from '../../worker/import/transforms.ts';
import { rayDirection, rayOrigin } from '../../worker/model/rays.ts';
import { folderFiles, folderSink } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject, type Subject, type SubjectFrame } from '../../worker/subject/reader.ts';
import { SubjectWriter } from '../../worker/subject/writer.ts';
import { generateSubject, synthCamera } from '../../worker/synth/generate.ts';
import { GT_CLASS } from '../../worker/synth/paint.ts';
import { createFramePool, maxJobs } from '../../worker/synth/frame-pool.node.ts';
import { writeSynthSubject } from '../helpers/synth-fixture.ts';

const SIZE = 96;
const FRAMES = 70;
let dir: string;
let subject: Subject;
let frames: SubjectFrame[];
let labels: Uint8Array;
let meta: { motion: { open: number; eyeRight: number; eyeLeft: number }[]; valStart: number };

afterAll(removeTempDirs);

beforeAll(async () => {
  dir = await writeSynthSubject({ size: SIZE, frames: FRAMES, seed: 5 });
  subject = await openSubject(folderFiles(dir), nodeImageCodec);
  frames = [...subject.splits.train!.frames, ...subject.splits.val!.frames];
  labels = readNpy(new Uint8Array(readFileSync(join(dir, 'ground_truth/labels.npy')))).data as Uint8Array;
  meta = JSON.parse(readFileSync(join(dir, 'ground_truth/meta.json'), 'utf8'));
}, 120_000);

const labelAt = (k: number, x: number, y: number): number => labels[k * SIZE * SIZE + Math.floor(y + 0.5) * SIZE + Math.floor(x + 0.5)];
const mean = (f: SubjectFrame, idx: number[]): [number, number] => [idx.reduce((s, i) => s + f.lms[i * 2], 0) / idx.length, idx.reduce((s, i) => s + f.lms[i * 2 + 1], 0) / idx.length];
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

function pearson(a: number[], b: number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

describe('synth-subject output', () => {
  it('opens with the strict subject reader: reference split, one pose, landmark set and condition per frame', () => {
    expect(subject.width).toBe(SIZE);
    expect(subject.splits.train!.frames).toHaveLength(meta.valStart);
    expect(subject.splits.val!.frames).toHaveLength(FRAMES - meta.valStart);
    expect(meta.valStart).toBe(Math.trunc((FRAMES * 10) / 11));
    const gtPoses = readNpy(new Uint8Array(readFileSync(join(dir, 'ground_truth/transforms.npy')))).data as Float64Array;
    frames.forEach((f, k) => {
      expect(f.imgId).toBe(k);
      for (let i = 0; i < 16; i++) expect(f.transform[i]).toBeCloseTo(gtPoses[k * 16 + i], 6);
      expect(f.eyeSource).toBe('transforms');
    });
    // Every coordinate of the condition varies over the video (the reference divides by its std).
    const cond = subject.splits.train!.condition;
    const n = subject.splits.train!.frames.length;
    for (let c = 0; c < 204; c++) {
      let m = 0;
      for (let k = 0; k < n; k++) m += cond[k * 204 + c] / n;
      let v = 0;
      for (let k = 0; k < n; k++) v += (cond[k * 204 + c] - m) ** 2;
      expect(Math.sqrt(v / (n - 1)), `coordinate ${c}`).toBeGreaterThan(1e-4);
    }
    for (const f of ['aud.wav', 'bc.jpg', 'aud_idexp.npy', 'ground_truth/landmarks_3d_head.npy', 'ground_truth/landmarks_2d.npy']) expect(existsSync(join(dir, f))).toBe(true);
  });

  it("puts every landmark on the head in the renderer's own rays: the ray through a landmark's pixel passes the 3-D landmark", () => {
    const world = readNpy(new Uint8Array(readFileSync(join(dir, 'ground_truth/landmarks_3d_head.npy')))).data as Float32Array;
    const dirv = new Float32Array(3);
    const o = new Float32Array(3);
    const pixel = (2 * 4 * 1.2) / subject.camera.fx; // one pixel at the head's distance, in renderer units (scale 4)
    let worst = 0;
    for (const f of frames) {
      for (let i = 0; i < 68; i++) {
        rayDirection(subject.camera, f.pose, f.lms[i * 2], f.lms[i * 2 + 1], dirv);
        rayOrigin(f.pose, o);
        // The landmark in the renderer's world: nerf_matrix_to_ngp's axis order (y, z, x) and scale 4.
        const p = world.subarray(f.imgId * 204 + i * 3, f.imgId * 204 + i * 3 + 3);
        const q = [p[1] * 4, p[2] * 4, p[0] * 4];
        const v = [q[0] - o[0], q[1] - o[1], q[2] - o[2]];
        const n = Math.hypot(dirv[0], dirv[1], dirv[2]);
        const t = (v[0] * dirv[0] + v[1] * dirv[1] + v[2] * dirv[2]) / n;
        const miss = Math.hypot(v[0] - (t * dirv[0]) / n, v[1] - (t * dirv[1]) / n, v[2] - (t * dirv[2]) / n);
        worst = Math.max(worst, miss / pixel);
      }
    }
    // rayDirection casts through the pixel centre (col + 0.5); .lms coordinates have pixel centres on integers, so the ray hits exactly.
    expect(worst).toBeLessThan(0.01);
  });

  it('draws open eyes and the mouth where the landmarks are', () => {
    let checked = 0;
    frames.forEach((f, k) => {
      const face = labelAt(k, ...mean(f, [27, 28, 29, 30]));
      expect(face).toBe(GT_CLASS.skin);
      for (const [eye, open] of [[range(36, 42), meta.motion[k].eyeRight], [range(42, 48), meta.motion[k].eyeLeft]] as const) {
        if (open > 0.9) {
          expect(labelAt(k, ...mean(f, eye))).toBe(GT_CLASS.eye);
          checked++;
        }
      }
      // Halfway between the outer and inner upper lip lines is lip.
      expect(labelAt(k, ...mean(f, [51, 62]))).toBe(GT_CLASS.lips);
      const gap = f.lms[66 * 2 + 1] - f.lms[62 * 2 + 1];
      if (gap > 2) expect(labelAt(k, ...mean(f, [62, 66]))).toBe(GT_CLASS.mouth);
      if (gap < 0.3) expect(labelAt(k, ...mean(f, [62, 66]))).not.toBe(GT_CLASS.mouth);
    });
    expect(checked).toBeGreaterThan(FRAMES);
  });

  it('opens the mouth in the pixels as far as the landmarks say (mouth pixels and lip-box contrast track the lip gap)', async () => {
    const gaps: number[] = [];
    const contrast: number[] = [];
    const mouthPixels: number[] = [];
    for (const f of frames) {
      const img = await subject.loadImage(f, 'ori');
      gaps.push(f.lms[66 * 2 + 1] - f.lms[62 * 2 + 1]);
      const r = f.lipsRect;
      // Teeth and the dark mouth cavity raise the brightness spread inside the lips rectangle.
      const lum: number[] = [];
      for (let y = r.rowMin; y < r.rowMax; y++) {
        for (let x = r.colMin; x < r.colMax; x++) {
          const i = (y * SIZE + x) * 3;
          lum.push(img.data[i] + img.data[i + 1] + img.data[i + 2]);
        }
      }
      const avg = lum.reduce((a, b) => a + b, 0) / lum.length;
      contrast.push(Math.sqrt(lum.reduce((a, b) => a + (b - avg) ** 2, 0) / lum.length));
      let m = 0;
      for (let i = 0; i < SIZE * SIZE; i++) if (labels[f.imgId * SIZE * SIZE + i] === GT_CLASS.mouth) m++;
      mouthPixels.push(m);
    }
    expect(Math.max(...gaps)).toBeGreaterThan(2);
    expect(pearson(gaps, mouthPixels)).toBeGreaterThan(0.9);
    expect(pearson(gaps, contrast)).toBeGreaterThan(0.6);
  });

  it('blinks: eye_ratio drops and the eye pixels (sclera, iris) mostly disappear while the eyes are shut', () => {
    const eyePixels = (f: SubjectFrame): number => {
      const r = f.eyeRect;
      let n = 0;
      for (let y = r.rowMin - 1; y <= r.rowMax + 1; y++) for (let x = r.colMin - 1; x <= r.colMax + 1; x++) if (labels[f.imgId * SIZE * SIZE + y * SIZE + x] === GT_CLASS.eye) n++;
      return n;
    };
    const shut = frames.filter((f) => meta.motion[f.imgId].eyeRight === 0);
    const open = frames.filter((f) => meta.motion[f.imgId].eyeRight === 1);
    expect(shut.length).toBeGreaterThan(0);
    const openMean = open.reduce((s, f) => s + eyePixels(f), 0) / open.length;
    for (const f of shut) {
      expect(f.eyeRatio).toBeLessThan(0.02);
      expect(eyePixels(f)).toBeLessThan(0.5 * openMean);
    }
    for (const f of open) expect(f.eyeRatio).toBeGreaterThan(0.2);
  });

  it('keeps the torso image still and the background unchanged across frames', async () => {
    const a = await subject.loadTorso(frames[0]);
    const b = await subject.loadTorso(frames[FRAMES - 1]);
    let diff = 0;
    for (let i = 3; i < a.data.length; i += 4) diff += Math.abs(a.data[i] - b.data[i]);
    expect(diff).toBe(0);
    const covered = a.data.filter((_, i) => i % 4 === 3 && a.data[i] === 255).length;
    expect(covered).toBeGreaterThan(SIZE * SIZE * 0.1);
  });
});

function digest(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

describe('synth-subject determinism and options', () => {
  it('writes identical bytes for the same seed, in one thread or two, and different faces for different seeds', async () => {
    const a = digest(await writeSynthSubject({ size: 32, frames: 12, seed: 9 }));
    const b = digest(await writeSynthSubject({ size: 32, frames: 12, seed: 9 }, undefined, 2));
    const c = digest(await writeSynthSubject({ size: 32, frames: 12, seed: 10 }));
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, v] of a) expect(b.get(k), k).toBe(v);
    expect(c.get('ori_imgs/0.jpg')).not.toBe(a.get('ori_imgs/0.jpg'));
  });

  it('zooms about the forehead: --zoom 1.5 shows the face 1.5x larger, brows on the same rows, same bytes in two threads', async () => {
    const size = 64;
    const wide = await writeSynthSubject({ size, frames: 12, seed: 9 });
    const closeDir = await writeSynthSubject({ size, frames: 12, seed: 9, zoom: 1.5 });
    const closeTwice = digest(await writeSynthSubject({ size, frames: 12, seed: 9, zoom: 1.5 }, undefined, 2));
    for (const [k, v] of digest(closeDir)) expect(closeTwice.get(k), k).toBe(v);
    const lms = (d: string) => readNpy(new Uint8Array(readFileSync(join(d, 'ground_truth/landmarks_2d.npy')))).data as Float32Array;
    const [a, b] = [lms(wide), lms(closeDir)];
    const y = (l: Float32Array, i: number) => l[i * 2 + 1];
    // frame 0, landmarks: 8 chin, 27 nose bridge top, 19/24 brow peaks
    const span = (l: Float32Array) => y(l, 8) - y(l, 27);
    expect(span(b) / span(a)).toBeGreaterThan(1.47);
    expect(span(b) / span(a)).toBeLessThan(1.53);
    expect(Math.abs(y(b, 19) - y(a, 19))).toBeLessThan(1);
    expect(y(b, 8) - y(a, 8)).toBeGreaterThan(5);
    const focal = (d: string) => JSON.parse(readFileSync(join(d, 'transforms_train.json'), 'utf8')).focal_len;
    expect(focal(closeDir) / focal(wide)).toBeCloseTo(1.5, 9);
  });

  it('refuses bad options before writing anything', () => {
    expect(() => synthCamera({ size: 33 })).toThrow('synth.size: expected an even size (cx = cy = size/2), got 33');
    expect(() => synthCamera({ frames: 5 })).toThrow('synth.frames: expected an integer in [12, 100000], got 5');
    expect(() => synthCamera({ frames: 20, valFrames: 20 })).toThrow('synth.valFrames: expected an integer in [1, 19], got 20');
    expect(() => synthCamera({ zoom: 0.5 })).toThrow('synth.zoom: expected a number in [1, 2], got 0.5');
    expect(() => synthCamera({ zoom: Number.NaN })).toThrow('synth.zoom: expected a number in [1, 2], got NaN');
    expect(() => createFramePool(0)).toThrow(`--jobs: expected an integer in [1, ${maxJobs()}] (this machine's cores), got 0`);
  });

  it('leaves nothing behind when cancelled', async () => {
    const parent = tempDir('synth-cancel-');
    const out = join(parent, 's');
    const cam = synthCamera({ size: 32, frames: 12 });
    const writer = new SubjectWriter(await folderSink(out), nodeImageCodec, { width: 32, height: 32, focal: cam.focal });
    const abort = new AbortController();
    const run = generateSubject(writer, cam, { size: 32, frames: 12, signal: abort.signal, onProgress: (d) => d === 3 && abort.abort() });
    await expect(run).rejects.toThrow('synthetic subject generation was cancelled; nothing was written');
    expect(readdirSync(parent)).toEqual([]);
  });
});
