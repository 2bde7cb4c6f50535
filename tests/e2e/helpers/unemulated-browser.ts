/**
 * Headless Chromium with the built extension, started by us and attached with
 * `connectOverCDP({ noDefaults: true })`: Playwright then leaves focus emulation off. Its
 * focus emulation (on for every page it launches) keeps each page "visible", so with
 * `launch()` no page can ever be hidden; here a page becomes hidden, as in a real browser,
 * when another tab of its window comes to the front (Target.createTarget, newWindow false).
 * Playwright's own switches (--disable-renderer-backgrounding,
 * --disable-background-timer-throttling, ...) are not passed either, so background tabs are
 * throttled the way users' browsers throttle them. The switches otherwise mirror browser.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { E2E_RENDER_SETTINGS, baseSwitches, ensureBuilt } from './browser.ts';
import { startPageServer, startRecordingProxy, type Recorder, type Running } from './servers.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const START_TIMEOUT_MS = 20_000;

export interface UnemulatedHarness {
  browser: Browser;
  context: BrowserContext;
  pages: Running;
  proxy: Recorder;
  setSettings(patch: Record<string, unknown>): Promise<void>;
  /** The engine's published status (chrome.storage.local 'r2talker.status', what the popup reads). */
  status(): Promise<Record<string, unknown> | undefined>;
  /** Opens `url` in a new foreground tab of the window of the existing tabs (they become hidden). */
  openForegroundTab(url: string): Promise<Page>;
  close(): Promise<void>;
}

async function waitForFile(file: string, ms: number, child: ChildProcess): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`chromium exited with ${child.exitCode} before DevTools started`);
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      if (text.includes('\n')) return text;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`chromium: no ${path.basename(file)} within ${ms} ms`);
}

/** `dropArgs`: switches of the default set to leave out (e.g. --enable-unsafe-webgpu: a machine without a WebGPU adapter). */
export async function launchUnemulated(opts: { fakeAudioWav?: string; dropArgs?: string[] } = {}): Promise<UnemulatedHarness> {
  ensureBuilt();
  const [pages, proxy] = await Promise.all([startPageServer(), startRecordingProxy()]);
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'r2t-e2e-unemulated-'));
  const args = [
    '--headless',
    '--remote-debugging-port=0',
    `--user-data-dir=${userDir}`,
    '--no-default-browser-check',
    ...baseSwitches(proxy.hostPort),
    '--enable-features=Vulkan',
    '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,OptimizationHints,NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch',
  ];
  if (opts.fakeAudioWav) args.push(`--use-file-for-fake-audio-capture=${opts.fakeAudioWav}`);
  args.push('about:blank');
  const dropped = new Set(opts.dropArgs ?? []);
  const child = spawn(CHROMIUM, args.filter((a) => !dropped.has(a)), { stdio: 'ignore' });
  let browser: Browser | null = null;
  const cleanup = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await Promise.all([pages.close(), proxy.close()]);
    rmSync(userDir, { recursive: true, force: true });
  };
  try {
    const port = Number((await waitForFile(path.join(userDir, 'DevToolsActivePort'), START_TIMEOUT_MS, child)).split('\n')[0]);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`DevToolsActivePort: expected a port, got ${port}`);
    browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { noDefaults: true, isLocal: true });
    const context = browser.contexts()[0];
    if (!context) throw new Error('connectOverCDP: no default browser context');
    const serviceWorker = context.serviceWorkers().find((w) => w.url().endsWith('/service-worker.js')) ?? (await context.waitForEvent('serviceworker', { timeout: START_TIMEOUT_MS }));
    const cdp = await browser.newBrowserCDPSession();
    const b = browser;
    const h: UnemulatedHarness = {
      browser: b,
      context,
      pages,
      proxy,
      async setSettings(patch) {
        await serviceWorker.evaluate(async (p) => {
          const key = 'r2talker.settings';
          const cur = ((await chrome.storage.local.get(key)) as Record<string, unknown>)[key] ?? {};
          await chrome.storage.local.set({ [key]: { ...(cur as object), ...p } });
        }, patch);
      },
      status() {
        return serviceWorker.evaluate(async () => ((await chrome.storage.local.get('r2talker.status')) as Record<string, Record<string, unknown> | undefined>)['r2talker.status']);
      },
      async openForegroundTab(url) {
        const opened = context.waitForEvent('page', { predicate: (p) => p.url() === url || p.url() === 'about:blank', timeout: START_TIMEOUT_MS });
        await cdp.send('Target.createTarget', { url, newWindow: false, background: false });
        const page = await opened;
        await page.waitForLoadState('load');
        return page;
      },
      close: cleanup,
    };
    await h.setSettings(E2E_RENDER_SETTINGS);
    return h;
  } catch (e) {
    await cleanup();
    throw e;
  }
}
