/**
 * Build step (webpack.config.ts): copies the face models the in-browser preparation needs into
 * the extension — each tfjs graph model with the weight shards its JSON lists, tfjs' wasm
 * binaries, libjpeg-turbo's wasm for the subject images, and the canonical face decoded here once (see canonical-pack.ts for why).
 * Everything is read from the installed npm packages, so the extension ships what
 * `npm ci` installed and fetches nothing at run time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import webpack from 'webpack';
import { parseCanonicalFace } from '../../worker/face/canonical.ts';
import { packCanonicalFace } from '../../worker/face/canonical-pack.ts';
import { TURBO_JPEG_WASM } from '../../worker/subject/jpeg-turbo.ts';
import { BUNDLED_FACE_ASSETS, CANONICAL_RANGE, FACE_ASSETS, FACE_GRAPH_MODELS, TFJS_WASM_FILES } from '../../worker/face/model-source.ts';

function packageFile(root: string, pkg: string, file: string): string {
  return path.join(root, 'node_modules', pkg, file);
}

/** [name in the extension, absolute source path or bytes]. */
export function faceModelAssets(root: string): [string, string | Uint8Array][] {
  const out: [string, string | Uint8Array][] = [];
  for (const m of FACE_GRAPH_MODELS) {
    const json = packageFile(root, m.pkg, m.json);
    out.push([BUNDLED_FACE_ASSETS.file(m.pkg, m.json), json]);
    const manifest = (JSON.parse(readFileSync(json, 'utf8')) as { weightsManifest?: { paths: string[] }[] }).weightsManifest ?? [];
    const dir = path.posix.dirname(m.json);
    for (const group of manifest) for (const p of group.paths) out.push([BUNDLED_FACE_ASSETS.file(m.pkg, `${dir}/${p}`), packageFile(root, m.pkg, `${dir}/${p}`)]);
  }
  out.push([TURBO_JPEG_WASM.bundled, packageFile(root, TURBO_JPEG_WASM.pkg, TURBO_JPEG_WASM.file)]);
  for (const w of TFJS_WASM_FILES) out.push([BUNDLED_FACE_ASSETS.wasmDir + w, packageFile(root, '@tensorflow/tfjs-backend-wasm', `dist/${w}`)]);
  const packed = readFileSync(packageFile(root, FACE_ASSETS.packed.pkg, FACE_ASSETS.packed.file));
  out.push([BUNDLED_FACE_ASSETS.canonical, packCanonicalFace(parseCanonicalFace(packed.subarray(CANONICAL_RANGE.start, CANONICAL_RANGE.end), FACE_ASSETS.packed.file))]);
  return out;
}

export class FaceModelsPlugin {
  constructor(private readonly root: string) {}

  apply(compiler: webpack.Compiler): void {
    compiler.hooks.thisCompilation.tap('FaceModels', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'FaceModels', stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        for (const [name, src] of faceModelAssets(this.root)) {
          if (typeof src === 'string') compilation.fileDependencies.add(src);
          compilation.emitAsset(name, new webpack.sources.RawSource(Buffer.from(typeof src === 'string' ? readFileSync(src) : src)));
        }
      });
    });
  }
}
