/**
 * npm run bench (CPU fallback, render threads; issue 14 "a worker per core"): wall time of a
 * fast-mode frame of the built-in avatar on one thread against the render pool
 * (worker/engine/render-pool.ts: column bands in node:worker_threads, the first band on the calling
 * thread), over the engine's CPU schedule (pose held CPU_POSE_HOLD renders, partial frames
 * between, speech throughout), with the head nets in WebAssembly SIMD as the extension runs them.
 * The box may be shared: the two variants alternate in blocks over the same frames, and each
 * row gives the median block's ms a frame and the ratio pool/one thread of the block pairs.
 * Also checks the pool's frames against the one thread's (values differing, worst PSNR), and
 * gives the split's critical path: the same bands rendered one after another on this thread,
 * each timed (max band / one thread: the wall-time ratio an idle box with a core per band would
 * approach, less the messages), so a loaded box's contention can be told from the split's cost.
 * And first the box's own parallel capacity: a fixed arithmetic loop on one thread, then on as
 * many threads as the pool at once (alternated, median of 5): how many threads' worth of work the
 * cores deliver together (a virtual machine's cores can share physical cores, or be busy).
 *   R2T_POOL_SIZES (default 64,192)  R2T_POOL_THREADS (default: cores, at most 4, at least 2)
 *   R2T_POOL_BLOCKS (default 4 per variant)  R2T_POOL_BLOCK (default 16 frames)
 */
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { loadBuiltinAvatar } from '../worker/avatar/builtin.node.ts';
import { CPU_POSE_HOLD } from '../worker/engine/avatar-renderer.ts';
import { nodePoolHost } from '../worker/engine/render-pool.node.ts';
import { BandRenderer, haloColumns, planBands, RenderPool } from '../worker/engine/render-pool.ts';
import { strideAt } from '../worker/model/fast-renderer.ts';
import { FastCpuRenderer } from '../worker/model/fast-renderer.ts';
import { enableSimd } from '../worker/model/simd-mlp.ts';
import { lipFilms } from '../worker/model/speech-region.ts';
import { avatarSequence, psnr, resizeAvatar } from '../tests/helpers/fast-sequence.ts';

const int = (name: string, def: number, lo: number, hi: number): number => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < lo || v > hi) {
    console.error(`bench/cpu-pool.ts: ${name} must be an integer in [${lo}, ${hi}], got ${process.env[name]}`);
    process.exit(2);
  }
  return v;
};
const sizes = (process.env.R2T_POOL_SIZES ?? '64,192').split(',').map(Number);
if (!sizes.every((s) => Number.isInteger(s) && s >= 16 && s <= 512)) {
  console.error(`bench/cpu-pool.ts: R2T_POOL_SIZES must be integers in [16, 512], got ${process.env.R2T_POOL_SIZES}`);
  process.exit(2);
}
const threads = int('R2T_POOL_THREADS', Math.max(2, Math.min(4, availableParallelism())), 2, 8);
const blocks = int('R2T_POOL_BLOCKS', 4, 1, 100);
const block = int('R2T_POOL_BLOCK', 16, 2, 1000);
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** A fixed arithmetic loop (no allocation, no messages), ms. */
const LOOP = `const a = new Float64Array(1 << 16); let s = 0; const t0 = performance.now();
for (let r = 0; r < 1500; r++) for (let i = 0; i < a.length; i++) { a[i] = a[i] * 0.999 + i * 1e-6; s += a[i]; }
const ms = performance.now() - t0; if (s === 42) console.log(s);`;
/** n threads run the loop at once, started together once all are up: wall ms until the last is done. */
async function loopOn(n: number): Promise<number> {
  const workers = Array.from({ length: n }, () => new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => { ${LOOP} parentPort.postMessage(ms); });`, { eval: true }));
  try {
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => (w.once('online', resolve), w.once('error', reject)))));
    const t0 = performance.now();
    await Promise.all(workers.map((w) => new Promise((resolve) => (w.once('message', resolve), w.postMessage('go')))));
    return performance.now() - t0;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
{
  const capacity: number[] = [];
  for (let k = 0; k < 5; k++) {
    const alone = await loopOn(1);
    const together = await loopOn(threads);
    capacity.push((threads * alone) / together);
  }
  console.log(
    `\nThis box's parallel capacity: ${threads} threads running a fixed loop at once deliver ${median(capacity).toFixed(2)} times one thread's throughput (ideal ${threads}; runs ${capacity.map((c) => c.toFixed(2)).join(' ')}; load ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')})`,
  );
}

const builtin = await loadBuiltinAvatar();
console.log(
  `\nCPU fallback, fast mode, built-in avatar: one thread against ${threads} render threads (column bands; ${availableParallelism()} cores here, load ${loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')}); engine schedule (pose held ${CPU_POSE_HOLD} renders), ${blocks} alternating blocks of ${block} frames per variant:`,
);
for (const side of sizes) {
  const av = resizeAvatar(builtin, side);
  const seq = avatarSequence(av, blocks * block + 1);
  const frames = seq.frames.map((f, i) => {
    const held = seq.frames[i - (i % CPU_POSE_HOLD)];
    return { ...f, pose: held.pose, eye: held.eye };
  });
  const simd = enableSimd(seq.weights) !== null;
  const one = new FastCpuRenderer(seq.weights, av.camera);
  const { closed, open } = lipFilms(seq.weights, av.landmarkStats!);
  const region = one.findSpeechRegion(closed, open, frames[0].pose, frames[0].eye);
  one.setSpeechRegion(region);
  const pool = await RenderPool.create(av, threads, nodePoolHost(), { simd, region });
  // The same bands, rendered one after another here (the split's critical path).
  const plan = planBands(side, threads, haloColumns(strideAt({ stride: 'auto' }, side, side)));
  const bands = plan.map((b) => new BandRenderer(av, b, side, simd, region));
  const split = new FastCpuRenderer(seq.weights, av.camera);
  split.setSpeechRegion(region);
  const oneMs: number[] = [];
  const poolMs: number[] = [];
  const pathMs: number[] = [];
  const soloMs: number[] = [];
  // Per frame kind (full, partial): one thread's and each band's summed ms and multiply-adds.
  const kinds = { full: { n: 0, ms: 0, macs: 0, bandMs: bands.map(() => 0), bandMacs: bands.map(() => 0) }, partial: { n: 0, ms: 0, macs: 0, bandMs: bands.map(() => 0), bandMacs: bands.map(() => 0) } };
  let differing = 0;
  let worst = Infinity;
  const check = (a: Float32Array, b: Float32Array): void => {
    if (!a.every((v, i) => v === b[i])) differing++;
    worst = Math.min(worst, psnr(b, a));
  };
  try {
    // frame 0 (a full march from nothing) is not timed
    const a0 = one.render(frames[0]);
    check(a0.image, (await pool.render(frames[0])).image);
    split.render(frames[0]);
    let surface: Float32Array | null = null;
    const bandFrame = (t: number, reset: boolean) => ({ ...frames[t], reset, surface });
    for (const b of bands) b.render(bandFrame(0, true));
    for (let k = 0; k < blocks; k++) {
      const from = 1 + k * block;
      const mine: Float32Array[] = [];
      let t0 = performance.now();
      for (let t = from; t < from + block; t++) mine.push(one.render(frames[t]).image);
      oneMs.push((performance.now() - t0) / block);
      t0 = performance.now();
      for (let t = from; t < from + block; t++) check(mine[t - from], (await pool.render(frames[t])).image);
      poolMs.push((performance.now() - t0) / block);
      // critical path: each band timed alone, against one thread timed beside them
      let path = 0;
      let solo = 0;
      for (let t = from; t < from + block; t++) {
        const s0 = performance.now();
        const full = split.render(frames[t]);
        const soloT = performance.now() - s0;
        solo += soloT;
        const kind = full.stats.partial ? kinds.partial : kinds.full;
        kind.n++;
        kind.ms += soloT;
        kind.macs += full.stats.macs;
        let slowest = 0;
        bands.forEach((b, i) => {
          const b0 = performance.now();
          const out = b.render(bandFrame(t, false));
          const bt = performance.now() - b0;
          slowest = Math.max(slowest, bt);
          kind.bandMs[i] += bt;
          kind.bandMacs[i] += out.stats.macs;
        });
        path += slowest;
        surface = new Float32Array(full.hitT.length * 3);
        for (let i = 0; i < full.hitT.length; i++) for (let c = 0; c < 3; c++) surface[i * 3 + c] = Number.isNaN(full.hitT[i]) ? NaN : full.origins[i * 3 + c] + full.hitT[i] * full.directions[i * 3 + c];
      }
      pathMs.push(path / block);
      soloMs.push(solo / block);
    }
  } finally {
    pool.destroy();
  }
  const ratios = poolMs.map((p, k) => p / oneMs[k]);
  const paths = pathMs.map((p, k) => p / soloMs[k]);
  console.log(
    `  ${side}x${side}: one thread ${median(oneMs).toFixed(1)} ms a frame, ${pool.bandCount} threads ${median(poolMs).toFixed(1)} ms -> wall pool/one ${median(ratios).toFixed(3)} ` +
      `(block ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}); critical path (slowest band alone) / one thread ${median(paths).toFixed(3)} (${paths.map((r) => r.toFixed(2)).join(' ')}); ` +
      `${simd ? 'WebAssembly SIMD' : 'TS'}; frames differing from one thread: ${differing} of ${blocks * block + 1}, worst ${worst === Infinity ? 'identical' : `${worst.toFixed(1)} dB`}`,
  );
  for (const [name, k] of Object.entries(kinds)) {
    if (k.n === 0) continue;
    console.log(
      `    ${name} frames (${k.n}), each alone on this thread: one thread ${(k.ms / k.n).toFixed(1)} ms, ${(k.macs / k.n / 1e6).toFixed(2)} M multiply-adds; bands ${k.bandMs.map((v) => (v / k.n).toFixed(1)).join(' / ')} ms, ` +
        `${k.bandMacs.map((v) => (v / k.n / 1e6).toFixed(2)).join(' / ')} M (bands' sum / one thread ${(k.bandMacs.reduce((a, b) => a + b, 0) / k.macs).toFixed(3)})`,
    );
  }
}
process.exit(0);
