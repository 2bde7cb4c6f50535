/**
 * Launches headless Chromium (/usr/bin/chromium) with the built extension, fake media
 * devices and a recording proxy, driven by playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Worker } from 'playwright-core';
import { startPageServer, startRecordingProxy, type Recorder, type Running } from './servers.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const EXTENSION_DIR = path.join(ROOT, 'dist', 'extension');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Chromium keeps only the LAST --enable-features/--disable-features, and ours come after
 * Playwright's, so each list is merged into one flag. Playwright's enabled features are kept;
 * from its disabled ones we drop ThirdPartyStoragePartitioning so the engine iframe sees the
 * storage partitioning real users have.
 */
const ENABLED_FEATURES = ['CDPScreenshotNewSurface', 'SkipListAccountsWithoutGaiaCookies', 'Vulkan'];
const DISABLED_FEATURES = ['HttpsUpgrades', 'HttpsFirstBalancedModeAutoEnable', 'LensOverlay', 'MediaRouter', 'PaintHolding', 'OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch'];

/** Builds the extension when dist/ is missing (the e2e global setup normally builds first). */
export function ensureBuilt(): void {
  if (existsSync(path.join(EXTENSION_DIR, 'manifest.json'))) return;
  execFileSync('npx', ['webpack', '--config', 'webpack.config.ts'], { cwd: ROOT, stdio: 'inherit' });
}

export interface Harness {
  context: BrowserContext;
  pages: Running;
  proxy: Recorder;
  serviceWorker: Worker;
  extensionId: string;
  /** Sets extension settings through the service worker (as the popup would). */
  setSettings(patch: Record<string, unknown>): Promise<void>;
  /**
   * Quits the browser and starts it again on the same profile, as a user restarting Chrome:
   * extension storage, IndexedDB and OPFS survive; `context` and `serviceWorker` are replaced.
   */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  fakeAudioWav?: string;
  /** More Chromium switches, e.g. --disable-blink-features=WebGPU for a machine without WebGPU. */
  extraArgs?: string[];
  /** More Chromium features to disable (merged into the one --disable-features switch). */
  disableFeatures?: string[];
  /** Switches of the default set to leave out. */
  dropArgs?: string[];
}

/**
 * The switches every e2e browser needs (platform.md): SwiftShader WebGPU and canvas, fake
 * media, loopback WebRTC, the recording proxy and the built extension. Feature lists are left
 * to the caller: Chromium keeps only the last --enable-features / --disable-features.
 */
export function baseSwitches(proxyHostPort: string): string[] {
  return [
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
    '--allow-loopback-in-peer-connection',
    `--proxy-server=${proxyHostPort}`,
    `--disable-extensions-except=${EXTENSION_DIR}`,
    `--load-extension=${EXTENSION_DIR}`,
  ];
}

export async function launch(opts: LaunchOptions = {}): Promise<Harness> {
  ensureBuilt();
  const [pages, proxy] = await Promise.all([startPageServer(), startRecordingProxy()]);
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'r2t-e2e-'));
  const args = [
    ...baseSwitches(proxy.hostPort),
    `--enable-features=${ENABLED_FEATURES.join(',')}`,
    `--disable-features=${[...DISABLED_FEATURES, ...(opts.disableFeatures ?? [])].join(',')}`,
  ];
  if (opts.fakeAudioWav) args.push(`--use-file-for-fake-audio-capture=${opts.fakeAudioWav}`);
  args.push(...(opts.extraArgs ?? []));
  const dropped = new Set(opts.dropArgs ?? []);
  const finalArgs = args.filter((a) => !dropped.has(a));
  const open = async (): Promise<{ context: BrowserContext; serviceWorker: Worker }> => {
    const context = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      ignoreDefaultArgs: ['--disable-extensions'],
      args: finalArgs,
    });
    const serviceWorker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
    return { context, serviceWorker };
  };
  const { context, serviceWorker } = await open();
  const extensionId = new URL(serviceWorker.url()).host;
  const h: Harness = {
    context,
    pages,
    proxy,
    serviceWorker,
    extensionId,
    async setSettings(patch) {
      await h.serviceWorker.evaluate(async (p) => {
        const key = 'r2talker.settings';
        const cur = ((await chrome.storage.local.get(key)) as Record<string, unknown>)[key] ?? {};
        await chrome.storage.local.set({ [key]: { ...(cur as object), ...p } });
      }, patch);
    },
    async restart() {
      await h.context.close();
      const next = await open();
      const id = new URL(next.serviceWorker.url()).host;
      if (id !== extensionId) throw new Error(`restart: the extension came back as ${id}, not ${extensionId}`);
      h.context = next.context;
      h.serviceWorker = next.serviceWorker;
    },
    async close() {
      await h.context.close();
      await Promise.all([pages.close(), proxy.close()]);
      rmSync(userDir, { recursive: true, force: true });
    },
  };
  // A small, fast render for every test (the CPU reference at 64x64 renders several frames a
  // second on these machines; SwiftShader's WebGPU about one): tests that need another
  // renderer set it themselves.
  await h.setSettings(E2E_RENDER_SETTINGS);
  return h;
}

export const E2E_RENDER_SETTINGS = { renderer: 'cpu', renderMaxSide: 64 } as const;
