import { beforeAll, describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { ConfigError } from '../../worker/errors.ts';
import { torsoPixelMacs } from '../../worker/model/fast-renderer.ts';
import { TorsoRefiner } from '../../worker/model/fast-torso.ts';
import { torsoCoord, torsoPixels, TorsoPath } from '../../worker/model/torso.ts';
import { FoldedTorso } from '../../worker/model/torso-folded.ts';
import { loadModelWeights, type ModelWeights } from '../../worker/model/weights.ts';
import { avatarSequence, psnr } from '../helpers/fast-sequence.ts';
import { officialAvatar } from '../helpers/webgpu-avatar.ts';

describe('FoldedTorso: the torso nets with the constant input columns summed once', () => {
  // Float32 rounding of the reordered sums, amplified by the random avatar's 2048-cell grid.
  const cases: [string, number, () => Promise<{ w: ModelWeights; pose: Float32Array; W: number; H: number }>][] = [
    [
      'builtin avatar (trained)',
      2e-5,
      async () => {
        const av = await loadBuiltinAvatar();
        return { w: loadModelWeights(av), pose: (av.tensors.get('poses')!.data as Float32Array).slice(16, 32), W: av.camera.width, H: av.camera.height };
      },
    ],
    [
      'official config (random weights)',
      5e-4,
      async () => {
        const av = officialAvatar({ size: 48 });
        return { w: loadModelWeights(av), pose: (av.tensors.get('poses')!.data as Float32Array).slice(0, 16), W: 48, H: 40 };
      },
    ],
  ];
  for (const [name, tol, load] of cases) {
    it(`gives TorsoPath's alpha and colour at every pixel kind: ${name}`, async () => {
      const { w, pose, W, H } = await load();
      const ref = new TorsoPath(w);
      const fast = new FoldedTorso(w, W, H);
      ref.setPose(pose);
      fast.setPose(pose);
      const a = new Float32Array(4);
      const b = new Float32Array(4);
      let worst = 0;
      for (let r = 0; r < H; r += 3) {
        for (let c = 0; c < W; c += 5) {
          ref.sample(torsoCoord(r, H), torsoCoord(c, W), a);
          fast.sample(r, c, b);
          for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
        }
      }
      expect(worst).toBeLessThan(tol);
      // A pixel costs what is left after folding: well under the reference's per-pixel count.
      expect(fast.pixelMacs).toBeLessThan(0.65 * torsoPixelMacs(w));
      expect(fast.frameMacs).toBeGreaterThan(0);
    });
  }

  it('refuses a model without a torso, a tiny image, and sample() before setPose()', () => {
    const av = officialAvatar({ size: 32, torso: false });
    expect(() => new FoldedTorso(loadModelWeights(av), 32, 32)).toThrow(/no torso/);
    const w = loadModelWeights(officialAvatar({ size: 32 }));
    expect(() => new FoldedTorso(w, 1, 32)).toThrow(/at least 2x2/);
    expect(() => new FoldedTorso(w, 32, 32).sample(0, 0, new Float32Array(4))).toThrow(/setPose/);
  });
});

describe('TorsoRefiner on the trained torso over a sequence with head motion', () => {
  let w: ModelWeights;
  let W: number;
  let H: number;
  let list: Uint32Array;
  let poses: Float32Array[];
  let bg: Float32Array;
  beforeAll(async () => {
    const av = await loadBuiltinAvatar();
    const seq = avatarSequence(av, 40);
    w = seq.weights;
    W = av.camera.width;
    H = av.camera.height;
    const t = w.torso!;
    list = torsoPixels(t.densityGrid, w.config.torso!.densityResolution, W, H, t.densityThreshold);
    poses = [0, 13, 39].map((i) => seq.frames[i].pose);
    bg = w.background;
  });

  /** bg' of every pixel with the torso evaluated everywhere (exact mode's torso). */
  function full(pose: Float32Array): Float32Array {
    const out = Float32Array.from(bg);
    const ref = new TorsoPath(w);
    ref.setPose(pose);
    const s = new Float32Array(4);
    for (const p of list) {
      ref.sample(torsoCoord(Math.floor(p / W), H), torsoCoord(p % W, W), s);
      for (let k = 0; k < 3; k++) out[p * 3 + k] = s[1 + k] * s[0] + bg[p * 3 + k] * (1 - s[0]);
    }
    return out;
  }

  function run(refiner: TorsoRefiner, folded: FoldedTorso, pose: Float32Array, weightSum: Float32Array, stride: number): { image: Float32Array; lists: Uint32Array[] } {
    const lists: Uint32Array[] = [];
    folded.setPose(pose);
    const s = new Float32Array(4);
    refiner.run(pose, weightSum, 1 / 2048, stride, { colour: 0.04, curvature: 0.02 }, (l) => {
      lists.push(l);
      const v = new Float32Array(l.length * 4);
      for (let j = 0; j < l.length; j++) {
        folded.sample(Math.floor(l[j] / W), l[j] % W, s);
        v.set([s[0], s[1] * s[0], s[2] * s[0], s[3] * s[0]], j * 4);
      }
      refiner.store(l, v);
    });
    const image = new Float32Array(bg.length);
    refiner.composite(bg, image);
    return { image, lists };
  }

  it('evaluates a fraction of the torso pixels at a 4-pixel lattice and stays within 40 dB of the full torso', () => {
    const folded = new FoldedTorso(w, W, H);
    const refiner = new TorsoRefiner(W, H, list);
    const none = new Float32Array(W * H);
    for (const pose of poses) {
      const { image } = run(refiner, folded, pose, none, 4);
      expect(refiner.evaluated + refiner.interpolated).toBe(list.length);
      expect(refiner.evaluated).toBeLessThan(0.5 * list.length);
      expect(psnr(image, full(pose))).toBeGreaterThanOrEqual(40);
    }
  });

  it('in steps (start, levelList, finish: the WebGPU fast mode sends each list with a head round) gives run()\'s lists and image while the head\'s weight sums become final level by level', () => {
    const folded = new FoldedTorso(w, W, H);
    const head = new Float32Array(W * H);
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) if ((r - H * 0.75) ** 2 + (c - W / 2) ** 2 < (W / 5) ** 2) head[r * W + c] = 1;
    const ref = run(new TorsoRefiner(W, H, list), folded, poses[0], head, 4);
    const refiner = new TorsoRefiner(W, H, list);
    const tol = { colour: 0.04, curvature: 0.02 };
    // The head's weight sums as its lattice levels finish: lattice 4 first, then 2, then 1.
    const known = (step: number) => head.map((v, p) => (Math.floor(p / W) % step === 0 && (p % W) % step === 0 ? v : 0));
    const s = new Float32Array(4);
    const evaluate = (l: Uint32Array) => {
      const v = new Float32Array(l.length * 4);
      for (let j = 0; j < l.length; j++) {
        folded.sample(Math.floor(l[j] / W), l[j] % W, s);
        v.set([s[0], s[1] * s[0], s[2] * s[0], s[3] * s[0]], j * 4);
      }
      refiner.store(l, v);
    };
    const lists: Uint32Array[] = [];
    let l = refiner.start(poses[0], known(4), 1 / 2048, 4);
    for (const step of [4, 2]) {
      if (l.length) lists.push(l);
      evaluate(l);
      l = refiner.levelList(step, known(step / 2), 1 / 2048, tol);
    }
    if (l.length) lists.push(l);
    evaluate(l);
    refiner.finish(head, 1 / 2048);
    const image = new Float32Array(bg.length);
    refiner.composite(bg, image);
    expect(lists).toEqual(ref.lists);
    expect(image).toEqual(ref.image);
  });

  it('does not evaluate the torso under an opaque head, and stride 1 evaluates every visible pixel', () => {
    const folded = new FoldedTorso(w, W, H);
    const refiner = new TorsoRefiner(W, H, list);
    const head = new Float32Array(W * H);
    // An opaque disc over the upper part of the torso.
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) if ((r - H * 0.75) ** 2 + (c - W / 2) ** 2 < (W / 5) ** 2) head[r * W + c] = 1;
    let hidden = 0;
    for (const p of list) if (head[p] === 1) hidden++;
    expect(hidden).toBeGreaterThan(100);
    const { lists } = run(refiner, folded, poses[0], head, 1);
    const seen = new Set<number>();
    for (const l of lists) for (const p of l) seen.add(p);
    expect(seen.size).toBe(list.length - hidden);
    for (const p of seen) expect(head[p]).toBe(0);
    // The visible pixels composite exactly as the full torso does there (hidden ones do not matter).
    const image = new Float32Array(bg.length);
    refiner.composite(bg, image);
    const ref = full(poses[0]);
    for (const p of list) if (head[p] === 0) for (let k = 0; k < 3; k++) expect(Math.abs(image[p * 3 + k] - ref[p * 3 + k])).toBeLessThan(1e-4);
  });

  it('reuses what it evaluated while the pose is bit-identical, and evaluates again once it moves or after reset()', () => {
    const folded = new FoldedTorso(w, W, H);
    const refiner = new TorsoRefiner(W, H, list);
    const none = new Float32Array(W * H);
    const a = run(refiner, folded, poses[1], none, 4);
    const first = refiner.evaluated;
    expect(first).toBeGreaterThan(0);
    const b = run(refiner, folded, Float32Array.from(poses[1]), none, 4);
    expect(refiner.evaluated).toBe(0);
    expect(b.image).toEqual(a.image);
    run(refiner, folded, poses[2], none, 4);
    expect(refiner.evaluated).toBeGreaterThan(0);
    refiner.reset();
    run(refiner, folded, poses[2], none, 4);
    expect(refiner.evaluated).toBeGreaterThan(0);
  });

  it('refuses pixels outside the image and short value arrays', () => {
    expect(() => new TorsoRefiner(4, 4, Uint32Array.of(3, 16))).toThrow(ConfigError);
    const r = new TorsoRefiner(4, 4, Uint32Array.of(3, 5));
    expect(() => r.store([3, 5], new Float32Array(4))).toThrow(/expected 8 values/);
  });
});
