/**
 * `r2talker train --backend webgpu` as a user runs it (a child process on a subject folder):
 * it trains, reaches the CPU backend's held-out PSNR on the same seed, and two runs with the
 * same seed write the same parameters (the GPU reductions and the grid scatter are
 * order-independent by construction); the torso stage then trains on the GPU from the head
 * run's checkpoint.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { folderSink } from '../../worker/subject/files.node.ts';
import { writeAnalyticSubject } from '../helpers/nerf-subject.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/r2talker.js');

function train(subject: string, out: string, backend: string, stage = ['--stage', 'head', '--iters', '12']): { code: number; stdout: string; stderr: string } {
  const args = ['train', '--data', subject, '--out', out, ...stage, '--preset', 'tiny', '--rays', '64', '--eval-frames', '1', '--seed', '3', '--backend', backend];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  // The Vulkan loader under SwiftShader complains on machines without a login session; not ours.
  const stderr = r.stderr.replace(/^error: XDG_RUNTIME_DIR is invalid or not set in the environment\.\n/gm, '');
  return { code: r.status ?? -1, stdout: r.stdout, stderr };
}

const psnrOf = (stdout: string) => Number(/held-out PSNR ([\d.]+) dB/.exec(stdout)?.[1]);

let dir: string;
let subject: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'r2t-train-webgpu-'));
  subject = join(dir, 'subject');
  await writeAnalyticSubject({ size: 32, frames: 24 }, await folderSink(subject));
});

describe('r2talker train --backend webgpu', () => {
  it('trains the head stage like the CPU backend, and repeats itself bit for bit', async () => {
    const runs = ['webgpu', 'webgpu', 'cpu'].map((backend, k) => {
      const out = join(dir, `${backend}-${k}.r2t`);
      const r = train(subject, out, backend);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/head: 12 steps, held-out PSNR [\d.]+ dB/);
      return { out, psnr: psnrOf(r.stdout) };
    });
    const [a, b, cpu] = await Promise.all(runs.map(async (r) => readAvatar(new Uint8Array(readFileSync(r.out)))));
    expect(a.provenance).toMatchObject({ source: 'trainer', preset: 'tiny', seed: 3, backend: 'webgpu', head_steps: 12 });
    expect(Math.abs(runs[0].psnr - runs[2].psnr)).toBeLessThan(0.2);
    for (const name of ['encoder.embeddings', 'sigma_net.net.0.weight', 'mlp_lms_style_1.net.0.weight', 'encoder_idexp_lm3d.embeddings']) {
      const ta = a.tensors.get(name)!;
      const tb = b.tensors.get(name)!;
      expect(Buffer.from(tb.data.buffer, tb.data.byteOffset, tb.data.byteLength).equals(Buffer.from(ta.data.buffer, ta.data.byteOffset, ta.data.byteLength)), name).toBe(true);
      expect(cpu.tensors.get(name)!.data.length).toBe(ta.data.length);
    }

    // --stage torso continues the first run from its checkpoint, on the GPU.
    const torso = train(subject, runs[0].out, 'webgpu', ['--stage', 'torso', '--iters', '4', '--resume']);
    expect(torso.stderr).toBe('');
    expect(torso.code).toBe(0);
    expect(torso.stdout).toMatch(/torso: 4 steps, held-out PSNR [\d.]+ dB/);
    const full = await readAvatar(new Uint8Array(readFileSync(runs[0].out)));
    expect(full.provenance).toMatchObject({ stages: 'head,torso', backend: 'webgpu', torso_steps: 4 });
    expect(a.tensors.has('torso_net.net.0.weight')).toBe(false);
    expect(full.tensors.has('torso_net.net.0.weight')).toBe(true);
    // The head is frozen in the torso stage.
    expect(full.tensors.get('sigma_net.net.0.weight')!.data).toEqual(a.tensors.get('sigma_net.net.0.weight')!.data);
  });
});
