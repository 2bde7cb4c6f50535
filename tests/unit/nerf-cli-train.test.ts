/**
 * `r2talker train` as a user runs it: a child process on a subject folder. It trains and
 * writes a playable .r2t; a corrupt subject fails before the first step with a message
 * naming the file and leaves no output; Ctrl-C leaves a checkpoint that --resume finishes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { folderSink } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { writeAnalyticSubject } from '../helpers/nerf-subject.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/r2talker.js');

function r2talker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let subject: string;
const fast = ['--preset', 'tiny', '--rays', '64', '--eval-frames', '1', '--seed', '3'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'r2t-train-'));
  subject = join(dir, 'subject');
  await writeAnalyticSubject({ size: 32, frames: 24 }, await folderSink(subject));
});

describe('r2talker train', () => {
  it('trains the head stage and writes an .r2t with provenance', async () => {
    const out = join(dir, 'a.r2t');
    const preview = join(dir, 'preview');
    const r = r2talker(['train', '--data', subject, '--out', out, '--stage', 'head', '--iters', '12', '--preview', preview, '--preview-every', '6', ...fast]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/head: 12 steps, held-out PSNR [\d.]+ dB/);
    const avatar = await readAvatar(new Uint8Array(readFileSync(out)));
    expect(avatar.provenance).toMatchObject({ source: 'trainer', preset: 'tiny', seed: 3, backend: 'cpu', head_steps: 12 });
    expect(avatar.config.torso).toBeNull();
    expect(existsSync(`${out}.ckpt`)).toBe(true);
    // Previews: a held-out frame as PNG at steps 6 and 12, at the subject's size.
    expect(readdirSync(preview).sort()).toEqual(['head_0000006.png', 'head_0000012.png']);
    const png = nodeImageCodec.decode(new Uint8Array(readFileSync(join(preview, 'head_0000012.png'))), 'preview');
    expect([png.width, png.height]).toEqual([32, 32]);
  });

  it('--prior builtin starts the head from the built-in avatar and records it', async () => {
    const out = join(dir, 'p.r2t');
    const r = r2talker(['train', '--data', subject, '--out', out, '--stage', 'head', '--iters', '2', '--prior', 'builtin', ...fast]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await readAvatar(new Uint8Array(readFileSync(out)))).provenance.prior).toBe('R2 Talker built-in (synthetic person)');
  });

  it('fails on a corrupt subject naming the file, and writes nothing', () => {
    const bad = join(dir, 'bad');
    cpSync(subject, bad, { recursive: true });
    rmSync(join(bad, 'gt_imgs', '5.jpg'));
    const out = join(dir, 'bad.r2t');
    const r = r2talker(['train', '--data', bad, '--out', out, ...fast]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gt_imgs\/5\.jpg/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.ckpt`)).toBe(false);

    writeFileSync(join(bad, 'gt_imgs', '5.jpg'), Buffer.from('not a jpeg at all'));
    const r2 = r2talker(['train', '--data', bad, '--out', out, ...fast]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/gt_imgs\/5\.jpg/);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects bad options with a message naming the option', () => {
    for (const [args, re] of [
      [['--preset', 'huge'], /--preset/],
      [['--stage', 'ears'], /--stage/],
      [['--iters', '-3'], /--iters/],
      [['--backend', 'tpu'], /--backend/],
      [['--prior', join(dir, 'none.r2t')], /--prior: cannot read .*none\.r2t \(ENOENT\)/],
      [['--prior', 'builtin', '--preset', 'small'], /the prior avatar \(R2 Talker built-in \(synthetic person\)\): .* it was made with another preset/],
    ] as const) {
      const r = r2talker(['train', '--data', subject, '--out', join(dir, 'x.r2t'), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    expect(existsSync(join(dir, 'x.r2t'))).toBe(false);
  });

  it('Ctrl-C leaves a checkpoint and no .r2t; --resume completes the stage', async () => {
    const out = join(dir, 'c.r2t');
    const args = [BIN, 'train', '--data', subject, '--out', out, '--stage', 'head', '--iters', '200', '--progress', ...fast];
    const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no progress seen: ${stderr}`)), 120_000);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (/head\s+\[.*\] [1-9]\d*\/200/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // The terminal sends Ctrl-C to the whole foreground process group.
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted at head step \d+; resume with --resume/);
    expect(existsSync(`${out}.ckpt`)).toBe(true);
    expect(existsSync(out)).toBe(false);
    const r = r2talker(['train', '--data', subject, '--out', out, '--stage', 'head', '--iters', '200', '--resume', ...fast]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/head: 200 steps/);
    expect(existsSync(out)).toBe(true);
  });
});
