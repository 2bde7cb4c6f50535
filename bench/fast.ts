/**
 * npm run bench (fast mode part): exact vs fast mode on the CPU reference over a talking sequence
 * with head motion, frame by frame in one run, for these avatars:
 * - builtin: the shipped trained avatar (assets/avatars/builtin.r2t: tiny preset, head, lips and torso);
 * - bench: the trained bench avatar (assets/bench/official-t13.r2t, scripts/make-bench-avatar.sh):
 *   the official networks (the official multiply-adds per sample; its per-pixel torso costs more
 *   than its head) with 2^13-row tables, trained for a short schedule on the built-in's person;
 * - random (not in the default list): the official-config avatar bench/run.ts measures, with
 *   seeded random weights. Its fields are noise (neighbouring pixels and consecutive frames do
 *   not agree), so it shows what fast mode costs when nothing can be reused, not what a user's
 *   avatar costs;
 * - demo: the procedural demo head (semi-transparent: every ray spends all its samples).
 * Per avatar: multiply-adds per frame (head, torso and conditioning nets) and their ratio, PSNR
 * against exact (whole image, every compared frame; mouth region), and the wall-time ratio.
 * The trained and bench avatars talk with speechOpening() (phrases and pauses: speech onsets)
 * while the camera sways and makes a fast head turn every 3.2 s (headMotion()); the demo head
 * plays its own talking track and pose sweep.
 * R2T_FAST_SIZE (default 128) image side, or a comma-separated list of sides; R2T_FAST_SECONDS (default 10) of 25 fps video;
 * R2T_FAST_EVERY (default 5) compares every k-th frame with exact (fast mode renders every frame:
 * it carries state from frame to frame); R2T_FAST_AVATARS (default builtin,bench,demo; random too);
 * R2T_FAST_OPTIONS: JSON of FastModeOptions to try instead of the defaults. R2T_FAST_KERNEL=simd
 * runs the head layers and grid encoding in WebAssembly (simd-mlp.ts: bit-identical pixels, the
 * same multiply-adds; the wall times are then those of the extension's CPU kernel; default ts).
 * Per avatar and size, fast mode's head multiply-adds by stage (density half on guided rays, on
 * rays without a reprojected start, on replayed rays; colour half), the torso's and the
 * conditioning's.
 * Then, per avatar, the CPU fallback as the extension schedules it at R2T_FAST_PARTIAL_SIZE
 * (default 64, the fallback's render side; a comma-separated list, e.g. 64,32; 0 skips): the pose
 * held for CPU_POSE_HOLD renders, full fast frames at each pose step and partial frames
 * (speech-region.ts) between, against exact mode on the same frames: the blended figure.
 * The WebGPU fast mode's figures come from bench/fast-gpu.ts (also in npm run bench).
 */
import { loadBuiltinAvatar } from '../worker/avatar/builtin.node.ts';
import { CpuRenderer } from '../worker/model/cpu-renderer.ts';
import { FastCpuRenderer, type FastModeOptions } from '../worker/model/fast-renderer.ts';
import { torsoPixels } from '../worker/model/torso.ts';
import { officialAvatar } from '../tests/helpers/webgpu-avatar.ts';
import { loadBenchAvatar } from '../tests/helpers/bench-avatar.ts';
import { avatarSequence, demoMouthPixels, mouthPixelsOf, psnr, resizeAvatar, sequenceMouthPoints, talkingSequence, type TalkingSequence } from '../tests/helpers/fast-sequence.ts';
import { frameMacs } from './measure.ts';
import { headHalfMacs } from '../worker/model/fast-field.ts';
import { lipFilms } from '../worker/model/speech-region.ts';
import { CPU_POSE_HOLD } from '../worker/engine/avatar-renderer.ts';
import { enableSimd } from '../worker/model/simd-mlp.ts';

const sizes = (process.env.R2T_FAST_SIZE ?? '128').split(',').map((v) => Number(v.trim()));
const seconds = Number(process.env.R2T_FAST_SECONDS ?? 10);
const every = Math.max(1, Math.floor(Number(process.env.R2T_FAST_EVERY ?? 5)));
const names = (process.env.R2T_FAST_AVATARS ?? 'builtin,bench,demo').split(',').map((s) => s.trim());
if (!sizes.every((v) => Number.isInteger(v) && v >= 16 && v <= 1024) || !(seconds > 0 && seconds <= 60)) {
  console.error(`bench/fast.ts: R2T_FAST_SIZE must be a comma-separated list of integers 16..1024 and R2T_FAST_SECONDS in (0, 60], got ${process.env.R2T_FAST_SIZE} and ${seconds}`);
  process.exit(2);
}
for (const nm of names) {
  if (!['builtin', 'bench', 'random', 'demo'].includes(nm)) {
    console.error(`bench/fast.ts: R2T_FAST_AVATARS: expected a comma-separated list of builtin, bench, random, demo, got ${JSON.stringify(nm)}`);
    process.exit(2);
  }
}
const kernel = process.env.R2T_FAST_KERNEL ?? 'ts';
if (kernel !== 'ts' && kernel !== 'simd') {
  console.error(`bench/fast.ts: R2T_FAST_KERNEL must be ts or simd, got ${JSON.stringify(kernel)}`);
  process.exit(2);
}
const n = Math.max(2, Math.round(seconds * 25));
const fastOptions = JSON.parse(process.env.R2T_FAST_OPTIONS ?? '{}') as Partial<FastModeOptions>;

/** The kernel R2T_FAST_KERNEL asks for, before any renderer makes its scratch. */
function withKernel(seq: TalkingSequence): TalkingSequence {
  if (kernel === 'simd' && !enableSimd(seq.weights)) throw new Error('bench/fast.ts: R2T_FAST_KERNEL=simd, but WebAssembly SIMD is not available in this runtime');
  return seq;
}

async function sequenceFor(name: string, side: number): Promise<{ seq: TalkingSequence; mouth: (pose: Float32Array) => number[]; label: string }> {
  if (name === 'demo') {
    const seq = withKernel(talkingSequence(side, n));
    return { seq, mouth: (pose) => demoMouthPixels(pose, seq.avatar.camera), label: 'demo head (procedural, semi-transparent)' };
  }
  const av = name === 'builtin' ? resizeAvatar(await loadBuiltinAvatar(), side) : name === 'bench' ? resizeAvatar(await loadBenchAvatar(), side) : officialAvatar({ size: side });
  const seq = withKernel(avatarSequence(av, n));
  // The mouth: where an open and a closed mouth differ at the first pose, as surface points.
  const pts = sequenceMouthPoints(seq);
  const label =
    name === 'builtin'
      ? 'builtin.r2t (trained, tiny preset)'
      : name === 'bench'
        ? 'bench avatar official-t13.r2t (trained; official networks, 2^13 tables)'
        : 'random official avatar (official config, seeded random weights: noise)';
  return { seq, mouth: (p) => mouthPixelsOf(pts, p, av.camera), label };
}

for (const size of sizes) for (const name of names) {
  const { seq, mouth, label } = await sequenceFor(name, size);
  const exact = new CpuRenderer(seq.weights, seq.avatar.camera);
  const fast = new FastCpuRenderer(seq.weights, seq.avatar.camera, fastOptions);
  const t = seq.weights.torso;
  const torsoList = t ? torsoPixels(t.densityGrid, seq.weights.config.torso!.densityResolution, size, size, t.densityThreshold).length : 0;
  console.log(`\nfast mode vs exact, CPU reference (${kernel === 'simd' ? 'head in WebAssembly SIMD' : 'TS'}): ${label} ${size}x${size}, ${n} frames (${seconds} s at 25 fps) with speech and head motion, exact compared every ${every} frame(s)`);
  let macsExact = 0;
  let macsFast = 0;
  let headExact = 0;
  let headFast = 0;
  let torsoExact = 0;
  let torsoFast = 0;
  let cond = 0;
  let msExact = 0;
  let msFast = 0;
  let compared = 0;
  let minPsnr = Infinity;
  let minMouth = Infinity;
  let worstMouthFrame = -1;
  let sumMse = 0;
  let marched = 0;
  // fast mode's head multiply-adds by stage: density half on guided rays, on rays without a
  // reprojected start (misses: disocclusions, background, the first frame), on replayed rays; colour half.
  const half = headHalfMacs(seq.weights.config);
  const stage = { guided: 0, unguided: 0, replayed: 0, colour: 0 };
  for (let i = 0; i < n; i++) {
    const fr = seq.frames[i];
    let t0 = performance.now();
    const f = fast.render(fr);
    const fMs = performance.now() - t0;
    if (i % every !== 0) continue;
    t0 = performance.now();
    const e = exact.render(fr);
    const eMs = performance.now() - t0;
    let samples = 0;
    for (const v of e.samplesPerRay) samples += v;
    const m = frameMacs(seq.weights.config, samples, torsoList);
    // Frame 0 has no previous frame: fast mode marches it in full, as every cut does.
    macsExact += m.total;
    macsFast += f.stats.macs + m.cond;
    headExact += m.head;
    headFast += f.stats.macs - f.stats.torsoMacs;
    torsoExact += m.torso;
    torsoFast += f.stats.torsoMacs;
    cond += m.cond;
    msExact += eMs;
    msFast += fMs;
    marched += f.stats.marchedRays;
    stage.guided += f.stats.sigmaEvalsBy.guided * half.sigma;
    stage.unguided += f.stats.sigmaEvalsBy.unguided * half.sigma;
    stage.replayed += f.stats.sigmaEvalsBy.replayed * half.sigma;
    stage.colour += f.stats.colourEvals * half.colour;
    const p = psnr(f.image, e.image);
    sumMse += 10 ** (-p / 10);
    minPsnr = Math.min(minPsnr, p);
    const pm = psnr(f.image, e.image, mouth(fr.pose));
    if (pm < minMouth) {
      minMouth = pm;
      worstMouthFrame = i;
    }
    compared++;
  }
  const meanPsnr = -10 * Math.log10(sumMse / compared);
  const M = (v: number) => `${(v / compared / 1e6).toFixed(1)} M`;
  console.log(`multiply-adds per frame: exact ${M(macsExact)}, fast ${M(macsFast)} -> ratio fast/exact ${(macsFast / macsExact).toFixed(3)} (target <= 0.333); head nets ${M(headExact)} -> ${M(headFast)}, torso nets ${M(torsoExact)} -> ${M(torsoFast)}, conditioning ${M(cond)} in both`);
  console.log(`PSNR fast vs exact: sequence ${meanPsnr.toFixed(2)} dB, worst frame ${minPsnr.toFixed(2)} dB (target >= 38); mouth region worst frame ${minMouth.toFixed(2)} dB at frame ${worstMouthFrame} (target >= 35)`);
  console.log(`fast mode per stage, per frame (share of exact's total): head density on guided rays ${M(stage.guided)} (${(stage.guided / macsExact).toFixed(3)}), on rays without a reprojected start ${M(stage.unguided)} (${(stage.unguided / macsExact).toFixed(3)}), on replayed rays ${M(stage.replayed)} (${(stage.replayed / macsExact).toFixed(3)}); head colour ${M(stage.colour)} (${(stage.colour / macsExact).toFixed(3)}); torso ${M(torsoFast)} (${(torsoFast / macsExact).toFixed(3)}); conditioning ${M(cond)} (${(cond / macsExact).toFixed(3)})`);
  console.log(`rays marched by fast mode: ${((100 * marched) / compared / (size * size)).toFixed(1)}% of pixels (the rest interpolated from agreeing, quiet neighbours)`);
  console.log(`CPU wall time per frame: exact ${(msExact / compared).toFixed(0)} ms, fast ${(msFast / compared).toFixed(0)} ms -> ratio fast/exact ${(msFast / msExact).toFixed(3)} (${(1000 / (msFast / compared)).toFixed(2)} frames/s fast on one JS thread)`);
}

const fallbackSizes = (process.env.R2T_FAST_PARTIAL_SIZE ?? '64').split(',').map((v) => Number(v.trim()));
if (!fallbackSizes.every((v) => Number.isInteger(v) && (v === 0 || (v >= 16 && v <= 1024)))) {
  console.error(`bench/fast.ts: R2T_FAST_PARTIAL_SIZE must be 0 or a comma-separated list of integers 16..1024, got ${process.env.R2T_FAST_PARTIAL_SIZE}`);
  process.exit(2);
}
// The CPU fallback as the extension schedules it (worker/engine/avatar-renderer.ts): in fast mode
// the pose (and eye) advance every CPU_POSE_HOLD renders; a render at a new pose is a full fast
// frame, the others re-render only the speech region (partial frames). Every frame's multiply-adds
// against exact mode rendering the same frame: the blended figure the extension's fallback spends.
for (const side of fallbackSizes.filter((v) => v > 0)) {
  for (const name of names) {
    const { seq, mouth, label } = await sequenceFor(name, side);
    const cam = seq.avatar.camera;
    const frames = seq.frames.map((f, i) => {
      const held = seq.frames[i - (i % CPU_POSE_HOLD)];
      return { ...f, pose: held.pose, eye: held.eye };
    });
    const exact = new CpuRenderer(seq.weights, cam);
    const fast = new FastCpuRenderer(seq.weights, cam, fastOptions);
    // Only the lip rows of the statistics matter (lipFilms opens them by +-1.5 of their own std).
    const numbers = seq.weights.config.condition.numLandmarks * 3;
    const stats = seq.avatar.landmarkStats ?? { mean: new Float32Array(numbers), std: new Float32Array(numbers).fill(1) };
    const { closed, open } = lipFilms(seq.weights, stats);
    let regionNote = '';
    try {
      fast.setSpeechRegion(fast.findSpeechRegion(closed, open, frames[0].pose, frames[0].eye));
    } catch (e) {
      // The random avatar's weights: its lips move no pixel, so the fallback renders it in full (as the engine does).
      if (!(e instanceof RangeError)) throw e;
      regionNote = `; no speech region (${e.message}): every frame full`;
    }
    const torsoW = seq.weights.torso;
    const torsoCount = torsoW ? torsoPixels(torsoW.densityGrid, seq.weights.config.torso!.densityResolution, cam.width, cam.height, torsoW.densityThreshold).length : 0;
    const sums = { full: { fast: 0, exact: 0, n: 0 }, partial: { fast: 0, exact: 0, n: 0 } };
    let sumMse = 0;
    let minPsnr = Infinity;
    let minMouth = Infinity;
    let compared = 0;
    let msFast = 0;
    let msExact = 0;
    for (let i = 0; i < n; i++) {
      let t0 = performance.now();
      const f = fast.render(frames[i]);
      const fMs = performance.now() - t0;
      if (i % every !== 0) continue;
      t0 = performance.now();
      const e = exact.render(frames[i]);
      msExact += performance.now() - t0;
      msFast += fMs;
      let samples = 0;
      for (const v of e.samplesPerRay) samples += v;
      const m = frameMacs(seq.weights.config, samples, torsoCount);
      const k = f.stats.partial ? sums.partial : sums.full;
      k.fast += f.stats.macs + m.cond;
      k.exact += m.total;
      k.n++;
      const q = psnr(f.image, e.image);
      sumMse += q === Infinity ? 0 : 10 ** (-q / 10);
      minPsnr = Math.min(minPsnr, q);
      minMouth = Math.min(minMouth, psnr(f.image, e.image, mouth(frames[i].pose)));
      compared++;
    }
    const r = (a: { fast: number; exact: number }) => (a.exact > 0 ? (a.fast / a.exact).toFixed(3) : '-');
    const all = { fast: sums.full.fast + sums.partial.fast, exact: sums.full.exact + sums.partial.exact };
    console.log(`\nCPU fallback as the extension schedules it (pose held ${CPU_POSE_HOLD} renders, partial frames between): ${label} ${side}x${side}, ${n} frames, exact compared every ${every} frame(s) (${sums.full.n} full, ${sums.partial.n} partial)${regionNote}`);
    console.log(`multiply-adds fast/exact, blended over the compared frames: ${r(all)} (target <= 0.333): full frames ${r(sums.full)}, partial frames ${r(sums.partial)}; conditioning nets included`);
    console.log(`PSNR fast vs exact: sequence ${(-10 * Math.log10(sumMse / compared)).toFixed(2)} dB, worst frame ${minPsnr.toFixed(2)} dB (target >= 38); mouth region worst frame ${minMouth.toFixed(2)} dB (target >= 35)`);
    console.log(`CPU wall time per compared frame: exact ${(msExact / compared).toFixed(1)} ms, fast ${(msFast / compared).toFixed(1)} ms -> ratio fast/exact ${(msFast / msExact).toFixed(3)}`);
  }
}
