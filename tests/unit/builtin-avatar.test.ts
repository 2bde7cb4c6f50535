/**
 * The shipped built-in avatar (assets/avatars/builtin.r2t): small, trained by our trainer from
 * the synthetic subject (its provenance says so and how to regenerate it), complete enough for
 * the engine (landmark statistics, poses, torso), and a face whose mouth follows the lip
 * landmarks. Plus the loaders' refusals of what cannot be the shipped file.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_AVATAR_NAME, MAX_BUILTIN_AVATAR_BYTES, fetchBuiltinAvatar, readBuiltinAvatar } from '../../worker/avatar/builtin.ts';
import { BUILTIN_AVATAR_PATH, loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { expectedTensors } from '../../worker/avatar/config.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { downscaleAvatar } from '../../worker/engine/cpu-reference-renderer.ts';
import { computeFilm, LandmarkConditioner } from '../../worker/model/conditioning.ts';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { normaliseClamp } from '../../worker/model/landmarks.ts';
import { DEFAULT_EYE } from '../../worker/model/poses.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { lipsBox, speechExtremes } from '../helpers/builtin-mouth.ts';

let avatar: Avatar;
beforeAll(async () => {
  avatar = await loadBuiltinAvatar();
});

describe('the shipped built-in avatar', () => {
  it('is a small float16 .r2t that our trainer made from the synthetic subject, and says how to regenerate it', () => {
    const bytes = readFileSync(BUILTIN_AVATAR_PATH).length;
    expect(bytes).toBeLessThanOrEqual(MAX_BUILTIN_AVATAR_BYTES);
    expect(avatar.name).toBe('R2 Talker built-in (synthetic person)');
    expect(avatar.provenance.source).toBe('trainer');
    expect(avatar.provenance.stages).toBe('head,lips,torso');
    expect(avatar.provenance.regenerate).toBe('bash scripts/make-builtin-avatar.sh');
    expect(Number(avatar.provenance.synth_size)).toBe(avatar.camera.width);
    const halvable = expectedTensors(avatar.config).filter((t) => t.dtypes.includes('float16'));
    expect(halvable.length).toBeGreaterThan(10);
    for (const spec of halvable) expect(avatar.tensors.get(spec.name)?.dtype, spec.name).toBe('float16');
  });

  it('carries what the engine needs: landmark statistics, a pose track, a torso, a square camera the 64-px CPU path divides', () => {
    expect(avatar.landmarkStats).not.toBeNull();
    expect(avatar.landmarkStats!.mean).toHaveLength(avatar.config.condition.numLandmarks * 3);
    expect(Math.min(...avatar.landmarkStats!.std)).toBeGreaterThan(0);
    expect(avatar.config.torso).not.toBeNull();
    expect(avatar.tensors.get('poses')!.shape[0]).toBeGreaterThan(100);
    expect(avatar.camera.width).toBe(avatar.camera.height);
    expect(avatar.camera.width % 64).toBe(0);
  });

  it('opens its mouth visibly for speech (the default generator on the demo sentence): its projected lips box darkens, and changes over twice as much as the whole image', () => {
    const small = downscaleAvatar(avatar, avatar.camera.width / 64);
    const weights = loadModelWeights(small);
    const stats = avatar.landmarkStats!;
    const n = stats.mean.length;
    const render = (frame: Float32Array): Float32Array => {
      const w = weights.config.condition.window;
      const norm = new Float32Array(n);
      normaliseClamp(frame, stats, norm);
      const points = new Float32Array(w * n);
      for (let j = 0; j < w; j++) points.set(norm, j * n);
      const { film1, film2 } = computeFilm(weights, new LandmarkConditioner(weights, stats).code(points));
      const pose = (small.tensors.get('poses')!.data as Float32Array).slice(0, 16);
      return new CpuRenderer(weights, small.camera).render({ film1, film2, pose, eye: DEFAULT_EYE }).image;
    };
    // The default generator's most closed and most open mouth for the demo sentence.
    const { closed, open: opened } = speechExtremes(stats);
    const a = render(closed);
    const b = render(opened);
    // Where the lips are, from the avatar's own landmarks projected through the pose rendered.
    const pose = (small.tensors.get('poses')!.data as Float32Array).slice(0, 16);
    const box = lipsBox([closed, opened], pose, small.camera);
    let inPeak = 0;
    let inSum = 0;
    let inN = 0;
    let allSum = 0;
    // Mean luma (0..1) inside the box, closed minus open: positive when the open mouth is darker, as a real one.
    let drop = 0;
    const luma = (img: Float32Array, p: number) => 0.299 * img[p * 3] + 0.587 * img[p * 3 + 1] + 0.114 * img[p * 3 + 2];
    for (let p = 0; p < 64 * 64; p++) {
      const d = Math.max(...[0, 1, 2].map((k) => Math.abs(a[p * 3 + k] - b[p * 3 + k])));
      allSum += d;
      const [x, y] = [(p % 64) + 0.5, Math.floor(p / 64) + 0.5];
      if (x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1) {
        inPeak = Math.max(inPeak, d);
        inSum += d;
        drop += luma(a, p) - luma(b, p);
        inN++;
      }
    }
    const inMean = inSum / inN;
    drop /= inN;
    const allMean = allSum / (64 * 64);
    console.log(`[builtin-avatar] lips box (${box.x0.toFixed(1)}, ${box.y0.toFixed(1)})-(${box.x1.toFixed(1)}, ${box.y1.toFixed(1)}): peak change ${(inPeak * 255).toFixed(0)} levels, mean ${(inMean * 255).toFixed(1)}, mean luma drop ${(drop * 255).toFixed(1)}; whole image mean ${(allMean * 255).toFixed(2)}`);
    // The box is a mouth-sized part of the lower face, and the mouth in it visibly opens: a
    // change of > 25 levels, on average over twice the whole image's (the tiny preset also moves
    // the eyes a little), and the box as a whole darkens by > 12 levels (measured 18.8; the avatar
    // trained on the earlier subject, whose open mouth showed a ring of teeth, got 3.4 brighter).
    expect(box.x1 - box.x0).toBeGreaterThan(3);
    expect(box.x1 - box.x0).toBeLessThan(20);
    expect((box.y0 + box.y1) / 2).toBeGreaterThan(32);
    expect(inPeak).toBeGreaterThan(25 / 255);
    expect(inMean).toBeGreaterThan(2 * allMean);
    expect(drop).toBeGreaterThan(12 / 255);
  }, 60_000);
});

describe('built-in avatar loaders', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const bytes = readFileSync(BUILTIN_AVATAR_PATH);
    server = createServer((req, res) => {
      if (req.url === `/ok/${BUILTIN_AVATAR_NAME}`) res.writeHead(200).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches the file bundled beside a worker, and names the URL when it is missing', async () => {
    const got = await fetchBuiltinAvatar(`${base}/ok/render-worker.js`);
    expect(got.name).toBe(avatar.name);
    await expect(fetchBuiltinAvatar(`${base}/gone/render-worker.js`)).rejects.toThrow(`${BUILTIN_AVATAR_NAME}: could not be fetched from ${base}/gone/${BUILTIN_AVATAR_NAME} (HTTP 404)`);
  });

  it('refuses an empty or oversized file before parsing it, and a corrupt one with the reader\'s error', async () => {
    await expect(readBuiltinAvatar(new Uint8Array(0), 'x.r2t')).rejects.toThrow(`x.r2t: the built-in avatar must be 1..${MAX_BUILTIN_AVATAR_BYTES} bytes, got 0`);
    await expect(readBuiltinAvatar(new Uint8Array(MAX_BUILTIN_AVATAR_BYTES + 1), 'x.r2t')).rejects.toThrow(`got ${MAX_BUILTIN_AVATAR_BYTES + 1}`);
    await expect(readBuiltinAvatar(new Uint8Array(100).fill(7), 'x.r2t')).rejects.toThrow(/AVATAR_FORMAT|r2t|zip|magic/i);
  });
});
