/**
 * The pose labs' cache of tracked face meshes: tracking a subject's frames takes minutes on these
 * machines, the fitting experiments seconds, so the meshes are tracked once and kept in <cache>.
 * Format: u32 LE frame side S, then N x 468 x 3 f32 (x, y in pixels, z).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FaceTracker, type FaceModels } from '../../worker/face/tracker.ts';
import { decodeImage } from '../../worker/io/image.node.ts';

const POINTS = 468 * 3;

export function trackedMeshes(subjectDir: string, cache: string, n: number, models: FaceModels): { side: number; meshes: Float32Array[] } {
  if (existsSync(cache)) {
    const buf = readFileSync(cache);
    const want = 4 + n * POINTS * 4;
    if (buf.length !== want) throw new Error(`${cache}: ${buf.length} bytes, expected ${want} for ${n} frames; delete it to re-track`);
    const side = buf.readUInt32LE(0);
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset + 4, buf.byteOffset + buf.length));
    return { side, meshes: Array.from({ length: n }, (_, i) => all.slice(i * POINTS, (i + 1) * POINTS)) };
  }
  const tracker = new FaceTracker(models);
  const meshes: Float32Array[] = [];
  let side = 0;
  for (let i = 0; i < n; i++) {
    const im = decodeImage(readFileSync(`${subjectDir}/ori_imgs/${i}.jpg`));
    side = im.width;
    const mesh = tracker.track(im).mesh;
    if (!mesh) throw new Error(`${subjectDir}/ori_imgs/${i}.jpg: no face tracked`);
    meshes.push(mesh.points);
  }
  const out = Buffer.alloc(4 + n * POINTS * 4);
  out.writeUInt32LE(side, 0);
  meshes.forEach((m, i) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).copy(out, 4 + i * POINTS * 4));
  writeFileSync(cache, out);
  return { side, meshes };
}
