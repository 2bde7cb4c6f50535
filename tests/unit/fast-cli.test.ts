/** `r2talker render --quality fast` as a user runs it: a child process, PNG frames out. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { demoLandmarkTrack } from '../../worker/avatar/synthetic.ts';
import { writeNpy } from '../../worker/io/npy.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILTIN = join(ROOT, 'assets/avatars/builtin.r2t');

function r2talker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/r2talker.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const rgb = (file: string) => PNG.sync.read(readFileSync(file)).data;

describe('r2talker render --quality', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r2t-fast-cli-'));

  it('fast renders a first frame within 40 dB of exact and says which mode ran', () => {
    writeFileSync(join(dir, 'talk.npy'), writeNpy({ dtype: 'float32', shape: [4, 68, 3], data: demoLandmarkTrack(4) }));
    const common = ['render', '--avatar', BUILTIN, '--landmarks', join(dir, 'talk.npy'), '--frames', '2', '--size', '48x48'];
    const fast = r2talker([...common, '--out', join(dir, 'fast'), '--quality', 'fast']);
    expect(fast.stderr).toBe('');
    expect(fast.code).toBe(0);
    expect(fast.stdout).toMatch(/cpu \(fast mode\)/);
    const exact = r2talker([...common, '--out', join(dir, 'exact')]);
    expect(exact.code).toBe(0);
    const a = rgb(join(dir, 'fast', 'frame_0000.png'));
    const b = rgb(join(dir, 'exact', 'frame_0000.png'));
    let se = 0;
    for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
    // The first frame marches every pixel; its error is the colour shared among light samples
    // and the weight left behind terminated rays (worker/model/fast-march.ts).
    expect(10 * Math.log10((255 * 255 * a.length) / Math.max(se, 1e-9))).toBeGreaterThanOrEqual(40);
  }, 240_000);

  it('rejects an unknown mode naming --quality', () => {
    const bad = r2talker(['render', '--avatar', BUILTIN, '--landmarks', join(dir, 'talk.npy'), '--out', join(dir, 'x'), '--quality', 'turbo']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--quality: expected "exact" or "fast", got "turbo"/);
    const backend = r2talker(['render', '--avatar', BUILTIN, '--landmarks', join(dir, 'talk.npy'), '--out', join(dir, 'y'), '--quality', 'fast', '--backend', 'metal']);
    expect(backend.code).not.toBe(0);
    expect(backend.stderr).toMatch(/--backend: expected "cpu" or "webgpu", got "metal"/);
  }, 240_000);
});
