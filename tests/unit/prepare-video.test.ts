/**
 * `prepare --video`: a WebM (VP9 + Opus, made by the project's own encoder from rendered test
 * frames) decoded through headless Chromium gives back each frame at its time and the sound
 * track; files that are not video end in a clear error, quickly; the CLI refuses a clip that
 * is too short without leaving anything behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { openVideoFile } from '../../cli/video/video-source.ts';
import { WebmEncoder } from '../../cli/video/webm-encoder.ts';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import { loadFaceModels } from '../../worker/face/tracker.ts';
import { astronautHead, renderedVideo } from '../helpers/face-video.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const N = 20;

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

describe('prepare --video', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r2t-video-'));
  const webm = join(dir, 'clip.webm');
  const originals: RgbFrame[] = [];

  beforeAll(async () => {
    const models = await loadFaceModels(nodeFaceModelSource);
    const video = renderedVideo(astronautHead(models), { frames: N, width: 256, height: 256, focal: 256 });
    const speech = Float32Array.from({ length: (48000 * N) / 25 }, (_, i) => 0.3 * Math.sin(i / 9));
    const enc = await WebmEncoder.open({ width: 256, height: 256, audio: { channels: [speech], sampleRate: 48000 } });
    for (let i = 0; i < N; i++) {
      const f = await video.read(i);
      originals.push(f);
      const rgba = new Uint8Array(256 * 256 * 4);
      for (let p = 0; p < 256 * 256; p++) {
        rgba.set(f.rgb.subarray(p * 3, p * 3 + 3), p * 4);
        rgba[p * 4 + 3] = 255;
      }
      await enc.addFrame(rgba);
    }
    writeFileSync(webm, (await enc.finish()).bytes);
    writeFileSync(join(dir, 'noise.webm'), Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 255));
  });

  it('decodes every frame at its time, and the sound track', async () => {
    const v = await openVideoFile(webm);
    try {
      expect(v.frames.count).toBe(N);
      expect([v.info.width, v.info.height]).toEqual([256, 256]);
      for (const i of [0, 7, 19]) {
        const f = await v.frames.read(i);
        const own = psnr(f.rgb, originals[i].rgb);
        expect(own).toBeGreaterThan(35);
        if (i > 0) expect(own).toBeGreaterThan(psnr(f.rgb, originals[i - 1].rgb) + 2);
      }
      expect(v.audio).not.toBeNull();
      expect(Math.abs(v.audio!.samples.length / v.audio!.sampleRate - N / 25)).toBeLessThan(0.05);
    } finally {
      await v.close();
    }
  });

  it('refuses what is not a video, within a bounded time', async () => {
    const t0 = Date.now();
    await expect(openVideoFile(join(dir, 'noise.webm'))).rejects.toThrow(/noise\.webm: not a WebM or MP4 file \(it starts with [0-9a-f ]+\), and the browser's <video> cannot play it either: cannot decode the video \(media error/);
    await expect(openVideoFile(join(dir, 'missing.webm'))).rejects.toThrow(/missing\.webm: unreadable \(ENOENT\)/);
    writeFileSync(join(dir, 'empty.webm'), new Uint8Array(0));
    await expect(openVideoFile(join(dir, 'empty.webm'))).rejects.toThrow(/empty file/);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('the command refuses a 0.8 s clip and leaves nothing behind', () => {
    const out = join(dir, 'subject');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/r2talker.js'), 'prepare', '--video', webm, '--out', out, '--size', '128'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(r.stderr).toMatch(/too short: 0\.8 s of usable frames, at least 20 s are needed/);
    expect(r.status).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('subject'))).toEqual([]);
  });
});
