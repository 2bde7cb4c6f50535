/**
 * Headless Chromium as a codec host: Node 20 has no WebCodecs, so the CLI opens a local page
 * in Chromium (driven by playwright-core) and hands it raw frames and PCM. The page is served
 * by request interception on http://127.0.0.1 — never a real socket — because WebCodecs needs
 * a secure context, which about:blank is not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, R2TalkerError } from '../../worker/errors.ts';
import type { Browser, Page } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** Plain headless is enough for WebCodecs VP8/VP9 + Opus (design/platform.md). */
export const CHROMIUM_FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PAGE_ORIGIN = 'http://127.0.0.1';
const HERE = path.dirname(fileURLToPath(import.meta.url));

export function chromiumPath(): string {
  return process.env.R2TALKER_CHROMIUM || DEFAULT_CHROMIUM;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new ConfigError(`chromium: video encoding needs Chromium at ${executablePath} (install it with apt-get install chromium, or set R2TALKER_CHROMIUM), found nothing there`);
  }
  const { chromium } = await import('playwright-core');
  try {
    return await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
  } catch (e) {
    throw new ConfigError(`chromium: could not start ${executablePath}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { cause: e });
  }
}

const bundles = new Map<string, string>();

/** Bundles a page script of this folder (and its npm imports) into one classic script. */
export async function pageScript(file: string): Promise<string> {
  const cached = bundles.get(file);
  if (cached) return cached;
  const esbuild = await import('esbuild');
  const r = await esbuild.build({ entryPoints: [path.join(HERE, file)], bundle: true, format: 'iife', platform: 'browser', target: 'chrome120', write: false, logLevel: 'silent' });
  const code = r.outputFiles[0].text;
  bundles.set(file, code);
  return code;
}

/** Opens a secure-context page in `browser` running the bundled `script`. */
export async function openScriptPage(browser: Browser, script: string): Promise<Page> {
  const page = await browser.newPage();
  const url = `${PAGE_ORIGIN}/r2talker-${path.basename(script, '.ts')}.html`;
  await page.route(`${PAGE_ORIGIN}/**`, (route) => {
    if (route.request().url() !== url) return route.abort();
    return route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>r2talker</title>' });
  });
  // Anything else the page might try to fetch stays on the machine.
  await page.route(/^(?!http:\/\/127\.0\.0\.1\/)/, (route) => route.abort());
  await page.goto(url);
  await page.addScriptTag({ content: await pageScript(script) });
  return page;
}

/** Errors thrown inside the page arrive as plain Errors: give them a code and a prefix. */
export function pageError(what: string, e: unknown): R2TalkerError {
  if (e instanceof R2TalkerError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  // Playwright prefixes "page.evaluate: Error: "; keep the page's own words.
  const clean = msg.replace(/^page\.evaluate:\s*(\w*Error:\s*)?/, '').split('\n')[0];
  return new R2TalkerError('INTERNAL', `${what}: ${clean}`, { cause: e });
}

export function toBase64(bytes: Uint8Array | Uint8ClampedArray | Float32Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
