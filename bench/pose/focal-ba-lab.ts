/** Focal from the pixels with the reference frame's pose adjusted too (docs/prepare.md): at each
 * candidate focal the reference's texture is lifted from the template projected at a reference
 * pose (not from its tracked points), and that pose is chosen (Nelder-Mead, 6 parameters) to
 * explain a spread of frames best. The astronaut render of focal-lab.ts.
 * Run: [SHAPE=photo|canonical-mouth] [REF=n] [MULTS=0.8,0.9,1,1.1,1.25] npx tsx bench/pose/focal-ba-lab.ts */
import { DEG, FLIP, FOCAL, FRAMES, SIZE, truePose } from './astronaut-trajectory.ts';
import { fitVideo } from '../../worker/face/fit-video.ts';
import { fitStructure } from '../../worker/face/structure.ts';
import { adjustJointPhotometric, projectPoints } from '../../worker/face/joint-photometric.ts';
import { mat3Mul, mat3T, rodrigues, rotationAngle, rotationVector, type Mat3 } from '../../worker/face/linalg.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { buildTexture, levelRadii, photometricCost, pyramid, referenceValues, refinePosePhotometric, rigidVertices, toGray, type GrayImage } from '../../worker/face/photometric.ts';
import type { HeadPose, Intrinsics } from '../../worker/face/pose-solver.ts';
import { FaceTracker, loadFaceModels } from '../../worker/face/tracker.ts';
import { renderHead, testBackground } from '../../tests/helpers/face-render.ts';
import { astronautHead, type HeadShape } from '../../tests/helpers/face-video.ts';
import type { RgbFrame } from '../../worker/face/crop.ts';


function nelderMead(fn: (x: number[]) => number, x0: number[], steps: number[], iters: number): { x: number[]; v: number } {
  const n = x0.length;
  let pts = [x0, ...steps.map((s, d) => x0.map((v, e) => (e === d ? v + s : v)))].map((x) => ({ x, v: fn(x) }));
  for (let it = 0; it < iters; it++) {
    pts.sort((a, b) => a.v - b.v);
    const c = Array.from({ length: n }, (_, d) => pts.slice(0, n).reduce((s, p) => s + p.x[d], 0) / n);
    const worst = pts[n];
    const at = (a: number) => c.map((v, d) => v + a * (worst.x[d] - v));
    const r = at(-1);
    const vr = fn(r);
    if (vr < pts[0].v) {
      const e = at(-2);
      const ve = fn(e);
      pts[n] = ve < vr ? { x: e, v: ve } : { x: r, v: vr };
    } else if (vr < pts[n - 1].v) pts[n] = { x: r, v: vr };
    else {
      const k = at(vr < worst.v ? -0.5 : 0.5);
      const vk = fn(k);
      if (vk < Math.min(vr, worst.v)) pts[n] = { x: k, v: vk };
      else pts = pts.map((p, j) => (j === 0 ? p : { x: p.x.map((v, d) => pts[0].x[d] + 0.5 * (v - pts[0].x[d])), v: fn(p.x.map((v, d) => pts[0].x[d] + 0.5 * (v - pts[0].x[d]))) }));
    }
  }
  pts.sort((a, b) => a.v - b.v);
  return pts[0];
}

const models = await loadFaceModels(nodeFaceModelSource);
const head = astronautHead(models, { shape: (process.env.SHAPE ?? 'canonical') as HeadShape });
const bg = testBackground(SIZE, SIZE);
const tracker = new FaceTracker(models);
const frames: RgbFrame[] = [];
const meshes: (Float32Array | null)[] = [];
for (let i = 0; i < FRAMES; i++) {
  frames.push(renderHead(head, truePose(i), FOCAL, bg));
  meshes.push(tracker.track(frames[i]).mesh?.points ?? null);
}
const ref = Number(process.env.REF ?? 0);
const canonical0 = Float64Array.from(models.canonical.vertices);
let canon: Float64Array = canonical0;
const rigid = rigidVertices(canonical0);
const radii = levelRadii(SIZE);
const levels: GrayImage[][] = frames.map((f) => pyramid(toGray(f), radii));
const fit0 = fitVideo(meshes, SIZE, SIZE, models.canonical);
// Targets: farthest-point spread of the landmark rotations from the reference (as the search).
const vec = (i: number) => rotationVector(mat3Mul(fit0.frames[i]!.pose.R, mat3T(fit0.frames[ref]!.pose.R)));
const chosen: number[] = [];
const dist = new Map(Array.from({ length: FRAMES }, (_, i) => [i, Math.hypot(...vec(i))]));
for (let c = 0; c < Number(process.env.TARGETS ?? 12); c++) {
  let best = -1;
  for (let i = 0; i < FRAMES; i++) if (i !== ref && !chosen.includes(i) && (best < 0 || dist.get(i)! > dist.get(best)!)) best = i;
  chosen.push(best);
  const b = vec(best);
  for (let i = 0; i < FRAMES; i++) dist.set(i, Math.min(dist.get(i)!, Math.hypot(...vec(i).map((v, d) => v - b[d]))));
}
let scale = NaN;
function costAt(k: Intrinsics, refPose: HeadPose, starts: HeadPose[]): { cost: number; poses: HeadPose[] } {
  const tex = buildTexture(projectPoints(canon, refPose, k), canon, models.canonical.triangles, rigid, refPose, k);
  const rv = referenceValues(tex, levels[ref]);
  const fine = rv.length - 1;
  const fits = chosen.map((i, j) => refinePosePhotometric(tex, rv, levels[i], k, starts[j]));
  if (Number.isNaN(scale)) {
    const sig = chosen.map((i, j) => photometricCost(tex, rv[fine], levels[i][fine], k, fits[j].pose, 1).sigma).sort((a, b) => a - b);
    scale = Math.max(1, 1.345 * sig[sig.length >> 1]);
  }
  let s = 0;
  chosen.forEach((i, j) => (s += photometricCost(tex, rv[fine], levels[i][fine], k, fits[j].pose, scale).cost));
  return { cost: s / chosen.length, poses: fits.map((r) => r.pose) };
}
let fixedSamples: ReturnType<typeof buildTexture> | undefined;
const mults = (process.env.MULTS ?? '0.8,0.9,1,1.1,1.25').split(',').map(Number);
console.log(`shape ${process.env.SHAPE ?? 'canonical'}, reference ${ref}, targets ${chosen.join(' ')}, landmark focal ${fit0.intrinsics.f.toFixed(1)}`);
for (const m of mults) {
  const f = FOCAL * m;
  const k: Intrinsics = { ...fit0.intrinsics, f };
  const fit = fitVideo(meshes, SIZE, SIZE, models.canonical, { focal: f });
  const p0 = fit.frames[ref]!.pose;
  if (process.env.STRUCT) {
    // STRUCT=1: the subject's own shape, every textured vertex triangulated from all frames'
    // tracked points at this focal's landmark poses (structure.ts, its weak canonical prior).
    const valid = meshes.flatMap((m, i) => (m ? [i] : []));
    const obs = valid.map((i) => ({ obs: Float64Array.from({ length: 936 }, (_, q) => meshes[i]![(q >> 1) * 3 + (q & 1)]), mesh3: Float64Array.from(meshes[i]!) }));
    const weights = Float64Array.from({ length: 468 }, (_, v) => (rigid(v) ? 1 : 0));
    canon = fitStructure({ points: canonical0, weights }, canonical0, obs, valid.map((i) => fit.frames[i]!.pose), k).points;
    let rms = 0;
    for (let v = 0; v < 468; v++) if (rigid(v)) rms += ((canon[v * 3] - head.vertices[v * 3]) ** 2 + (canon[v * 3 + 1] - head.vertices[v * 3 + 1]) ** 2 + (canon[v * 3 + 2] - head.vertices[v * 3 + 2]) ** 2);
    console.log(`  structure at x${m}: ${Math.sqrt(rms / weights.reduce((a, b) => a + b)).toFixed(3)} cm rms from the rendered head (canonical ${Math.sqrt([...Array(468).keys()].filter(rigid).reduce((s, v) => s + (canonical0[v * 3] - head.vertices[v * 3]) ** 2 + (canonical0[v * 3 + 1] - head.vertices[v * 3 + 1]) ** 2 + (canonical0[v * 3 + 2] - head.vertices[v * 3 + 2]) ** 2, 0) / weights.reduce((a, b) => a + b)).toFixed(3)})`);
  }
  const starts = chosen.map((i) => fit.frames[i]!.pose);
  const poseOf = (x: number[]): HeadPose => ({ R: mat3Mul(rodrigues([x[0] * DEG, x[1] * DEG, x[2] * DEG]), p0.R), t: [p0.t[0] + x[3], p0.t[1] + x[4], p0.t[2] + x[5]] });
  const t0 = performance.now();
  const plain = costAt(k, p0, starts).cost;
  if (process.env.JOINT) {
    // JOINT=1: the reference pose and the frames' poses by one robust Gauss-Newton (joint-photometric.ts).
    // FIXED=1: one set of surface samples for every focal (the first focal's).
    const tex0 = fixedSamples ?? buildTexture(projectPoints(canon, p0, k), canon, models.canonical.triangles, rigid, p0, k);
    if (process.env.FIXED) fixedSamples = tex0;
    const adj = adjustJointPhotometric(tex0, levels[ref], chosen.map((i) => levels[i]), k, p0, starts);
    let out: { cost: number };
    if (process.env.FIXED) {
      const tex = { ...tex0, uv: projectPoints(tex0.points, adj.ref, k) };
      const rv = referenceValues(tex, levels[ref]);
      const fine = rv.length - 1;
      const fits = chosen.map((i, j) => refinePosePhotometric(tex, rv, levels[i], k, adj.poses[j]));
      if (Number.isNaN(scale)) {
        const sig = chosen.map((i, j) => photometricCost(tex, rv[fine], levels[i][fine], k, fits[j].pose, 1).sigma).sort((a, b) => a - b);
        scale = Math.max(1, 1.345 * sig[sig.length >> 1]);
      }
      let c = 0;
      chosen.forEach((i, j) => (c += photometricCost(tex, rv[fine], levels[i][fine], k, fits[j].pose, scale).cost));
      out = { cost: c / chosen.length };
    } else out = costAt(k, adj.ref, adj.poses);
    console.log(`f x${m} (${f.toFixed(0)}): landmark ref pose ${plain.toFixed(4)} -> joint ${out.cost.toFixed(4)} | ref pose off truth ${(rotationAngle(p0.R, truePose(ref).R) / DEG).toFixed(2)} -> ${(rotationAngle(adj.ref.R, truePose(ref).R) / DEG).toFixed(2)} deg, z ${p0.t[2].toFixed(1)} -> ${adj.ref.t[2].toFixed(1)} (truth at this f ${(truePose(ref).t[2] * m).toFixed(1)}), lost ${adj.lost} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    continue;
  }
  if (process.env.ALT) {
    // Block-coordinate: the targets aligned to the reference's texture, then the reference aligned
    // to the textures of the targets nearest it in rotation, its pose the mean of those.
    let pr = p0;
    let poses = starts;
    const near = [...chosen.keys()].sort((a, b) => rotationAngle(starts[a].R, p0.R) - rotationAngle(starts[b].R, p0.R)).slice(0, Number(process.env.NEAR ?? 4));
    let out = { cost: NaN, poses };
    for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
      out = costAt(k, pr, poses);
      poses = out.poses;
      const ests = near.map((j) => {
        const tj = buildTexture(projectPoints(canon, poses[j], k), canon, models.canonical.triangles, rigid, poses[j], k);
        const rr = refinePosePhotometric(tj, referenceValues(tj, levels[chosen[j]]), levels[ref], k, pr);
        if (process.env.V) console.log("   est", chosen[j], rr.rms, rr.used, rotationAngle(rr.pose.R, pr.R) / DEG, rr.pose.t);
        return rr.pose;
      });
      const w = [0, 0, 0];
      ests.forEach((e) => rotationVector(mat3Mul(e.R, mat3T(pr.R))).forEach((v, d) => (w[d] += v / ests.length)));
      pr = { R: mat3Mul(rodrigues(w), pr.R), t: [0, 1, 2].map((d) => ests.reduce((s, e) => s + e.t[d], 0) / ests.length) as [number, number, number] };
      console.log(`  round ${round}: cost ${out.cost.toFixed(4)}, ref pose off truth ${(rotationAngle(pr.R, truePose(ref).R) / DEG).toFixed(2)} deg`);
    }
    const fin = costAt(k, pr, poses).cost;
    console.log(`f x${m} (${f.toFixed(0)}): landmark ref pose ${plain.toFixed(4)} -> alternated ${fin.toFixed(4)} | ref pose off truth ${(rotationAngle(pr.R, truePose(ref).R) / DEG).toFixed(2)} deg ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    continue;
  }
  const nm = nelderMead((x) => costAt(k, poseOf(x), starts).cost, [0, 0, 0, 0, 0, 0], [1, 1, 1, 0.3, 0.3, 1.5], Number(process.env.ITERS ?? 60));
  const best = poseOf(nm.x);
  const truth = truePose(ref);
  const tz = truth.t[2] * m;
  console.log(`f x${m} (${f.toFixed(0)}): landmark ref pose ${plain.toFixed(4)} -> adjusted ${nm.v.toFixed(4)} | ref pose off truth ${(rotationAngle(p0.R, truth.R) / DEG).toFixed(2)} -> ${(rotationAngle(best.R, truth.R) / DEG).toFixed(2)} deg, z ${p0.t[2].toFixed(1)} -> ${best.t[2].toFixed(1)} (truth at this f ${tz.toFixed(1)}) ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
