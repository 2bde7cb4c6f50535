/**
 * The face models inside the built extension: webpack copies the tfjs graph models, the tfjs
 * wasm binaries and the pre-decoded canonical face into dist/extension/face-models/, and this
 * source reads them back through the extension's own URLs. Nothing comes from the network.
 */
import { FormatError } from '../../worker/errors.ts';
import { unpackCanonicalFace } from '../../worker/face/canonical-pack.ts';
import { BUNDLED_FACE_ASSETS, type FaceModelSource } from '../../worker/face/model-source.ts';
import { loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';

/** `chrome-extension://<id>/` in extension pages and workers; `base` overrides it (tests). */
function extensionBase(): string {
  const runtime = (globalThis as { chrome?: { runtime?: { getURL?: (p: string) => string } } }).chrome?.runtime;
  if (!runtime?.getURL) throw FormatError.input('face-models', 'not running inside the extension (chrome.runtime.getURL is missing)');
  return runtime.getURL('');
}

async function fetchBytes(url: string, field: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw FormatError.input(field, `cannot read face model asset (${(e as Error).message})`, e);
  }
  if (!res.ok) throw FormatError.input(field, `cannot read face model asset (HTTP ${res.status}); the extension build is incomplete`);
  return new Uint8Array(await res.arrayBuffer());
}

export function extensionFaceModelSource(base = extensionBase()): FaceModelSource {
  return {
    wasmLocation: base + BUNDLED_FACE_ASSETS.wasmDir,
    wasmThreads: false,
    read: (pkg, path) => fetchBytes(base + BUNDLED_FACE_ASSETS.file(pkg, path), `${pkg}/${path}`),
    async canonicalFace() {
      const url = base + BUNDLED_FACE_ASSETS.canonical;
      return unpackCanonicalFace(await fetchBytes(url, BUNDLED_FACE_ASSETS.canonical), BUNDLED_FACE_ASSETS.canonical);
    },
  };
}

let shared: Promise<FaceModels> | null = null;

/** The models are ~2 MB and take a moment to build: one set per page, loaded on first use. */
export function extensionFaceModels(): Promise<FaceModels> {
  shared ??= loadFaceModels(extensionFaceModelSource()).catch((e: unknown) => {
    shared = null;
    throw e;
  });
  return shared;
}
