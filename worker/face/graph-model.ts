/**
 * Runs the MediaPipe face models (converted to TensorFlow.js graph models, shipped in
 * @vladmandic/human) with tfjs on its pure-JS CPU backend: the same code runs in Node and in a
 * browser worker, with no native addon, no WebGL context and nothing fetched.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { FormatError } from '../errors.ts';
import type { FaceModelSource } from './model-source.ts';

import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let backendReady: Promise<string> | null = null;
let wasmLocation: string | null = null;
let wasmThreads: boolean | undefined;

/**
 * Where the tfjs wasm binaries are (a directory path in Node, a URL prefix in a browser; the
 * files ship inside @tensorflow/tfjs-backend-wasm). When set before the first model loads,
 * the models run on tfjs' wasm backend (SIMD kernels, several times faster than the pure-JS
 * CPU backend); otherwise, or if wasm fails to start, on the CPU backend.
 */
export function useFaceWasm(location: string, opts: { threads?: boolean } = {}): void {
  if (backendReady) return;
  wasmLocation = location;
  wasmThreads = opts.threads;
}

/**
 * The wasm backend's Emscripten glue, when it starts in Node, adds process handlers that
 * rethrow every uncaught exception and unhandled rejection (printing its whole minified
 * source with them). The engine must not change how its host handles errors: whatever
 * handlers appear during start-up are removed again. No-op outside Node.
 */
function keepProcessHandlers(): () => void {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (!proc?.listeners) return () => {};
  const uncaught = proc.listeners('uncaughtException');
  const rejected = proc.listeners('unhandledRejection');
  return () => {
    for (const l of proc.listeners('uncaughtException')) if (!uncaught.includes(l)) proc.removeListener('uncaughtException', l as NodeJS.UncaughtExceptionListener);
    for (const l of proc.listeners('unhandledRejection')) if (!rejected.includes(l)) proc.removeListener('unhandledRejection', l as NodeJS.UnhandledRejectionListener);
  };
}

/** tfjs warns in Node that tfjs-node would be faster; it cannot be installed here (its install
 * script downloads a binary), so the warning is noise. PROD also skips tfjs' NaN checks. */
async function ensureBackend(): Promise<string> {
  backendReady ??= (async () => {
    tf.env().set('PROD', true);
    if (wasmLocation) {
      setWasmPaths(wasmLocation);
      if (wasmThreads === false) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      const restore = keepProcessHandlers();
      try {
        if (await tf.setBackend('wasm')) return 'wasm';
      } catch {
        // Fall through to the CPU backend: slower, same results.
      } finally {
        restore();
      }
    }
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs cpu backend failed to initialise');
    return 'cpu';
  })();
  return backendReady;
}

/** The tfjs backend the face models run on ('wasm' or 'cpu'), once a model has loaded. */
export async function faceBackend(): Promise<string> {
  return ensureBackend();
}

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
}

/** Loads a tfjs graph model (model.json + its weight shards) through `source`. */
export async function loadFaceGraphModel(source: FaceModelSource, pkg: string, jsonPath: string): Promise<GraphModel> {
  await ensureBackend();
  const field = `${pkg}/${jsonPath}`;
  let json: ModelJson;
  try {
    json = JSON.parse(new TextDecoder().decode(await source.read(pkg, jsonPath))) as ModelJson;
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw FormatError.input(field, `not a JSON model description (${(e as Error).message})`, e);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw FormatError.input(field, 'expected a tfjs graph model (modelTopology and weightsManifest)');
  }
  const dir = jsonPath.includes('/') ? jsonPath.slice(0, jsonPath.lastIndexOf('/') + 1) : '';
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) shards.push(await source.read(pkg, dir + p));
  }
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const weights = new Uint8Array(total);
  let at = 0;
  for (const s of shards) {
    weights.set(s, at);
    at += s.byteLength;
  }
  try {
    return await loadGraphModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: specs,
        weightData: weights.buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        signature: json.signature as tf.io.ModelArtifacts['signature'],
        userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
      }),
    );
  } catch (e) {
    throw FormatError.input(field, `tfjs could not build the graph model (${(e as Error).message})`, e);
  }
}

/** Runs `model` on one NHWC float image and returns every output as a flat Float32Array,
 * keyed by output node name. Tensors are disposed before returning. */
export function runGraphModel(model: GraphModel, input: Float32Array, shape: [number, number, number, number]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  tf.tidy(() => {
    const x = tf.tensor4d(input, shape, 'float32');
    const names = model.outputs.map((o) => o.name);
    const res = model.execute(x, names);
    const list = Array.isArray(res) ? res : [res];
    list.forEach((t, i) => out.set(names[i], t.dataSync() as Float32Array));
  });
  return out;
}

export type { GraphModel };
