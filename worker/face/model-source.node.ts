/** Node: the face models are read straight from the installed npm packages. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FormatError } from '../errors.ts';
import type { FaceModelSource } from './model-source.ts';

const require = createRequire(import.meta.url);

/** Node's own lookup order; `require.resolve` itself cannot be used because some packages
 * (e.g. @vladmandic/human) do not export their package.json or model files. */
function packageRoot(pkg: string): string {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    if (existsSync(join(dir, pkg, 'package.json'))) return join(dir, pkg);
  }
  throw FormatError.input(pkg, 'npm package not installed (run npm install)');
}

export const nodeFaceModelSource: FaceModelSource = {
  wasmLocation: join(packageRoot('@tensorflow/tfjs-backend-wasm'), 'dist') + '/',
  async read(pkg, path) {
    const file = join(packageRoot(pkg), path);
    try {
      return new Uint8Array(await readFile(file));
    } catch (e) {
      throw FormatError.input(file, `cannot read face model asset (${(e as Error).message})`, e);
    }
  },
};
