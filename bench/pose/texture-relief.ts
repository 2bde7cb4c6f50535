/**
 * How deep is the surface the photometric refinement textures, relative to the canonical face
 * (docs/prepare.md "The camera's depth", issue 10)? relief-lab.ts measures the synthetic head's
 * relief on its rigid landmarks (eye corners, nose: 0.534 / 0.566 on seeds 1 / 2). The photometric
 * fit instead lifts the reference frame's pixels onto the template at every rigid vertex
 * (photometric.ts rigidVertices: forehead, nose, cheeks above the subnasale). Here each such
 * vertex is put where the tracked mesh sees it on the truth's frame, and the truth's own ray is
 * cast onto the truth's head (worker/synth/face.ts faceSurfaceZ); the relief fit (relief-fit.ts:
 * similarity plus a z stretch of the canonical face) of those surface points is the depth the
 * texture really has. Printed for the rigid landmarks (to check against relief-lab), for every
 * rigid vertex, and by distance from the face's midline.
 * Run: npx tsx bench/pose/texture-relief.ts <synth subject dir> <mesh cache> [frame ids, default the middle one]
 */
import { readFileSync } from 'node:fs';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { IBUG68_FROM_MESH } from '../../worker/face/ibug68.ts';
import { rigidVertices } from '../../worker/face/photometric.ts';
import { faceSurfaceZ, makeIdentity } from '../../worker/synth/face.ts';
import { reliefFit } from './relief-fit.ts';
import { trackedMeshes } from './mesh-cache.ts';

const [truthDir, cache, idsArg] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(`${truthDir}/ground_truth/meta.json`, 'utf8')) as { seed: number; frames: number; focal: number; cx: number; cy: number; motion: { open: number }[] };
const T = ['train', 'val'].flatMap((s) => (JSON.parse(readFileSync(`${truthDir}/transforms_${s}.json`, 'utf8')) as { frames: { transform_matrix: number[][] }[] }).frames.map((f) => f.transform_matrix));
const N = T.length;
const models = await loadFaceModels(nodeFaceModelSource);
const { meshes } = trackedMeshes(truthDir, cache, N, models);
const id = makeIdentity(meta.seed);
const V = models.canonical.vertices;
const rigid = rigidVertices(V);
const ids = idsArg ? idsArg.split(',').map(Number) : [N >> 1];

/** The truth's head-frame surface point seen at continuous image position (u, v) of frame i, or null (off the head). */
function surfaceAt(i: number, u: number, v: number): number[] | null {
  const m = T[i];
  const o = [m[0][3], m[1][3], m[2][3]];
  const dc = [(u - meta.cx) / meta.focal, -(v - meta.cy) / meta.focal, -1];
  const d = [0, 1, 2].map((r) => m[r][0] * dc[0] + m[r][1] * dc[1] + m[r][2] * dc[2]);
  const at = (t: number) => [o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]];
  const g = (t: number) => {
    const p = at(t);
    return p[2] - faceSurfaceZ(id, p[0], p[1], meta.motion[i].open);
  };
  let lo = 0;
  let hi = -1;
  for (let t = 0.01; t < 3; t += 0.002)
    if (g(t) < 0) {
      hi = t;
      lo = t - 0.002;
      break;
    }
  if (hi < 0) return null;
  for (let k = 0; k < 50; k++) {
    const mid = (lo + hi) / 2;
    if (g(mid) > 0) lo = mid;
    else hi = mid;
  }
  const p = at((lo + hi) / 2);
  // On the skull's rim (faceSurfaceZ clamps there) the ray has missed the face.
  return p;
}

const canonOf = (v: number) => [V[v * 3], V[v * 3 + 1], V[v * 3 + 2]];
const RIGID68 = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45];
const sets: [string, number[]][] = [
  ['rigid landmarks (relief-lab\'s 13)', RIGID68.map((q) => IBUG68_FROM_MESH[q])],
  ['every textured (rigid) vertex', Array.from({ length: 468 }, (_, v) => v).filter(rigid)],
];
const allRigid = sets[1][1];
const xs = allRigid.map((v) => Math.abs(V[v * 3])).sort((a, b) => a - b);
const x50 = xs[xs.length >> 1];
sets.push([`textured vertices within ${x50.toFixed(1)} cm of the midline`, allRigid.filter((v) => Math.abs(V[v * 3]) <= x50)]);
sets.push([`textured vertices beyond ${x50.toFixed(1)} cm`, allRigid.filter((v) => Math.abs(V[v * 3]) > x50)]);
for (const i of ids) {
  const mesh = meshes[i];
  for (const [name, vs] of sets) {
    const src: number[][] = [];
    const dst: number[][] = [];
    for (const v of vs) {
      const p = surfaceAt(i, mesh[v * 3], mesh[v * 3 + 1]);
      if (!p) continue;
      src.push(canonOf(v));
      dst.push(p);
    }
    const fit = reliefFit(src, dst, src.map(() => 1));
    console.log(`frame ${i}, ${name} (${src.length} of ${vs.length} on the head): relief ${fit.relief.toFixed(3)}, residual ${(fit.rms / fit.scale).toFixed(3)} cm`);
  }
}

/* ORACLE=<focal> OUT=<subject dir> [FROM=<prepared subject>]: the photometric refinement with the
 * texture lifted onto the truth's own surface (each rigid vertex moved to where the truth's ray
 * meets the truth's head on the reference frame, brought back into the canonical face's frame by
 * one similarity), everything else as the pipeline (fitVideo at the focal, refineVideoPhotometric
 * with its smoothing). Writes FROM (default <truth>/../prepared-scored) with these transforms to OUT
 * for training, then compare with rot-amp.ts. */
if (process.env.ORACLE) {
  const { cpSync, writeFileSync } = await import('node:fs');
  const { fitVideo, refineVideoPhotometric } = await import('../../worker/face/fit-video.ts');
  const { decodeImage } = await import('../../worker/io/image.node.ts');
  const { similarityFit } = await import('./relief-fit.ts');
  const f = Number(process.env.ORACLE);
  const S = meta.cx * 2;
  const ref = N >> 1;
  const src: number[][] = [];
  const dst: number[][] = [];
  const which: number[] = [];
  for (const v of allRigid) {
    const p = surfaceAt(ref, meshes[ref][v * 3], meshes[ref][v * 3 + 1]);
    if (!p) continue;
    src.push(canonOf(v));
    dst.push(p);
    which.push(v);
  }
  const sim = similarityFit(src, dst, src.map(() => 1));
  const ca = [0, 1, 2].map((d) => src.reduce((a, p) => a + p[d], 0) / src.length);
  const cb = [0, 1, 2].map((d) => dst.reduce((a, p) => a + p[d], 0) / dst.length);
  const tpl = Float64Array.from(V);
  which.forEach((v, j) => {
    const q = [0, 1, 2].map((d) => dst[j][d] - cb[d]);
    for (let r = 0; r < 3; r++) tpl[v * 3 + r] = ca[r] + (sim.R[r] * q[0] + sim.R[3 + r] * q[1] + sim.R[6 + r] * q[2]) / sim.scale;
  });
  const moved = which.map((v) => Math.hypot(tpl[v * 3] - V[v * 3], tpl[v * 3 + 1] - V[v * 3 + 1], tpl[v * 3 + 2] - V[v * 3 + 2]));
  console.log(`oracle template: ${which.length} rigid vertices moved onto the truth's surface, mean ${(moved.reduce((a, b) => a + b) / moved.length).toFixed(2)} cm, max ${Math.max(...moved).toFixed(2)} cm`);
  const read = (i: number) => decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`));
  const fit = fitVideo(meshes, S, S, models.canonical, { focal: f });
  const { fit: refined, fallbacks } = await refineVideoPhotometric(fit, meshes, models.canonical, { read, template: tpl });
  console.log(`refined at ${f} px with the truth-shaped texture: ${fallbacks} fallbacks`);
  const out = process.env.OUT!;
  cpSync(process.env.FROM ?? `${truthDir}/../prepared-scored`, out, { recursive: true });
  for (const split of ['train', 'val']) {
    const p = `${out}/transforms_${split}.json`;
    const t = JSON.parse(readFileSync(p, 'utf8')) as { focal_len: number; frames: { img_id: number; transform_matrix: number[][] }[] };
    if (Math.abs(t.focal_len - f) > 0.5) throw new Error(`${p}: focal ${t.focal_len}, the oracle ran at ${f}`);
    for (const fr of t.frames) fr.transform_matrix = refined.frames[fr.img_id]!.transform;
    writeFileSync(p, JSON.stringify(t, null, 1));
  }
  console.log(`wrote ${out}`);
}
