/**
 * Where a trained avatar's mouth opening gets lost: the "mouth drop" (mean luma of the outer-lips
 * box with the mouth closed minus open, in 0..255 levels; positive = darker when open, as a real
 * mouth) measured three ways at the extension's 64x64 CPU size:
 *   truth    the subject's own frames (most closed vs most open training frames, by the inner-lip gap);
 *   model    the avatar rendered with those same frames' landmark conditions and poses;
 *   speech   the avatar rendered with the default generator's most closed and most open frames
 *            for the demo sentence (what the extension and demo feed it), first training pose.
 * truth >> model: the trainer does not learn the landmarks' effect; model >> speech: the
 * generator's landmarks do not reach the training range; truth small: the subject itself.
 *   npx tsx bench/builtin-mouth.ts <avatar.r2t> <subject dir> [--strip out.png] [--side 64]
 *   npx tsx bench/builtin-mouth.ts - <subject dir> --truth-only
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readAvatar } from '../worker/avatar/reader.ts';
import { downscaleAvatar } from '../worker/engine/cpu-reference-renderer.ts';
import { computeFilm, LandmarkConditioner } from '../worker/model/conditioning.ts';
import { CpuRenderer } from '../worker/model/cpu-renderer.ts';
import { normaliseClamp } from '../worker/model/landmarks.ts';
import { DEFAULT_EYE } from '../worker/model/poses.ts';
import { loadModelWeights } from '../worker/model/weights.ts';
import { folderFiles } from '../worker/subject/files.node.ts';
import { nodeImageCodec } from '../worker/subject/images.node.ts';
import { openSubject } from '../worker/subject/reader.ts';
import { TrainingData } from '../trainer/nerf/data.ts';
import { lipsBox, speechExtremes } from '../tests/helpers/builtin-mouth.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { strip: { type: 'string' }, side: { type: 'string', default: '64' }, 'truth-only': { type: 'boolean', default: false } } });
const [avatarPath, subjectDir] = positionals;
if (!avatarPath || !subjectDir) {
  console.error('usage: npx tsx bench/builtin-mouth.ts <avatar.r2t> <subject dir> [--strip out.png] [--side 64]');
  process.exit(2);
}
const side = Number(values.side);
const subject = await openSubject(folderFiles(subjectDir), nodeImageCodec, { splits: ['train'] });
const data = await TrainingData.open(subject);
if (values['truth-only']) {
  const frames = data.splitData('train').split.frames;
  const gap = (i: number) => frames[i].lms[66 * 2 + 1] - frames[i].lms[62 * 2 + 1];
  const order = frames.map((_, i) => i).sort((a, b) => gap(a) - gap(b));
  const s = data.width / Number(values.side);
  let truth = 0;
  for (let k = 0; k < 6; k++) {
    const [c, o] = [order[k], order[order.length - 1 - k]];
    const box = unionBox(lmsBox(frames[c].lms, s), lmsBox(frames[o].lms, s));
    truth += (boxLuma((await data.images('train', c)).image, data.width, box) - boxLuma((await data.images('train', o)).image, data.width, box)) / 6;
  }
  console.log(`mouth drop of the subject (levels, closed - open, ${values.side}px): ${truth.toFixed(1)}; widest gap ${gap(order[order.length - 1]).toFixed(1)} px`);
  process.exit(0);
}
const avatar = await readAvatar(new Uint8Array(readFileSync(avatarPath)));
const small = downscaleAvatar(avatar, avatar.camera.width / side);
const weights = loadModelWeights(small);
const renderer = new CpuRenderer(weights, small.camera);
const stats = avatar.landmarkStats!;
const N = stats.mean.length;
const W = weights.config.condition.window;

function luma(img: Float32Array, p: number): number {
  return 255 * (0.299 * img[p * 3] + 0.587 * img[p * 3 + 1] + 0.114 * img[p * 3 + 2]);
}
/** Mean luma of a full-size image area-averaged to `side`, inside a box of the small image. */
function boxLuma(img: Float32Array, imgSide: number, box: { x0: number; y0: number; x1: number; y1: number }): number {
  const k = imgSide / side;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (x + 0.5 < box.x0 || x + 0.5 > box.x1 || y + 0.5 < box.y0 || y + 0.5 > box.y1) continue;
      for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) sum += luma(img, (y * k + dy) * imgSide + x * k + dx);
      n += k * k;
    }
  }
  return sum / n;
}
function lmsBox(lms: Float32Array, s: number) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 48; i < 60; i++) {
    [x0, x1] = [Math.min(x0, lms[i * 2] / s), Math.max(x1, lms[i * 2] / s)];
    [y0, y1] = [Math.min(y0, lms[i * 2 + 1] / s), Math.max(y1, lms[i * 2 + 1] / s)];
  }
  const [px, py] = [(x1 - x0) * 0.25, (y1 - y0) * 0.25];
  return { x0: x0 - px, y0: y0 - py, x1: x1 + px, y1: y1 + py };
}
function unionBox(a: Box, b: Box): Box {
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}
type Box = { x0: number; y0: number; x1: number; y1: number };
function renderWindow(points: Float32Array, pose: Float32Array, eye: number): Float32Array {
  const c = new LandmarkConditioner(weights, stats);
  const { film1, film2 } = computeFilm(weights, c.code(points));
  return renderer.render({ film1, film2, pose, eye }).image;
}
function steady(frame: Float32Array): Float32Array {
  const norm = new Float32Array(N);
  normaliseClamp(frame, stats, norm);
  const points = new Float32Array(W * N);
  for (let j = 0; j < W; j++) points.set(norm, j * N);
  return points;
}

// Ground truth vs model on the subject's own training frames.
const split = data.splitData('train');
const frames = split.split.frames;
const gap = (i: number) => frames[i].lms[66 * 2 + 1] - frames[i].lms[62 * 2 + 1];
const order = frames.map((_, i) => i).sort((a, b) => gap(a) - gap(b));
const K = 6;
const closedIdx = order.slice(0, K);
const openIdx = order.slice(-K);
let truth = 0;
let model = 0;
const strip: Float32Array[] = [];
const s = avatar.camera.width / side;
for (let k = 0; k < K; k++) {
  const [c, o] = [closedIdx[k], openIdx[K - 1 - k]];
  const box = unionBox(lmsBox(frames[c].lms, s), lmsBox(frames[o].lms, s));
  const [gc, go] = [(await data.images('train', c)).image, (await data.images('train', o)).image];
  truth += (boxLuma(gc, avatar.camera.width, box) - boxLuma(go, avatar.camera.width, box)) / K;
  const rc = renderWindow(data.points('train', c, W), frames[c].pose, split.eye[c]);
  const ro = renderWindow(data.points('train', o, W), frames[o].pose, split.eye[o]);
  model += (boxLuma(rc, side, box) - boxLuma(ro, side, box)) / K;
  if (k === 0) strip.push(rc, ro);
}
const { closed, open } = speechExtremes(stats);
const pose = (small.tensors.get('poses')!.data as Float32Array).slice(0, 16);
const box = lipsBox([closed, open], pose, small.camera);
const a = renderWindow(steady(closed), pose, DEFAULT_EYE);
const b = renderWindow(steady(open), pose, DEFAULT_EYE);
const speech = boxLuma(a, side, box) - boxLuma(b, side, box);
strip.push(a, b);
// How far the generator's open frame reaches, in units of the training track's own spread of the inner-lip gap.
const lipGap = (f: Float32Array) => f[62 * 3 + 1] - f[66 * 3 + 1];
const trainGaps = frames.map((f) => f.condition[62 * 3 + 1] - f.condition[66 * 3 + 1]);
const [gmin, gmax] = [Math.min(...trainGaps), Math.max(...trainGaps)];
console.log(`mouth drop (levels, closed - open, ${side}px): truth ${truth.toFixed(1)}, model on training conditions ${model.toFixed(1)}, speech (generator) ${speech.toFixed(1)}`);
console.log(`inner-lip gap in condition units: training ${gmin.toFixed(3)}..${gmax.toFixed(3)}; generator closed ${lipGap(closed).toFixed(3)}, open ${lipGap(open).toFixed(3)}`);
if (values.strip) {
  // Model closed, model open (training conditions), generator closed, generator open; PNG, 3x upscaled.
  const up = 3;
  const out = new Uint8Array(side * up * side * up * strip.length * 3);
  const stride = side * up * strip.length;
  strip.forEach((img, k) => {
    for (let y = 0; y < side * up; y++) for (let x = 0; x < side * up; x++) for (let c = 0; c < 3; c++) out[(y * stride + k * side * up + x) * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, img[(Math.floor(y / up) * side + Math.floor(x / up)) * 3 + c])));
  });
  writeFileSync(values.strip, nodeImageCodec.encodePng({ width: stride, height: side * up, channels: 3, data: out }));
}
