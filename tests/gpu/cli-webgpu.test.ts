/**
 * `r2talker render --backend webgpu` in Node (the `webgpu` package over SwiftShader here): the
 * PNG frames it writes match the CPU backend's for the same avatar and landmark track.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../worker/io/image.node.ts';
import { writeNpy } from '../../worker/io/npy.ts';
import { demoLandmarkTrack, makeDemoAvatar } from '../../worker/avatar/synthetic.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function r2talker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/r2talker.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('r2talker render --backend webgpu', () => {
  it('writes the same frames as the CPU backend (PSNR >= 45 dB, no pixel off by more than 2 levels)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'r2t-cli-gpu-'));
    writeFileSync(join(dir, 'demo.r2t'), writeAvatar(makeDemoAvatar(), { weightDtype: 'float16' }));
    // From the demo's own talking track: its most closed and most open mouth (inner-lip gap,
    // landmarks 62/66), so the two frames differ and both backends must follow the landmarks.
    const T = 100;
    const rows = demoLandmarkTrack(T);
    const gap = (t: number) => Math.abs(rows[t * 204 + 66 * 3 + 1] - rows[t * 204 + 62 * 3 + 1]);
    let closed = 0;
    let open = 0;
    for (let t = 0; t < T; t++) {
      if (gap(t) < gap(closed)) closed = t;
      if (gap(t) > gap(open)) open = t;
    }
    const track = new Float32Array(2 * 204);
    track.set(rows.subarray(closed * 204, closed * 204 + 204), 0);
    track.set(rows.subarray(open * 204, open * 204 + 204), 204);
    writeFileSync(join(dir, 'track.npy'), writeNpy({ dtype: 'float32', shape: [2, 204], data: track }));
    const outs: Record<string, string> = {};
    for (const backend of ['cpu', 'webgpu']) {
      outs[backend] = join(dir, backend);
      const r = r2talker(['render', '--avatar', join(dir, 'demo.r2t'), '--landmarks', join(dir, 'track.npy'), '--out', outs[backend], '--frames', '2', '--backend', backend]);
      expect(r.code, r.stderr).toBe(0);
      if (backend === 'webgpu') expect(r.stdout).toMatch(/rendered 2 frames \(256x256\) with webgpu \(.*fused kernels, \d+ point\(s\) per invocation, (batch|stepwise) compositing\)/);
      expect(readdirSync(outs[backend]).sort()).toEqual(['frame_0000.png', 'frame_0001.png']);
    }
    const frame = (backend: string, name: string) => decodeImage(new Uint8Array(readFileSync(join(outs[backend], name))));
    const compare = (a: ReturnType<typeof frame>, b: ReturnType<typeof frame>) => {
      expect([b.width, b.height]).toEqual([a.width, a.height]);
      let se = 0;
      let worst = 0;
      for (let i = 0; i < a.rgb.length; i++) {
        const d = Math.abs(a.rgb[i] - b.rgb[i]);
        se += d * d;
        worst = Math.max(worst, d);
      }
      return { psnr: 10 * Math.log10((255 * 255) / Math.max(se / a.rgb.length, 1e-12)), worst };
    };
    for (const name of ['frame_0000.png', 'frame_0001.png']) {
      const { psnr, worst } = compare(frame('cpu', name), frame('webgpu', name));
      expect(psnr, name).toBeGreaterThanOrEqual(45);
      expect(worst, name).toBeLessThanOrEqual(2);
    }
    // The two frames differ (the open mouth), so matching them is not matching a still image.
    expect(compare(frame('cpu', 'frame_0000.png'), frame('cpu', 'frame_0001.png')).psnr).toBeLessThan(40);
  });
});
