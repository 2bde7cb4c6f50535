import { describe, expect, it } from 'vitest';
import { CpuRenderer } from '../../worker/model/cpu-renderer.ts';
import { headHalfMacs } from '../../worker/model/fast-field.ts';
import { FastCpuRenderer, torsoPixelMacs } from '../../worker/model/fast-renderer.ts';
import { FoldedTorso } from '../../worker/model/torso-folded.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { avatarSequence, demoMouthPixels, psnr, resizeAvatar, talkingSequence } from '../helpers/fast-sequence.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { frontPose } from '../helpers/webgpu-avatar.ts';

const SIZE = 64;

function exactMacs(r: { samplesPerRay: Uint16Array }, perSample: number): number {
  let s = 0;
  for (const v of r.samplesPerRay) s += v;
  return s * perSample;
}

describe('FastCpuRenderer on a talking sequence with head motion', () => {
  // Frames 56..67 of the demo track: a silent stretch, then a phrase starts at frame 60 (speech
  // onset: the mouth opens from closed) while the head keeps turning along the demo pose track.
  const seq = talkingSequence(SIZE, 72);
  const exact = new CpuRenderer(seq.weights, seq.avatar.camera);
  const half = headHalfMacs(seq.weights.config);
  const perSample = half.sigma + half.colour;

  it('the first frame marches every pixel and matches exact mode to within the colour sharing and early termination', () => {
    const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    const f = fast.render(seq.frames[52]);
    const e = exact.render(seq.frames[52]);
    expect(f.stats.marchedRays).toBe(SIZE * SIZE);
    expect(psnr(f.image, e.image)).toBeGreaterThanOrEqual(42);
    // nothing approximated: exact mode's pixels
    const plain = new FastCpuRenderer(seq.weights, seq.avatar.camera, { colourWeight: 0, terminate: 0 }).render(seq.frames[52]);
    let worst = 0;
    for (let i = 0; i < plain.image.length; i++) worst = Math.max(worst, Math.abs(plain.image[i] - e.image[i]));
    expect(worst).toBeLessThan(5e-3);
  });

  it('keeps PSNR >= 38 dB on every frame and >= 35 dB on the mouth, through a speech onset, for fewer multiply-adds', () => {
    // 'auto' stride: a 2-pixel lattice at this size (an eye is ~2 pixels wide here).
    const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    let macsFast = 0;
    let macsExact = 0;
    let mouthStep = Infinity;
    let prevMouth: Float32Array | null = null;
    for (let t = 56; t < 68; t++) {
      const fr = seq.frames[t];
      const f = fast.render(fr);
      const e = exact.render(fr);
      if (t === 56) continue; // no previous frame: exact by construction (previous test)
      macsFast += f.stats.macs;
      macsExact += exactMacs(e, perSample);
      const mouth = demoMouthPixels(fr.pose, seq.avatar.camera);
      expect(psnr(f.image, e.image), `frame ${t}`).toBeGreaterThanOrEqual(38);
      expect(psnr(f.image, e.image, mouth), `frame ${t} mouth`).toBeGreaterThanOrEqual(35);
      // the sequence must really move the mouth, or the mouth figure would prove nothing
      const m = Float32Array.from(mouth.flatMap((p) => [e.image[p * 3], e.image[p * 3 + 1], e.image[p * 3 + 2]]));
      if (prevMouth && prevMouth.length === m.length) mouthStep = Math.min(mouthStep, psnr(m, prevMouth));
      prevMouth = m;
    }
    // some frame-to-frame mouth change is larger than the error fast mode is allowed there
    expect(mouthStep).toBeLessThan(35);
    expect(macsFast / macsExact).toBeLessThan(0.8);
  }, 400_000);

  it('a sudden head turn fails the validity test and replays those rays in full', () => {
    const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera);
    const a = seq.frames[60];
    fast.render(a);
    // The head jumps 0.25 rad: the previous frame's surfaces land on the wrong pixels.
    const turned = { ...seq.frames[61], pose: frontLike(a.pose, 0.25) };
    const f = fast.render(turned);
    const e = exact.render(turned);
    expect(f.stats.guidedRays).toBeGreaterThan(0);
    expect(f.stats.replayedRays).toBeGreaterThan(0);
    expect(psnr(f.image, e.image)).toBeGreaterThanOrEqual(38);
  });
});

/** The pose rotated by `yaw` about the world y axis through the origin (the head's centre). */
function frontLike(pose: Float32Array, yaw: number): Float32Array {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  const out = Float32Array.from(pose);
  for (let col = 0; col < 4; col++) {
    const x = pose[col];
    const z = pose[8 + col];
    out[col] = c * x + s * z;
    out[8 + col] = -s * x + c * z;
  }
  return out;
}

describe('FastCpuRenderer early termination', () => {
  it("gives the weight left behind a ray that ends early to the ray's own colour, not to what lies behind", async () => {
    // The built-in's first frame at 32 px: every pixel marched, every colour evaluated, so the
    // only approximation is where rays end. Exact mode marches on to transmittance 1e-4 through
    // the samples just behind the surface; giving that weight to the torso and background
    // instead put this frame at 47.75 dB from exact at terminate 1/16 (closeOpaque off), giving
    // it to the ray's mean colour at 55.51 dB.
    const av = resizeAvatar(await loadBuiltinAvatar(), 32);
    const seq = avatarSequence(av, 1);
    const e = new CpuRenderer(seq.weights, av.camera).render(seq.frames[0]);
    const long = new FastCpuRenderer(seq.weights, av.camera, { colourWeight: 0, terminate: 1 / 256 }).render(seq.frames[0]);
    const f = new FastCpuRenderer(seq.weights, av.camera, { colourWeight: 0, terminate: 1 / 16 }).render(seq.frames[0]);
    expect(f.stats.sigmaEvals).toBeLessThan(0.95 * long.stats.sigmaEvals);
    expect(psnr(f.image, e.image)).toBeGreaterThanOrEqual(53);
    // the rays that ended early are whole: nothing of the background shows through them
    let closed = 0;
    for (const v of f.weightSum) if (v === 1) closed++;
    expect(closed).toBeGreaterThan(0);
  });
});

describe('FastCpuRenderer torso', () => {
  const avatar = tinyAvatar({ torso: true });
  const w = loadModelWeights(avatar);
  const film = () => ({ film1: new Float32Array(2 * w.config.head.hiddenDim), film2: new Float32Array(2 * w.config.head.hiddenDim) });

  it('reuses the torso while the pose is bit-identical and recomputes it when the pose moves', () => {
    // stride 1: every pixel marched, so the head (random weights, noise-like) matches exact mode
    // and what is compared is the torso.
    const fast = new FastCpuRenderer(w, avatar.camera, { stride: 1 });
    const exact = new CpuRenderer(w, avatar.camera);
    const pose = avatar.tensors.get('poses')!.data.slice(0, 16) as Float32Array;
    const f0 = fast.render({ ...film(), pose, eye: 0.25 });
    expect(f0.stats.torsoEvals).toBeGreaterThan(0);
    const f1 = fast.render({ ...film(), pose: Float32Array.from(pose), eye: 0.25 });
    expect(f1.stats.torsoEvals).toBe(0);
    const e = exact.render({ ...film(), pose, eye: 0.25 });
    for (let i = 0; i < e.image.length; i++) expect(Math.abs(f1.image[i] - e.image[i])).toBeLessThan(5e-3);
    const moved = Float32Array.from(pose);
    moved[3] += 0.01;
    const f2 = fast.render({ ...film(), pose: moved, eye: 0.25 });
    expect(f2.stats.torsoEvals).toBeGreaterThan(0);
    // Every evaluated pixel is counted at the folded nets' cost, with the frame's folded biases.
    const folded = new FoldedTorso(w, avatar.camera.width, avatar.camera.height);
    expect(f2.stats.torsoMacs).toBe(f2.stats.torsoEvals * folded.pixelMacs + folded.frameMacs);
    expect(f2.stats.torsoMacs).toBeLessThan(f2.stats.torsoEvals * torsoPixelMacs(w));
    expect(f2.stats.macs).toBeGreaterThanOrEqual(f2.stats.torsoMacs);
    // The first frame also paid for the row and column tables.
    expect(f0.stats.torsoMacs).toBe(f0.stats.torsoEvals * folded.pixelMacs + folded.frameMacs + folded.setupMacs);
  });
});

describe('FastCpuRenderer inputs', () => {
  const avatar = tinyAvatar({ torso: false });
  const w = loadModelWeights(avatar);
  it('names the option that is out of range', () => {
    expect(() => new FastCpuRenderer(w, avatar.camera, { stride: 3 })).toThrow(/stride: expected a power of two/);
    expect(() => new FastCpuRenderer(w, avatar.camera, { stride: 'auto' })).not.toThrow();
    expect(() => new FastCpuRenderer(w, avatar.camera, { colourTolerance: -1 })).toThrow(/colourTolerance/);
    expect(() => new FastCpuRenderer(w, avatar.camera, { marginSteps: Number.NaN })).toThrow(/marginSteps/);
    expect(() => new FastCpuRenderer(w, avatar.camera, { filmTolerance: Infinity })).toThrow(/filmTolerance/);
    expect(() => new FastCpuRenderer(w, avatar.camera, { curvatureTolerance: 2 })).toThrow(/curvatureTolerance/);
  });
  it('rejects a frame with a non-finite pose', () => {
    const fast = new FastCpuRenderer(w, avatar.camera);
    const pose = frontPose();
    pose[3] = Number.NaN;
    const n = 2 * w.config.head.hiddenDim;
    expect(() => fast.render({ film1: new Float32Array(n), film2: new Float32Array(n), pose, eye: 0.25 })).toThrow(/frame.pose\[3\]/);
  });
});
