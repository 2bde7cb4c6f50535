/** The `r2talker` command as a user runs it: a child process, files in, files out, exit codes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../worker/io/npy.ts';
import { generatedFixtures, torchUnavailable } from '../helpers/import-fixtures.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILTIN = join(ROOT, 'assets/avatars/builtin.r2t');

function r2talker(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/r2talker.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'r2t-cli-'));

describe('r2talker demo / render / info', () => {
  const dir = tmp();

  it('demo renders the built-in avatar into a talking WebM', () => {
    const r = r2talker(['demo', '--out', dir, '--frames', '1', '--size', '16x16', '--backend', 'cpu']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rendered 1 frames/);
    expect(readFileSync(join(dir, 'talk.webm')).subarray(0, 4)).toEqual(Buffer.from([0x1a, 0x45, 0xdf, 0xa3])); // EBML magic
  });

  it('info validates the built-in avatar and prints its configuration as JSON', () => {
    const r = r2talker(['info', '--avatar', BUILTIN, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.camera.width).toBe(192);
    expect(info.config.head.grid.gridType).toBe('tiled');
    expect(info.tensors.find((t: { name: string }) => t.name === 'encoder.embeddings').dtype).toBe('float16');
  });

  it('render writes frame_0000.png ... from a [T,204] landmark track, as many as --frames asks', () => {
    const out = join(dir, 'render');
    const track = new Float32Array(6 * 204).map((_, i) => 0.01 * Math.sin(i));
    writeFileSync(join(dir, 'flat.npy'), writeNpy({ dtype: 'float32', shape: [6, 204], data: track }));
    const r = r2talker(['render', '--avatar', BUILTIN, '--landmarks', join(dir, 'flat.npy'), '--out', out, '--frames', '2']);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['frame_0000.png', 'frame_0001.png']);
  });

  it('render rejects a landmark track of the wrong shape with exit code 2 and a message naming it', () => {
    writeFileSync(join(dir, 'bad.npy'), writeNpy({ dtype: 'float32', shape: [4, 67, 3], data: new Float32Array(4 * 67 * 3) }));
    const r = r2talker(['render', '--avatar', BUILTIN, '--landmarks', join(dir, 'bad.npy'), '--out', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[INPUT_FORMAT] landmarks: expected shape [T,68,3] or [T,204] with T >= 1, got [4,67,3]');
  });

  it('info rejects a corrupt avatar with exit code 2 and an AVATAR_FORMAT error', () => {
    const bytes = new Uint8Array(readFileSync(BUILTIN));
    writeFileSync(join(dir, 'cut.r2t'), bytes.subarray(0, bytes.length >> 1));
    const r = r2talker(['info', '--avatar', join(dir, 'cut.r2t')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^r2talker: error \[AVATAR_FORMAT\] /);
  });
});

describe.skipIf(torchUnavailable() !== null)('r2talker import', () => {
  it('imports a full-size official checkpoint written by torch.save with its subject folder', () => {
    const fx = generatedFixtures();
    const out = join(tmp(), 'best.r2t');
    const r = r2talker(['import', '--ckpt', join(fx, 'best.pth'), '--data', fx, '--landmarks', join(fx, 'landmarks.npy'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(r2talker(['info', '--avatar', out, '--json']).stdout);
    expect(info.config.head.grid.offsets.at(-1)).toBe(1_018_984);
    expect(info.config.torso.grid.offsets.at(-1)).toBe(555_520);
    expect(info.landmarkStats.frames).toBeGreaterThan(1);
    expect(info.provenance.source).toBe('import');
  });

  it('refuses a checkpoint with a wrong-shaped layer, naming the key and both shapes', () => {
    const fx = generatedFixtures();
    const r = r2talker(['import', '--ckpt', join(fx, 'badshape.pth'), '--data', fx, '--out', join(tmp(), 'bad.r2t')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('model.sigma_net.net.0.weight: expected shape [64,65] or [64,64], got [64,66]');
  });

  it('says which subject file is missing when --data has no background', () => {
    const fx = generatedFixtures();
    const empty = tmp();
    writeFileSync(join(empty, 'transforms_val.json'), readFileSync(join(fx, 'transforms_val.json')));
    const r = r2talker(['import', '--ckpt', join(fx, 'best.pth'), '--data', empty, '--out', join(empty, 'a.r2t')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--background: no background given and none found in --data (bc.jpg, bc.png)');
  });
});
