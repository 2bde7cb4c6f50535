/**
 * Builds the extension: one bundle per context into dist/extension (loadable unpacked), the
 * static files beside them, and dist/r2talker-extension.zip for a store upload.
 * Loaded by webpack-cli through tsx.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import webpack from 'webpack';
import { generatorFromOnnx } from './worker/landmarks/onnx-export.ts';
import { packGenerator } from './worker/engine/generator-pack.ts';
import { FaceModelsPlugin } from './extension/prepare/face-assets.webpack.ts';

const root = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(root, 'dist', 'extension');
const zipPath = path.join(root, 'dist', 'r2talker-extension.zip');

/** Files copied verbatim: [source relative to root, name in the extension]. */
const STATIC_FILES: [string, string][] = [
  ['manifest.json', 'manifest.json'],
  ['extension/engine/engine.html', 'engine.html'],
  ['extension/ui/popup.html', 'popup.html'],
  ['extension/ui/options.html', 'options.html'],
  ['extension/ui/create.html', 'create.html'],
  ['extension/ui/ui.css', 'ui.css'],
  // What the camera shows until the user picks an avatar; the render worker fetches it from beside itself.
  ['assets/avatars/builtin.r2t', 'builtin.r2t'],
  // The default generator's data, licences and credits (CC-BY-SA attribution) travel with it.
  ['assets/generator/README.md', 'default-generator-README.md'],
];

/**
 * Bundled when present: the default landmark generator (assets/generator/default.onnx, made by
 * the trainer). Without it the build still succeeds and the engine says, in the popup, that
 * the mouth follows the voice level only.
 */
const OPTIONAL_FILES: [string, string, (b: Buffer) => Uint8Array][] = [
  // Decoded here because the ONNX decoder needs eval, which extension pages refuse.
  ['assets/generator/default.onnx', 'default-generator.bin', (b) => packGenerator(generatorFromOnnx(new Uint8Array(b), 'assets/generator/default.onnx'))],
];

class StaticFilesPlugin {
  apply(compiler: webpack.Compiler): void {
    compiler.hooks.thisCompilation.tap('StaticFiles', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'StaticFiles', stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        for (const [src, dest, convert] of OPTIONAL_FILES) {
          const abs = path.join(root, src);
          if (!existsSync(abs)) {
            compilation.warnings.push(new webpack.WebpackError(`${src} is missing: the extension ships without a default landmark generator`));
            continue;
          }
          compilation.fileDependencies.add(abs);
          compilation.emitAsset(dest, new webpack.sources.RawSource(Buffer.from(convert(readFileSync(abs)))));
        }
        for (const [src, dest] of STATIC_FILES) {
          const abs = path.join(root, src);
          compilation.fileDependencies.add(abs);
          let content = readFileSync(abs);
          if (dest === 'manifest.json') {
            // The version lives in package.json only.
            const manifest = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
            const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
            manifest.version = pkg.version;
            content = Buffer.from(JSON.stringify(manifest, null, 2));
          }
          compilation.emitAsset(dest, new webpack.sources.RawSource(content));
        }
      });
    });
  }
}

/** Zips the emitted extension (no source maps) with fixed timestamps, so builds are reproducible. */
class ZipPlugin {
  apply(compiler: webpack.Compiler): void {
    compiler.hooks.afterEmit.tap('Zip', (compilation) => {
      const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
      const names = Object.keys(compilation.assets).filter((n) => !n.endsWith('.map')).sort();
      // Emitted sources are released after emit; read the files back from disk.
      for (const name of names) files[name] = [new Uint8Array(readFileSync(path.join(outDir, name))), { mtime: new Date('2020-01-01T00:00:00Z') }];
      mkdirSync(path.dirname(zipPath), { recursive: true });
      writeFileSync(zipPath, zipSync(files, { level: 9 }));
    });
  }
}

export default (_env: unknown, argv: { mode?: 'production' | 'development' }): webpack.Configuration => {
  const mode = argv.mode ?? 'production';
  return {
    mode,
    context: root,
    target: 'web',
    entry: {
      shim: './extension/shim/main.ts',
      bridge: './extension/bridge/content.ts',
      engine: './extension/engine/engine-page.ts',
      'engine-worker': './worker/engine/engine-worker.ts',
      'render-worker': './worker/engine/render-worker.ts',
      'render-band-worker': './worker/engine/render-band-worker.ts',
      'mic-tap': './worker/engine/mic-tap.worklet.ts',
      'service-worker': './extension/background/service-worker.ts',
      popup: './extension/ui/popup.ts',
      options: './extension/ui/options.ts',
      create: './extension/ui/create.ts',
      'train-worker': './extension/train/train-worker.ts',
      'prepare-worker': './extension/prepare/prepare-worker.ts',
    },
    output: {
      path: outDir,
      filename: '[name].js',
      // No automatic publicPath detection: it reads document.currentScript, absent in the
      // worklet and service worker.
      publicPath: '',
      clean: true,
      iife: true,
    },
    // Never eval: extension pages and strict-CSP meeting pages forbid it.
    devtool: mode === 'development' ? 'inline-source-map' : false,
    resolve: {
      extensions: ['.ts', '.js'],
      // Our imports name the .ts file; ts-loader rewrites them to .js (rewriteRelativeImportExtensions,
      // since allowImportingTsExtensions forbids emitting), and this maps them back to the .ts source.
      extensionAlias: { '.js': ['.ts', '.js'] },
      // The trainer's WebGPU backend falls back to the Node `webgpu` package (native Dawn) when
      // there is no navigator.gpu; the browser bundles never take that path.
      alias: { webgpu: false },
      // libjpeg-turbo's Emscripten glue requires these only on its Node path.
      fallback: { fs: false, path: false },
    },
    module: {
      rules: [
        // jpeg-js' encoder returns a Node Buffer when bundled; see the loader for why and how.
        { test: /node_modules[\\/]jpeg-js[\\/]lib[\\/]encoder\.js$/, use: path.join(root, 'extension/prepare/jpeg-encoder.loader.cjs') },
        {
          test: /\.ts$/,
          exclude: /node_modules/,
          use: {
            loader: 'ts-loader',
            options: {
              transpileOnly: true,
              compilerOptions: { allowImportingTsExtensions: false, rewriteRelativeImportExtensions: true, noEmit: false, module: 'esnext', target: 'es2022', sourceMap: mode === 'development' },
            },
          },
        },
      ],
    },
    optimization: {
      splitChunks: false,
      runtimeChunk: false,
      minimize: mode === 'production',
    },
    performance: { hints: false },
    plugins: [new StaticFilesPlugin(), new FaceModelsPlugin(root), new ZipPlugin()],
  };
};
