/**
 * WebCodecs decoding behind the demuxers (issue 10), in headless Chromium: the pictures at
 * each 25 fps slot and the sound must match what Chromium's own <video> and decodeAudioData
 * give for the same file (the route the demuxer replaces). File: the committed H.264 + AAC MP4
 * (tests/fixtures/prepare/h264-aac.mp4).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { launchChromium, openScriptPage } from '../../cli/video/chromium.ts';

describe('WebCodecs decoding of demuxed recordings', () => {
  it('matches the <video> route on H.264 + AAC (MP4, 30 fps source, B-frames)', async () => {
    const bytes = readFileSync(new URL('../fixtures/prepare/h264-aac.mp4', import.meta.url));
    const browser = await launchChromium();
    try {
      const page = await openScriptPage(browser, '../../tests/helpers/webcodecs-check-page.ts');
      const times = Array.from({ length: 24 }, (_, k) => (k + 0.5) / 25);
      const r = await page.evaluate(([b64, t]) => (globalThis as unknown as { r2tCheck: (b: string, t: number[]) => Promise<Record<string, number | string | number[]>> }).r2tCheck(b64, t), [bytes.toString('base64'), times] as const);
      expect(r.codec).toMatch(/^avc1/);
      expect(r.audioCodec).toBe('mp4a.40.2');
      // Same pictures as <video>, also after going back to the start.
      expect(r.meanDiff).toBeLessThan(1);
      expect(r.maxDiffRestart).toBeLessThan(3);
      // Slot k shows source frame floor((k + 0.5) / 25 * 30): flat luma 16 + 37N mod 200, full-range RGB.
      const greens = r.greens as unknown as number[];
      times.forEach((t, k) => {
        const n = Math.floor(t * 30);
        expect(Math.abs(greens[k] - (((37 * n) % 200) * 255) / 219), `slot ${k}`).toBeLessThan(4);
      });
      // The sound: what decodeAudioData gives, within 1% RMS, and 1 s long at 16 kHz.
      expect(r.audioRelErr).toBeLessThan(0.01);
      expect(Math.abs((r.audioLen as number) - 16000)).toBeLessThan(16000 * 0.03);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
