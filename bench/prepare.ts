/**
 * Preparation speed in Node (issue 10): a rendered test video (the astronaut-textured
 * canonical head at known poses, tests/helpers/face-video.ts) is pre-rendered into memory,
 * then prepared end to end into an in-memory subject. Prints frames per second per stage and
 * overall, and what that means for a 3-minute recording. Figures, not a pass/fail test.
 *   npx tsx bench/prepare.ts [frames=100] [size=512]
 */
import { nodeFaceModelSource } from '../worker/face/model-source.node.ts';
import { faceBackend } from '../worker/face/graph-model.ts';
import { loadFaceModels } from '../worker/face/tracker.ts';
import type { RgbFrame } from '../worker/face/crop.ts';
import { prepareSubject, type FrameSource } from '../worker/prepare/pipeline.ts';
import { MemorySubjectFiles, MemorySubjectSink } from '../worker/subject/files.ts';
import { nodePrepareCodec } from '../worker/subject/images.node.ts';
import { encodeRgbJpegJs } from '../worker/subject/jpeg-encode.ts';
import { astronautHead, renderedVideo } from '../tests/helpers/face-video.ts';

const frames = Number(process.argv[2] ?? 100);
const size = Number(process.argv[3] ?? 512);
const W = 960;
const H = 720;

const models = await loadFaceModels(nodeFaceModelSource);
const video = renderedVideo(astronautHead(models), { frames, width: W, height: H, focal: 0.9 * W });
const cache: RgbFrame[] = [];
for (let i = 0; i < frames; i++) cache.push(await video.read(i));
const source: FrameSource = { count: frames, fps: 25, read: (i) => Promise.resolve(cache[i]) };
const audio = { samples: Float32Array.from({ length: Math.round((frames / 25) * 16000) }, (_, i) => 0.2 * Math.sin(i / 7)), sampleRate: 16000 };

const t0 = performance.now();
const r = await prepareSubject(source, audio, new MemorySubjectSink(new MemorySubjectFiles()), nodePrepareCodec, models, { size, minSeconds: 0, photometric: process.env.PHOTOMETRIC !== '0' });
const ms = performance.now() - t0;
const fps = (n: number, t: number): string => ((n * 1000) / t).toFixed(1);
console.log(`prepare (Node, tfjs ${await faceBackend()}), ${frames} frames ${W}x${H} -> ${size}x${size}:`);
console.log(`  track       ${fps(frames, r.timingsMs.track)} fps`);
// The render's focal in the subject's pixels (the crop is scaled to `size`).
const trueFocal = (0.9 * W * size) / r.crop.side;
console.log(`  fit         ${r.timingsMs.fit.toFixed(0)} ms (focal search + poses, ${r.poses.method}; focal ${r.focal.toFixed(1)} for ${trueFocal.toFixed(1)} (${((r.focal / trueFocal - 1) * 100).toFixed(1)}%) from ${r.focalSource.method}${r.focalSource.reason ? `: ${r.focalSource.reason}` : ''})`);
console.log(`  background  ${r.timingsMs.background.toFixed(0)} ms`);
console.log(`  write       ${fps(r.frames.kept, r.timingsMs.write)} fps (crop, masks, JPEG/PNG encode)`);
console.log(`  overall     ${fps(frames, ms)} fps; a 3-minute video (4500 frames) ~ ${((4500 / ((frames * 1000) / ms)) / 60).toFixed(1)} min`);

// The write stage's largest cost: one 512 px JPEG (quality 95) per image, libjpeg-turbo's wasm
// (what the pipeline uses) against jpeg-js (what it used before), on crops of the same frames.
const crops = cache.slice(0, Math.min(10, frames)).map((f) => {
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < Math.min(size, f.height); y++) out.set(f.rgb.subarray(y * f.width * 3, (y * f.width + Math.min(size, f.width)) * 3), y * size * 3);
  return { width: size, height: size, channels: 3 as const, data: out };
});
const timeEach = (encode: (img: (typeof crops)[number]) => Uint8Array): number => {
  encode(crops[0]);
  const t = performance.now();
  for (const c of crops) encode(c);
  return (performance.now() - t) / crops.length;
};
const turboMs = timeEach((c) => nodePrepareCodec.encodeJpeg(c, 95));
const jsMs = timeEach((c) => encodeRgbJpegJs(c.data, c.width, c.height, 95));
console.log(`  JPEG q95    libjpeg-turbo wasm ${turboMs.toFixed(1)} ms, jpeg-js ${jsMs.toFixed(1)} ms per ${size}x${size} image (${(jsMs / turboMs).toFixed(1)}x)`);
