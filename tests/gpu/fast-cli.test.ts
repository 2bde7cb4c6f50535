/**
 * `r2talker render --quality fast --backend webgpu` as a user runs it: the frames match the CPU
 * backend's fast mode (the same decisions from the same numbers) for a talking track.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/r2talker.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('r2talker render --quality fast --backend webgpu', () => {
  it('writes the CPU fast mode\'s frames (PSNR >= 45 dB) and says it ran fast mode on WebGPU', () => {
    const dir = mkdtempSync(join(tmpdir(), 'r2t-fast-cli-gpu-'));
    writeFileSync(join(dir, 'demo.r2t'), writeAvatar(makeDemoAvatar(), { weightDtype: 'float16' }));
    writeFileSync(join(dir, 'talk.npy'), writeNpy({ dtype: 'float32', shape: [3, 204], data: demoLandmarkTrack(3) }));
    const common = ['render', '--avatar', join(dir, 'demo.r2t'), '--landmarks', join(dir, 'talk.npy'), '--frames', '3', '--size', '48x48', '--quality', 'fast'];
    const gpu = r2talker([...common, '--out', join(dir, 'gpu'), '--backend', 'webgpu']);
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(gpu.stdout).toMatch(/with webgpu \(fast mode\)/);
    const cpu = r2talker([...common, '--out', join(dir, 'cpu'), '--backend', 'cpu']);
    expect(cpu.code, cpu.stderr).toBe(0);
    for (const name of ['frame_0000.png', 'frame_0001.png', 'frame_0002.png']) {
      const a = decodeImage(new Uint8Array(readFileSync(join(dir, 'cpu', name))));
      const b = decodeImage(new Uint8Array(readFileSync(join(dir, 'gpu', name))));
      let se = 0;
      for (let i = 0; i < a.rgb.length; i++) se += (a.rgb[i] - b.rgb[i]) ** 2;
      expect(10 * Math.log10((255 * 255 * a.rgb.length) / Math.max(se, 1e-9)), name).toBeGreaterThanOrEqual(45);
    }
  }, 600_000);
});
