/** Evaluation rendering (`render --poses --landmarks`) and `eval` with a tiny avatar on a subject of its camera. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../helpers/temp-dirs.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { writeNpy } from '../../worker/io/npy.ts';
import { convertPose } from '../../worker/import/transforms.ts';
import { computeFilm, LandmarkConditioner } from '../../worker/model/conditioning.ts';
import { CpuRenderer, toRgba8 } from '../../worker/model/cpu-renderer.ts';
import { landmarkStatistics, normaliseClampTrack, windowPoints } from '../../worker/model/landmarks.ts';
import { smoothEye } from '../../worker/model/poses.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { exactFrames } from '../../worker/metrics/exact-frames.ts';
import { psnr } from '../../worker/metrics/psnr.ts';
import { folderFiles, folderSink } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { SubjectWriter } from '../../worker/subject/writer.ts';
import { fixtureLms } from '../helpers/subject-fixture.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const N = 8;
const VAL = 3;
const avatar = tinyAvatar({ seed: 4 });
const weights = loadModelWeights(avatar);
const { width: W, height: H } = avatar.camera;

function r2talker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/r2talker.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The reference-convention transform_matrix whose nerf_matrix_to_ngp is the renderer pose P. */
function referenceMatrix(P: Float32Array): number[][] {
  const M = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
  [1, 2, 0].forEach((src, r) => {
    M[src] = [P[r * 4], -P[r * 4 + 1], -P[r * 4 + 2], P[r * 4 + 3] / 4];
  });
  return M;
}

/** Renderer pose of frame k: the avatar's poses turned a little more each frame. */
function framePose(k: number): Float32Array {
  const base = (avatar.tensors.get('poses')!.data as Float32Array).slice((k % 3) * 16, (k % 3) * 16 + 16);
  base[3] += 0.02 * k;
  return base;
}

const condition = (k: number): Float32Array => Float32Array.from({ length: 204 }, (_, i) => 0.05 * Math.sin(i * 0.37 + k * 0.9));
const eyeOf = (k: number): number => 0.2 + 0.02 * k;

let dir: string;
let subjectDir: string;
let avatarFile: string;

/** Renders frame k of a split with primitives only: the expected value the commands must reproduce. */
function expectedFrame(frames: number[], k: number): Uint8ClampedArray {
  return toRgba8(expectedRender(frames, k).image, W, H);
}

function expectedRender(frames: number[], k: number): ReturnType<CpuRenderer['render']> {
  const track = new Float32Array(frames.length * 204);
  frames.forEach((f, i) => track.set(condition(f), i * 204));
  const stats = landmarkStatistics(track, frames.length, 204);
  const norm = normaliseClampTrack(track, frames.length, 204, stats);
  const points = new Float32Array(5 * 204);
  windowPoints(norm, frames.length, k, 5, points);
  const film = computeFilm(weights, new LandmarkConditioner(weights, stats).code(points));
  const pose = new Float32Array(16);
  convertPose(referenceMatrix(framePose(frames[k])).flat(), pose, 0);
  const eye = smoothEye(Float32Array.from(frames, eyeOf), frames.length, k);
  return new CpuRenderer(weights, avatar.camera).render({ film1: film.film1, film2: film.film2, pose, eye });
}

async function writeSubject(out: string, gt: (k: number) => Uint8Array): Promise<void> {
  const w = new SubjectWriter(await folderSink(out), nodeImageCodec, { width: W, height: H, focal: avatar.camera.fx });
  await w.writeBackground({ width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3).fill(90) });
  for (let k = 0; k < N; k++) {
    const img = { width: W, height: H, channels: 3 as const, data: gt(k) };
    const lms = fixtureLms(k).map((v, i) => (i % 2 === 0 ? v * 0.6 + 3 : v * 0.5 + 3)); // keep the mouth box inside 16x12
    await w.addFrame({
      split: k < N - VAL ? 'train' : 'val',
      imgId: k,
      audId: k,
      transform: referenceMatrix(framePose(k)).flat(),
      eyeRatio: eyeOf(k),
      lms,
      condition: condition(k),
      ori: img,
      gt: img,
      parsing: { ...img, data: new Uint8Array(W * H * 3).fill(255) },
      // Torso covers the lower half (opaque, grey 200); the upper half is transparent.
      torso: { width: W, height: H, channels: 4, data: Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? (Math.floor(i / 4) >= (W * H) / 2 ? 255 : 0) : 200)) },
    });
  }
  await w.finish();
}

const rgbOf = (rgba: Uint8ClampedArray): Uint8Array => Uint8Array.from({ length: W * H * 3 }, (_, i) => rgba[Math.floor(i / 3) * 4 + (i % 3)]);
const valFrames = Array.from({ length: VAL }, (_, i) => N - VAL + i);

afterAll(removeTempDirs);

beforeAll(async () => {
  dir = tempDir('r2t-eval-');
  avatarFile = join(dir, 'tiny.r2t');
  writeFileSync(avatarFile, writeAvatar(avatar));
  // Ground truth = the avatar's own exact renders of the validation frames (JPEG-compressed by the layout).
  subjectDir = join(dir, 'subject');
  await writeSubject(subjectDir, (k) => (k >= N - VAL ? rgbOf(expectedFrame(valFrames, k - (N - VAL))) : new Uint8Array(W * H * 3).fill(128)));
});

describe('exactFrames', () => {
  it('pairs pose k with landmark frame k: changing one pose changes only that frame', () => {
    const poses = new Float32Array(4 * 16);
    for (let k = 0; k < 4; k++) convertPose(referenceMatrix(framePose(k)).flat(), poses, k * 16);
    const track = new Float32Array(4 * 204);
    for (let k = 0; k < 4; k++) track.set(condition(k), k * 204);
    const a = [...exactFrames(weights, poses, track, 4)];
    const moved = poses.slice();
    moved[2 * 16 + 3] += 0.3;
    const b = [...exactFrames(weights, moved, track, 4)];
    expect(a).toHaveLength(4);
    for (let k = 0; k < 4; k++) {
      expect(Array.from(b[k].pose)).toEqual(Array.from(moved.subarray(k * 16, k * 16 + 16)));
      expect(Array.from(b[k].film1)).toEqual(Array.from(a[k].film1));
    }
  });

  it('refuses a pose count that differs from the landmark frames', () => {
    expect(() => [...exactFrames(weights, new Float32Array(3 * 16), new Float32Array(4 * 204), 4)]).toThrow('poses: expected 4 poses (one per landmark frame), got 3');
  });
});

describe('r2talker render --poses --landmarks', () => {
  it('writes one frame per pose, frame k rendered from pose k and landmark frame k', () => {
    const out = join(dir, 'render');
    const track = new Float32Array(VAL * 204);
    valFrames.forEach((f, i) => track.set(condition(f), i * 204));
    writeFileSync(join(dir, 'val.npy'), writeNpy({ dtype: 'float32', shape: [VAL, 68, 3], data: track }));
    const r = r2talker(['render', '--avatar', avatarFile, '--poses', join(subjectDir, 'transforms_val.json'), '--landmarks', join(dir, 'val.npy'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['frame_0000.png', 'frame_0001.png', 'frame_0002.png']);
    // The frames differ from one another, so matching each one to its own pose and landmarks means something.
    expect(Array.from(expectedFrame(valFrames, 0))).not.toEqual(Array.from(expectedFrame(valFrames, 1)));
    for (let k = 0; k < VAL; k++) {
      const png = nodeImageCodec.decode(new Uint8Array(readFileSync(join(out, `frame_000${k}.png`))), 'png');
      expect(Array.from(png.data)).toEqual(Array.from(rgbOf(expectedFrame(valFrames, k))));
    }
  });

  it('refuses landmarks and poses of different lengths, and a camera other than the avatar\'s', () => {
    writeFileSync(join(dir, 'two.npy'), writeNpy({ dtype: 'float32', shape: [2, 204], data: new Float32Array(2 * 204) }));
    const poses = join(subjectDir, 'transforms_val.json');
    let r = r2talker(['render', '--avatar', avatarFile, '--poses', poses, '--landmarks', join(dir, 'two.npy'), '--out', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`landmarks: has 2 frames but ${poses} has 3 poses`);
    const other = JSON.parse(readFileSync(poses, 'utf8'));
    other.focal_len = 30;
    writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
    r = r2talker(['render', '--avatar', avatarFile, '--poses', join(dir, 'other.json'), '--landmarks', join(dir, 'val.npy'), '--out', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('avatar camera (16x12, focal 20, cx 8, cy 6) differs from the camera (16x12, focal 30, cx 8, cy 6)');
  });
});

describe('r2talker eval', () => {
  it('scores the held-out frames against gt_imgs: the numbers equal PSNR of the rendered frames vs the decoded files', async () => {
    const out = join(dir, 'eval-frames');
    const r = r2talker(['eval', '--avatar', avatarFile, '--data', subjectDir, '--json', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.split).toBe('val');
    expect(res.frames).toHaveLength(VAL);
    const subject = await openSubject(folderFiles(subjectDir), nodeImageCodec, { splits: ['val'] });
    let sum = 0;
    for (let k = 0; k < VAL; k++) {
      const rendered = nodeImageCodec.decode(new Uint8Array(readFileSync(join(out, `frame_000${k}.png`))), 'png');
      const gt = await subject.loadImage(subject.splits.val!.frames[k], 'gt');
      const p = psnr({ width: W, height: H, channels: 3, data: rendered.data }, { width: W, height: H, channels: 3, data: gt.data });
      expect(res.frames[k].psnr).toBeCloseTo(p, 9);
      sum += p;
    }
    expect(res.psnr).toBeCloseTo(sum / VAL, 9);
    // The ground truth is the avatar's own render, so only JPEG loss separates them.
    expect(res.psnr).toBeGreaterThan(28);
    expect(res.ssim).toBeGreaterThan(0.9);
    expect(res.mouthPsnr).toBeGreaterThan(25);
  });

  it('scores a subject whose frames are not the avatar far lower', async () => {
    const noisy = join(dir, 'noisy');
    await writeSubject(noisy, (k) => Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 97 + k * 31) & 255));
    const r = r2talker(['eval', '--avatar', avatarFile, '--data', noisy, '--json']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.psnr).toBeLessThan(12);
    expect(res.ssim).toBeLessThan(0.3);
  });

  it('--head-only scores the head over the frame\'s own torso image over bc.jpg', async () => {
    const r = r2talker(['eval', '--avatar', avatarFile, '--data', subjectDir, '--json', '--head-only']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.headOnly).toBe(true);
    const subject = await openSubject(folderFiles(subjectDir), nodeImageCodec, { splits: ['val'] });
    const bg = await subject.loadBackground();
    for (let k = 0; k < VAL; k++) {
      const head = expectedRender(valFrames, k);
      // Under the head: the opaque grey torso in the lower half, bc.jpg in the upper half.
      const img = Uint8Array.from({ length: W * H * 3 }, (_, i) => {
        const p = Math.floor(i / 3);
        const under = p >= (W * H) / 2 ? 200 / 255 : bg.data[i] / 255;
        const v = head.headRgb[i] + (1 - head.weightSum[p]) * under;
        return Math.floor(Math.min(1, Math.max(0, v)) * 255);
      });
      const gt = await subject.loadImage(subject.splits.val!.frames[k], 'gt');
      expect(res.frames[k].psnr).toBeCloseTo(psnr({ width: W, height: H, channels: 3, data: img }, { width: W, height: H, channels: 3, data: gt.data }), 9);
    }
    const refused = r2talker(['eval', '--avatar', avatarFile, '--data', subjectDir, '--head-only', '--backend', 'webgpu']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--head-only: needs the head field\'s colour and weights, which only --backend cpu exposes');
  });

  it('names the subject file that is broken and exits 2', () => {
    const r = r2talker(['eval', '--avatar', avatarFile, '--data', join(dir, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`[INPUT_FORMAT] ${join(dir, 'nowhere')}/transforms_val.json: missing`);
  });
});
