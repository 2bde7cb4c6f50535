/**
 * The parity suite in headless Chromium (WebGPU over SwiftShader): the engine is bundled with
 * esbuild, served on 127.0.0.1, and the page runs the same checks as the Node suite.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParityReport } from '../helpers/webgpu-parity.ts';
import { downscaleAvatar } from '../../worker/engine/cpu-reference-renderer.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { importedFixture, torchUnavailable } from '../helpers/import-fixtures.ts';

/** full.pth of the generated torch fixtures imported and shrunk 9x to 50x50, as .r2t bytes (null without torch). */
function importedAvatarBytes(): Uint8Array | null {
  if (torchUnavailable() !== null) return null;
  return writeAvatar(downscaleAvatar(importedFixture('full'), 9));
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
// One --enable-features: Chromium keeps only the last copy of the flag.
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader'];

describe('WebGPU renderer parity in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let url = '';
  let imported: Uint8Array | null = null;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
    const bundle = await build({ entryPoints: [path.join(here, 'browser', 'parity-entry.ts')], bundle: true, write: false, format: 'esm', platform: 'browser', target: 'chrome120', logLevel: 'silent' });
    const js = bundle.outputFiles[0].text;
    imported = importedAvatarBytes();
    const html = '<!doctype html><meta charset="utf-8"><title>r2t gpu parity</title><script type="module" src="/parity.js"></script>';
    server = createServer((req, res) => {
      if (req.url === '/parity.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else if (req.url === '/imported.r2t' && imported) res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(imported);
      else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('no server address');
    url = `http://127.0.0.1:${addr.port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('frames match the CPU reference at >= 45 dB with the same samples per ray (official 48x48, tiny tiled, tiny hashed, imported from torch.save)', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => typeof (globalThis as { runAll?: unknown }).runAll === 'function');
    const importedUrl = imported ? `${url}imported.r2t` : undefined;
    const reports = (await page.evaluate((u) => (globalThis as unknown as { runAll: (u?: string) => Promise<unknown> }).runAll(u), importedUrl)) as ParityReport[] | string;
    expect(errors).toEqual([]);
    if (typeof reports === 'string') throw new Error(reports);
    expect(reports.map((r) => r.name)).toEqual(['official', 'tiny', 'tiny-hash', ...(imported ? ['imported'] : [])]);
    for (const r of reports) {
      expect(r.psnr, r.name).toBeGreaterThanOrEqual(45);
      expect(r.passesGpu, r.name).toEqual(r.passesCpu);
      expect(r.samplesMismatch, r.name).toBe(0);
      expect(r.traceCountMismatch, r.name).toBe(0);
      expect(r.sampleMaxDiff, r.name).toBeLessThan(1e-5);
      expect(r.codeMaxDiff, r.name).toBeLessThan(1e-3);
      expect(r.filmMaxDiff, r.name).toBeLessThan(1e-3);
      expect(r.totalSamples, r.name).toBeGreaterThan(0);
    }
    await page.close();
  });
});
