/**
 * The canonical face in a flat binary form the browser can read without protobufjs: protobufjs
 * decodes through generated code (`new Function`), which the extension's CSP forbids, so the
 * build decodes MediaPipe's protobuf once (canonical.ts) and ships this instead.
 *
 * Layout, little-endian: 'R2CF', u32 version (1), u32 vertex count V, u32 triangle count T,
 * then V*3 f32 vertices, T*3 u32 indices, V f32 Procrustes weights.
 */
import { FormatError } from '../errors.ts';
import type { CanonicalFace } from './canonical.ts';
import { MESH_POINTS } from './mesh.ts';

const MAGIC = 0x46433252; // 'R2CF'
const HEADER = 16;
/** The canonical mesh has 898 triangles; anything far beyond is not a face mesh. */
const MAX_TRIANGLES = 4096;

export function packCanonicalFace(face: CanonicalFace): Uint8Array {
  const v = face.vertices.length / 3;
  const t = face.triangles.length / 3;
  const out = new Uint8Array(HEADER + v * 12 + t * 12 + v * 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, v, true);
  dv.setUint32(12, t, true);
  let at = HEADER;
  for (const x of face.vertices) (dv.setFloat32(at, x, true), (at += 4));
  for (const i of face.triangles) (dv.setUint32(at, i, true), (at += 4));
  for (const w of face.weights) (dv.setFloat32(at, w, true), (at += 4));
  return out;
}

/** Reads packCanonicalFace's bytes, checking every count and index; `field` names the file. */
export function unpackCanonicalFace(bytes: Uint8Array, field: string): CanonicalFace {
  if (bytes.length < HEADER) throw FormatError.input(field, `truncated canonical face (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw FormatError.input(field, 'not a packed canonical face (bad magic)');
  const version = dv.getUint32(4, true);
  if (version !== 1) throw FormatError.input(field, `unsupported canonical face version ${version}`);
  const v = dv.getUint32(8, true);
  const t = dv.getUint32(12, true);
  if (v !== MESH_POINTS) throw FormatError.expected('INPUT_FORMAT', `${field}.vertices`, String(MESH_POINTS), String(v));
  if (t < 1 || t > MAX_TRIANGLES) throw FormatError.expected('INPUT_FORMAT', `${field}.triangles`, `1..${MAX_TRIANGLES}`, String(t));
  const need = HEADER + v * 12 + t * 12 + v * 4;
  if (bytes.length !== need) throw FormatError.expected('INPUT_FORMAT', field, `${need} bytes`, String(bytes.length));
  let at = HEADER;
  const vertices = new Float32Array(v * 3);
  for (let i = 0; i < vertices.length; i++, at += 4) vertices[i] = dv.getFloat32(at, true);
  const triangles = new Uint32Array(t * 3);
  for (let i = 0; i < triangles.length; i++, at += 4) {
    triangles[i] = dv.getUint32(at, true);
    if (triangles[i] >= v) throw FormatError.input(`${field}.triangles`, `index ${triangles[i]} out of range`);
  }
  const weights = new Float32Array(v);
  for (let i = 0; i < v; i++, at += 4) weights[i] = dv.getFloat32(at, true);
  if (!vertices.every(Number.isFinite) || !weights.every((w) => Number.isFinite(w) && w >= 0)) throw FormatError.input(field, 'non-finite vertex or negative weight');
  if (!weights.some((w) => w > 0)) throw FormatError.input(`${field}.weights`, 'no positive weight');
  return { vertices, triangles, weights };
}
