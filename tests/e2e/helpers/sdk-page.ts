/**
 * The SDK test bed in the browser: an app page on 127.0.0.1 that bundles the SDK (esbuild,
 * as an app's bundler would) and serves the engine files from the extension build, and a
 * headless Chromium without the extension (the SDK is what drives the engine here).
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { EXTENSION_DIR, ROOT, ensureBuilt } from './browser.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** What an app copies from dist/extension/ next to its page (sdk/README.md). */
export const ENGINE_FILES = ['engine-worker.js', 'render-worker.js', 'render-band-worker.js', 'mic-tap.js', 'default-generator.bin', 'builtin.r2t'];

export interface SdkPageServer {
  url: string;
  /** Adds or replaces a file served under /files/<name>. */
  put(name: string, body: Uint8Array, type?: string): void;
  close(): Promise<void>;
}

let bundle: Promise<string> | null = null;

function bundleEntry(): Promise<string> {
  bundle ??= build({
    entryPoints: [path.join(ROOT, 'tests/e2e/helpers/sdk-page-entry.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  }).then((r) => r.outputFiles[0]!.text);
  return bundle;
}

export async function startSdkPageServer(headers: Record<string, string> = {}): Promise<SdkPageServer> {
  ensureBuilt();
  const js = await bundleEntry();
  const files = new Map<string, { body: Uint8Array; type: string }>();
  const html = '<!doctype html><meta charset="utf-8"><title>SDK test app</title><body><script src="/app.js"></script></body>';
  const server: Server = createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (body: string | Uint8Array, type: string) => {
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers }).end(body);
    };
    if (p === '/' || p === '/index.html') return send(html, 'text/html; charset=utf-8');
    if (p === '/app.js') return send(js, 'text/javascript; charset=utf-8');
    const engine = /^\/engine\/([a-z-]+\.(?:js|bin|r2t))$/.exec(p);
    if (engine && ENGINE_FILES.includes(engine[1]!)) {
      return send(readFileSync(path.join(EXTENSION_DIR, engine[1]!)), engine[1]!.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'application/octet-stream');
    }
    const file = /^\/files\/([A-Za-z0-9._-]+)$/.exec(p);
    const f = file ? files.get(file[1]!) : undefined;
    if (f) return send(f.body, f.type);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    put(name, body, type = 'application/octet-stream') {
      files.set(name, { body, type });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Chromium with SwiftShader WebGPU and fake media (platform.md), no extension and no proxy:
 * media goes to the LiveKit server in the test namespace over the veth pair, which is
 * not loopback, so no loopback switch is needed.
 */
export async function launchSdkBrowser(fakeAudioWav?: string, extraArgs: string[] = []): Promise<Browser> {
  const args = [
    '--no-sandbox',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--enable-unsafe-webgpu',
    '--use-vulkan=swiftshader',
    '--use-angle=swiftshader',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    // One list: Chromium keeps only the last --enable-features (Playwright passes its own).
    '--enable-features=CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies,Vulkan',
    ...(fakeAudioWav ? [`--use-file-for-fake-audio-capture=${fakeAudioWav}`] : []),
    ...extraArgs,
  ];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}
