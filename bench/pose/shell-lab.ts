/**
 * Head-shell variants of the photometric refinement (photometric.ts headShellTexture) on a
 * synthetic subject's cached meshes: each variant's poses are written as a subject's transforms
 * under <out>/<name>/ for bench/pose/outline-err.ts to score.
 * Run: npx tsx bench/pose/shell-lab.ts <synth subject dir> <mesh cache> <focal> <out>
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { trackedMeshes } from './mesh-cache.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { fitVideo, refineVideoPhotometric } from '../../worker/face/fit-video.ts';
import { headTransform } from '../../worker/face/pose-solver.ts';
import { labelPerson, LABEL } from '../../worker/prepare/masks.ts';
import { segmentPerson } from '../../worker/face/segmenter.ts';

const [truthDir, cache, focalArg, out] = process.argv.slice(2);
const splits = ['train', 'val'].map((s) => JSON.parse(readFileSync(`${truthDir}/transforms_${s}.json`, 'utf8')));
const N = splits[0].frames.length + splits[1].frames.length;
const models = await loadFaceModels(nodeFaceModelSource);
const { side: S, meshes } = trackedMeshes(truthDir, cache, N, models);
const fit = fitVideo(meshes, S, S, models.canonical, { focal: Number(focalArg) });
const read = (i: number) => decodeImage(readFileSync(`${truthDir}/ori_imgs/${i}.jpg`));
const headMask = (img: ReturnType<typeof read>, i: number) => labelPerson(segmentPerson(models.segmenter, img), img.rgb, meshes[i], fit.frames[i]!.lms, S, S).map((v) => (v === LABEL.head ? 1 : 0));
for (const name of (process.env.VARIANTS ?? 'face,head').split(',')) {
  const t0 = performance.now();
  const r = await refineVideoPhotometric(fit, meshes, models.canonical, { read, ...(name === 'face' ? {} : { headMask }) });
  const dir = `${out}/${name}`;
  mkdirSync(dir, { recursive: true });
  let j = 0;
  for (const [s, d] of [['train', splits[0]], ['val', splits[1]]] as const) {
    writeFileSync(`${dir}/transforms_${s}.json`, JSON.stringify({ ...d, focal_len: fit.intrinsics.f, cx: fit.intrinsics.cx, cy: fit.intrinsics.cy, frames: d.frames.map((f: any) => ({ ...f, transform_matrix: headTransform(r.fit.frames[j++]!.pose) })) }));
  }
  console.log(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${r.fallbacks} fallbacks, shell depth ${r.shellDepth}`);
}

if (process.env.COST) {
  // The photometric misfit of each shell depth's own refined poses, on every STEP-th frame, on one
  // scale: does the video's own evidence pick the depth that holds the outline best?
  const { buildTexture, headShellTexture, joinTextures, levelRadii, photometricScan, pyramid, rigidVertices, toGray } = await import('../../worker/face/photometric.ts');
  const { reliefTemplate } = await import('../../worker/face/fit-video.ts');
  const STEP = Number(process.env.STEP ?? 5);
  const k = fit.intrinsics;
  const ref = N >> 1;
  const refImg = read(ref);
  const radii = levelRadii(S);
  const mesh2 = new Float64Array(468 * 2);
  for (let q = 0; q < 468; q++) { mesh2[q * 2] = meshes[ref][q * 3]; mesh2[q * 2 + 1] = meshes[ref][q * 3 + 1]; }
  const tpl = reliefTemplate(models.canonical, 1);
  const face = buildTexture(mesh2, tpl, models.canonical.triangles, rigidVertices(Float64Array.from(models.canonical.vertices)), fit.frames[ref]!.pose, k);
  const mask = headMask(refImg, ref);
  const refLevels = pyramid(toGray(refImg), radii);
  const sel = Array.from({ length: N }, (_, i) => i).filter((i) => i % STEP === 0);
  const levels = new Map(sel.map((i) => [i, pyramid(toGray(read(i)), radii)]));
  const scan = photometricScan(refLevels, sel.map((i) => levels.get(i)!), sel.map((i) => fit.frames[i]!.pose), k);
  for (const dz of process.env.COST.split(',').map(Number)) {
    process.env.SHELL_DZ = String(dz);
    const { cost } = scan(joinTextures(face, headShellTexture(mask, S, S, mesh2, tpl, fit.frames[ref]!.pose, k)));
    console.log(`shell depth offset ${dz} cm: photometric cost ${cost.toFixed(4)}`);
  }
}
