/**
 * Headless Chromium with the same media switches as browser.ts but WITHOUT the extension:
 * the baseline that "untouched" behaviour is compared with.
 */
import { chromium, type Browser } from 'playwright-core';
import { EXTENSION_DIR, baseSwitches } from './browser.ts';
import { startPageServer, startRecordingProxy, type Running } from './servers.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface PlainHarness {
  browser: Browser;
  pages: Running;
  close(): Promise<void>;
}

export async function launchWithoutExtension(extraArgs: string[] = []): Promise<PlainHarness> {
  const [pages, proxy] = await Promise.all([startPageServer(), startRecordingProxy()]);
  const args = baseSwitches(proxy.hostPort).filter((a) => !a.includes(EXTENSION_DIR));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...args, ...extraArgs] });
  return {
    browser,
    pages,
    async close() {
      await browser.close();
      await Promise.all([pages.close(), proxy.close()]);
    },
  };
}
