import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_DIR, launch, type Harness } from './helpers/browser.ts';
import { call, eventually, openFake } from './helpers/app.ts';

/**
 * Chromium itself (not extensions) talks to these with our flags: component/extension
 * update checks and account lookups. They reach the proxy with or without R2 Talker loaded.
 */
const BROWSER_OWN_HOSTS = /^(update\.googleapis\.com|accounts\.google\.com|optimizationguide-pa\.googleapis\.com|clients\d*\.google\.com|[a-z0-9-]+\.gvt1\.com|www\.google\.com|safebrowsing\.googleapis\.com|content-autofill\.googleapis\.com)(:\d+)?$/;

function hostOf(proxyLine: string): string {
  const target = proxyLine.split(' ')[1] ?? '';
  return target.includes('://') ? new URL(target).host : target;
}

let h: Harness;
const seen: string[] = [];
beforeAll(async () => {
  h = await launch();
  h.context.on('request', (r) => seen.push(r.url()));
});
afterAll(async () => {
  await h?.close();
});

describe('network isolation', () => {
  it('declares no host permissions and limits extension pages to self', () => {
    const manifest = JSON.parse(readFileSync(path.join(EXTENSION_DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.host_permissions).toBeUndefined();
    expect(manifest.permissions).toEqual(['storage', 'unlimitedStorage']);
    const csp = (manifest.content_security_policy as { extension_pages: string }).extension_pages;
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  });

  it('a whole session (camera, mic tap, engine, popup) sends no request off the machine', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/basic.html`);
    const r = await openFake(page, { width: 640, height: 360 }, true);
    expect(r.error).toBeUndefined();
    const v = r.tracks?.find((t) => t.kind === 'video');
    await eventually(() => call(page, 'stats', v?.index ?? -1), (s) => (s?.framesWritten ?? 0) > 20 && (s?.audioSeconds ?? 0) > 0.5, 15_000);
    const popup = await h.context.newPage();
    await popup.goto(`chrome-extension://${h.extensionId}/popup.html`);
    await popup.waitForSelector('#avatars li');
    await page.waitForTimeout(1500);

    // use_dynamic_url gives extension resources a per-session id in place of the extension id.
    const local = new RegExp(`^(${h.pages.url.replace(/[.:/]/g, '\\$&')}/|chrome-extension://[0-9a-z-]+/|data:|blob:)`);
    expect(seen.filter((u) => !local.test(u))).toEqual([]);
    expect(seen.some((u) => u.includes('engine'))).toBe(true);
    const offMachine = h.proxy.requests.filter((line) => !BROWSER_OWN_HOSTS.test(hostOf(line)));
    expect(offMachine).toEqual([]);
  });
});
