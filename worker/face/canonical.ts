/**
 * MediaPipe's canonical face: the rigid 468-vertex template (centimetres; +x towards the
 * subject's left, +y up, +z out of the face: the axes of the reference's 3DMM) and the
 * Procrustes weights MediaPipe's own face-geometry pipeline uses to fit it (which points are
 * stable under expression). Read from the protobuf shipped in @mediapipe/face_mesh's packed
 * assets, so no geometry is copied into the project.
 */
import protobuf from 'protobufjs';
import { FormatError } from '../errors.ts';
import { CANONICAL_RANGE, FACE_ASSETS, type FaceModelSource } from './model-source.ts';
import { MESH_POINTS } from './mesh.ts';

// The schema of geometry_pipeline_metadata.proto, reduced to the fields read here; field
// numbers checked against the shipped bytes (mesh = 1, basis = 2, source = 3).
const SCHEMA = `
syntax = "proto2";
message Mesh3d {
  optional int32 vertex_type = 1;
  optional int32 primitive_type = 2;
  repeated float vertex_buffer = 3;
  repeated uint32 index_buffer = 4;
}
message WeightedLandmarkRef {
  optional uint32 landmark_id = 1;
  optional float weight = 2;
}
message GeometryPipelineMetadata {
  optional Mesh3d canonical_mesh = 1;
  repeated WeightedLandmarkRef procrustes_landmark_basis = 2;
  optional int32 input_source = 3;
}`;

export interface CanonicalFace {
  /** 468 x (x, y, z), centimetres; y up, z towards the camera when the face looks at it. */
  vertices: Float32Array;
  /** Triangles, 3 indices each. */
  triangles: Uint32Array;
  /** 468 Procrustes weights (0 for points not in MediaPipe's basis). */
  weights: Float32Array;
}

/** Decodes the metadata protobuf; `field` names the source in errors. */
export function parseCanonicalFace(bytes: Uint8Array, field = 'geometry_pipeline_metadata'): CanonicalFace {
  const type = protobuf.parse(SCHEMA).root.lookupType('GeometryPipelineMetadata');
  let msg: { canonicalMesh?: { vertexBuffer?: number[]; indexBuffer?: number[] }; procrustesLandmarkBasis?: { landmarkId?: number; weight?: number }[] };
  try {
    msg = type.toObject(type.decode(bytes)) as typeof msg;
  } catch (e) {
    throw FormatError.input(field, `not a face geometry protobuf (${(e as Error).message})`, e);
  }
  const vb = msg.canonicalMesh?.vertexBuffer ?? [];
  const ib = msg.canonicalMesh?.indexBuffer ?? [];
  // Vertex layout VERTEX_PT: x, y, z, u, v.
  if (vb.length !== MESH_POINTS * 5) throw FormatError.expected('INPUT_FORMAT', `${field}.canonical_mesh.vertex_buffer`, `${MESH_POINTS * 5} floats`, String(vb.length));
  if (ib.length === 0 || ib.length % 3 !== 0 || ib.some((i) => i >= MESH_POINTS)) {
    throw FormatError.input(`${field}.canonical_mesh.index_buffer`, `expected triangles over ${MESH_POINTS} vertices`);
  }
  const vertices = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) for (let k = 0; k < 3; k++) vertices[i * 3 + k] = vb[i * 5 + k];
  const weights = new Float32Array(MESH_POINTS);
  for (const ref of msg.procrustesLandmarkBasis ?? []) {
    const id = ref.landmarkId ?? -1;
    if (!(id >= 0 && id < MESH_POINTS)) throw FormatError.input(`${field}.procrustes_landmark_basis`, `landmark id ${id} out of range`);
    weights[id] = ref.weight ?? 0;
  }
  if (!weights.some((w) => w > 0)) throw FormatError.input(`${field}.procrustes_landmark_basis`, 'no positive weight');
  return { vertices, triangles: Uint32Array.from(ib), weights };
}

/** Loads the canonical face from @mediapipe/face_mesh's packed assets. */
export async function loadCanonicalFace(source: FaceModelSource): Promise<CanonicalFace> {
  const { pkg, file } = FACE_ASSETS.packed;
  const packed = await source.read(pkg, file);
  if (packed.length < CANONICAL_RANGE.end) {
    throw FormatError.expected('INPUT_FORMAT', `${pkg}/${file}`, `at least ${CANONICAL_RANGE.end} bytes`, String(packed.length));
  }
  return parseCanonicalFace(packed.subarray(CANONICAL_RANGE.start, CANONICAL_RANGE.end), `${pkg}/${file}`);
}
