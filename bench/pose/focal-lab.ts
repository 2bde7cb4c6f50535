/** Photometric focal search (fit-video.ts searchFocalPhotometric) on the astronaut render and,
 * given a synth subject and its mesh cache (fit-lab.ts), on that subject. docs/prepare.md.
 * Run: [SHAPE=photo|photo-mouth|canonical-mouth|canonical-upper] [ARTICULATED=1] [REF=frame [TRUE_REF=1]] npx tsx bench/pose/focal-lab.ts [<synth subject dir> <mesh cache>] */
import { DEG, FLIP, FOCAL, FRAMES, SIZE, truePose } from './astronaut-trajectory.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fitVideo, focalAtDistance, refineVideoPhotometric, searchFocalPhotometric, searchRelief, TYPICAL_CAMERA_DISTANCE_CM } from '../../worker/face/fit-video.ts';
import { mat3Mul, mat3T, rodrigues, rotationAngle, rotationVector, type Mat3 } from '../../worker/face/linalg.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import { FaceTracker, loadFaceModels } from '../../worker/face/tracker.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { renderHead, testBackground } from '../../tests/helpers/face-render.ts';
import { articulatedHead, astronautHead, backgroundWithTorso, gentlePose, talkingState, type HeadShape } from '../../tests/helpers/face-video.ts';
import type { RgbFrame } from '../../worker/face/crop.ts';

function rotErr(est: HeadPose[], truth: Mat3[]) {
  const N = est.length;
  const g = [0, 0, 0];
  est.forEach((p, i) => rotationVector(mat3Mul(mat3T(truth[i]), p.R)).forEach((v, d) => (g[d] += v / N)));
  const G = rodrigues(g);
  const axis = est.map((p, i) => rotationVector(mat3Mul(mat3T(truth[i]), mat3Mul(p.R, mat3T(G)))).map((v) => Math.abs(v) / DEG));
  const errs = est.map((p, i) => rotationAngle(mat3Mul(p.R, mat3T(G)), truth[i]) / DEG);
  return `max pitch ${Math.max(...axis.map((a) => a[0])).toFixed(2)} yaw ${Math.max(...axis.map((a) => a[1])).toFixed(2)} roll ${Math.max(...axis.map((a) => a[2])).toFixed(2)} | mean ${(errs.reduce((a, b) => a + b) / N).toFixed(2)}`;
}
const models = await loadFaceModels(nodeFaceModelSource);
async function run(name: string, meshes: (Float32Array | null)[], read: (i: number) => RgbFrame, size: number, trueF: number, truth: Mat3[] | null) {
  let t0 = performance.now();
  const fit = fitVideo(meshes, size, size, models.canonical);
  console.log(`${name}: landmark focal ${fit.intrinsics.f.toFixed(1)} (${((fit.intrinsics.f / trueF - 1) * 100).toFixed(1)}%) ${(performance.now() - t0).toFixed(0)} ms`);
  t0 = performance.now();
  const c0 = process.cpuUsage();
  const s = await searchFocalPhotometric(fit, meshes, models.canonical, { read, minMotionDeg: process.env.MIN_MOTION ? Number(process.env.MIN_MOTION) : undefined, ref: process.env.REF ? Number(process.env.REF) : undefined });
  const cpu = process.cpuUsage(c0);
  console.log(`  search ${(performance.now() - t0).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU: f ${s.f.toFixed(1)} (${((s.f / trueF - 1) * 100).toFixed(1)}%), observed ${s.observed} ${s.reason ?? ''}, motion ${s.motionDeg.toFixed(1)} deg`);
  console.log('  references', s.references.map((r) => `${r.frame}: ${r.observed ? `${r.f.toFixed(1)} (${((r.f / trueF - 1) * 100).toFixed(1)}%)` : r.reason}`).join('; '));
  if (!s.observed) {
    const prior = focalAtDistance(fit);
    console.log(`  the pipeline's distance prior (${TYPICAL_CAMERA_DISTANCE_CM} cm): ${prior.toFixed(1)} (${((prior / trueF - 1) * 100).toFixed(1)}%)`);
  }
  console.log('  curve', s.curve.map((c) => `${c.f.toFixed(0)}:${c.cost.toFixed(3)}`).join(' '));
  if (!truth) return;
  const valid = meshes.flatMap((m, i) => (m ? [i] : []));
  // The pipeline's relief search at the searched focal, then (RELIEF_ROUNDS) the focal searched
  // again on the template at that relief, and so on.
  let f = s.f;
  for (let round = 0; round < Number(process.env.RELIEF_ROUNDS ?? 1); round++) {
    const fitF = fitVideo(meshes, size, size, models.canonical, { focal: f });
    const rs = await searchRelief(fitF, meshes, models.canonical, { read });
    const r = await refineVideoPhotometric(fitF, meshes, models.canonical, { read, relief: rs.relief });
    console.log(`  round ${round}: f ${f.toFixed(1)} (${((f / trueF - 1) * 100).toFixed(1)}%) relief ${rs.relief} (${rs.observed ? 'observed' : rs.reason}) [${rs.curve.map((c) => `${c.relief}:${c.residual.toFixed(3)}`).join(' ')}]: photometric ${rotErr(valid.map((i) => r.fit.frames[i]!.pose), valid.map((i) => truth[i]))}`);
    const s2 = await searchFocalPhotometric(fit, meshes, models.canonical, { read, relief: rs.relief });
    console.log(`  focal at relief ${rs.relief}: ${s2.f.toFixed(1)} (${((s2.f / trueF - 1) * 100).toFixed(1)}%), observed ${s2.observed} ${s2.reason ?? ''}`);
    f = s2.f;
  }
  for (const [label, f] of [['searched', s.f], ['true', trueF]] as const) {
    const fitF = fitVideo(meshes, size, size, models.canonical, { focal: f });
    const r = await refineVideoPhotometric(fitF, meshes, models.canonical, { read });
    const valid = meshes.flatMap((m, i) => (m ? [i] : []));
    console.log(`  ${label} f ${f.toFixed(1)}: landmarks ${rotErr(valid.map((i) => fitF.frames[i]!.pose), valid.map((i) => truth[i]))}; photometric ${rotErr(valid.map((i) => r.fit.frames[i]!.pose), valid.map((i) => truth[i]))}`);
  }
}
if (process.env.GENTLE) {
  // bench/prepare.ts's motion (yaw +-15, pitch +-6, roll +-4 over 100 frames) and background.
  const n = Number(process.env.GENTLE);
  const photo = decodeImage(readFileSync(new URL('../../tests/fixtures/prepare/astronaut.jpg', import.meta.url)));
  const mesh = new FaceTracker(models).track(photo).mesh!;
  const uv = new Float32Array(468 * 2);
  for (let i = 0; i < 468; i++) { uv[i * 2] = mesh.points[i * 3]; uv[i * 2 + 1] = mesh.points[i * 3 + 1]; }
  const head = { vertices: models.canonical.vertices, triangles: models.canonical.triangles, uv, texture: photo };
  const bg = backgroundWithTorso(SIZE, SIZE);
  const tracker = new FaceTracker(models);
  const frames: RgbFrame[] = [];
  const meshes: (Float32Array | null)[] = [];
  const f = Number(process.env.GENTLE_F ?? 630);
  for (let i = 0; i < n; i++) { frames.push(renderHead(head, gentlePose(i), f, bg)); meshes.push(tracker.track(frames[i]).mesh?.points ?? null); }
  await run('gentle', meshes, (i) => frames[i], SIZE, f, frames.map((_, i) => gentlePose(i).R));
} else if (!process.argv[2] || process.env.ASTRO) {
  const photo = decodeImage(readFileSync(new URL('../../tests/fixtures/prepare/astronaut.jpg', import.meta.url)));
  const mesh = new FaceTracker(models).track(photo).mesh!;
  const uv = new Float32Array(468 * 2);
  for (let i = 0; i < 468; i++) { uv[i * 2] = mesh.points[i * 3]; uv[i * 2 + 1] = mesh.points[i * 3 + 1]; }
  // SHAPE: tests/helpers/face-video.ts astronautHead's shapes (photo: as the mesh model reads the photo).
  const head = process.env.SHAPE ? astronautHead(models, { shape: process.env.SHAPE as HeadShape }) : { vertices: models.canonical.vertices, triangles: models.canonical.triangles, uv, texture: photo };
  const bg = testBackground(SIZE, SIZE);
  const tracker = new FaceTracker(models);
  const frames: RgbFrame[] = [];
  const meshes: (Float32Array | null)[] = [];
  // ARTICULATED=1: the same shape talking (tests/helpers/face-video.ts articulatedHead: lips over a
  // mouth interior, blinking lids, talkingState's trajectory), as the issue's proof video moves.
  const art = process.env.ARTICULATED ? articulatedHead(models, (process.env.SHAPE ?? 'canonical') as HeadShape) : null;
  for (let i = 0; i < FRAMES; i++) { frames.push(renderHead(art ? art.frame(talkingState(i)) : head, truePose(i), FOCAL, bg)); meshes.push(tracker.track(frames[i]).mesh?.points ?? null); }
  if (process.env.TRUE_REF) {
    // Oracle (with REF=n): frame n's 468 points exactly where the render put the head's vertices,
    // as if the tracker were perfect on the reference frame alone.
    const r = Number(process.env.REF);
    const { R, t } = truePose(r);
    const m = Float32Array.from(meshes[r]!);
    let err = 0;
    for (let v = 0; v < 468; v++) {
      const c = [0, 1, 2].map((k) => R[k * 3] * head.vertices[v * 3] + R[k * 3 + 1] * head.vertices[v * 3 + 1] + R[k * 3 + 2] * head.vertices[v * 3 + 2] + t[k]);
      const [x, y] = [(FOCAL * c[0]) / c[2] + SIZE / 2, (FOCAL * c[1]) / c[2] + SIZE / 2];
      err += Math.hypot(x - m[v * 3], y - m[v * 3 + 1]) / 468;
      [m[v * 3], m[v * 3 + 1]] = [x, y];
    }
    console.log(`reference ${r}: its tracked points lay ${err.toFixed(2)} px from the true projections (mean); replaced by them`);
    meshes[r] = m;
  }
  await run('astronaut', meshes, (i) => frames[i], SIZE, FOCAL, frames.map((_, i) => truePose(i).R));
}
if (process.argv[2]) {
  const [dir, cache] = process.argv.slice(2);
  const T = ['train', 'val'].flatMap((s) => JSON.parse(readFileSync(`${dir}/transforms_${s}.json`, 'utf8')).frames.map((f: any) => f.transform_matrix as number[][]));
  const trueF = JSON.parse(readFileSync(`${dir}/transforms_train.json`, 'utf8')).focal_len;
  if (!existsSync(cache)) {
    // Track once and cache (fit-lab.ts's format: side, then 468 x 3 float32 per frame).
    const tr = new FaceTracker(models);
    const ms = T.map((_, i) => {
      const im = decodeImage(readFileSync(`${dir}/ori_imgs/${i}.jpg`));
      const m = tr.track(im).mesh;
      if (!m) throw new Error(`no face in frame ${i}`);
      return { side: im.width, points: m.points };
    });
    const out = Buffer.alloc(4 + T.length * 468 * 3 * 4);
    out.writeUInt32LE(ms[0].side, 0);
    ms.forEach((m, i) => Buffer.from(m.points.buffer, m.points.byteOffset, m.points.byteLength).copy(out, 4 + i * 468 * 3 * 4));
    writeFileSync(cache, out);
  }
  const buf = readFileSync(cache);
  const S = buf.readUInt32LE(0);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset + 4, buf.byteOffset + buf.length));
  const meshes = T.map((_, i) => all.slice(i * 468 * 3, (i + 1) * 468 * 3));
  // transform_matrix is camera-to-head (OpenGL axes); the template->OpenCV-camera rotation is
  // diag(1,-1,-1) R_c2w^T. Head frames differ by a fixed rotation, which rotErr's alignment takes.
  const truthR = T.map((m) => {
    const c2w = Float64Array.of(m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2]);
    return mat3Mul(FLIP, mat3T(c2w));
  });
  await run('synth subject', meshes, (i) => decodeImage(readFileSync(`${dir}/ori_imgs/${i}.jpg`)), S, trueF, truthR);
}
