/**
 * Where the UI tests put their screenshots: docs/screenshots/ when R2T_UPDATE_SCREENSHOTS=1
 * (look at them before committing), else a temporary folder, so an ordinary test run never
 * dirties the working tree but still takes every picture.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT } from './browser.ts';

const dir = process.env.R2T_UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : mkdtempSync(path.join(os.tmpdir(), 'r2t-shots-'));
mkdirSync(dir, { recursive: true });

/** Screenshots `page` in light and dark (prefers-color-scheme) as <name>-light.png / -dark.png. */
export async function shootBothSchemes(page: Page, name: string): Promise<string[]> {
  const files: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const file = path.join(dir, `${name}-${scheme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  await page.emulateMedia({ colorScheme: null });
  return files;
}
