import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mixCorpus } from '../../scripts/corpus/mix-corpus.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function corpus(prefix: string, n: number, split = 'train'): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), `mix-${prefix}-`));
  dirs.push(d);
  const clips = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${String(i).padStart(5, '0')}`;
    await writeFile(path.join(d, `${id}.wav`), `wav ${id}`);
    await writeFile(path.join(d, `${id}.npy`), `npy ${id}`);
    clips.push({ id, wav: `${id}.wav`, landmarks: `${id}.npy`, frames: 10 + i, source: 'espeak-ng' });
  }
  await writeFile(path.join(d, 'manifest.json'), JSON.stringify({ kind: 'r2talker-speech-corpus', split, space: 'template', rest: [0, 0], clips }));
  return d;
}

describe('mix-corpus (half of one split, half of another, as links)', () => {
  it('keeps every n-th clip of each part, links the files, and writes one manifest', async () => {
    const a = await corpus('train', 6);
    const b = await corpus('wide', 6);
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'mix-out-')), 'mix');
    dirs.push(path.dirname(out));
    const m = await mixCorpus(out, [{ dir: a, every: 2, offset: 0 }, { dir: b, every: 2, offset: 1 }]);
    expect(m.clips.map((c) => c.id)).toEqual(['train-00000', 'train-00002', 'train-00004', 'wide-00001', 'wide-00003', 'wide-00005']);
    const onDisk = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    expect(onDisk.clips).toHaveLength(6);
    expect(onDisk.clips[3]).toMatchObject({ wav: 'wide-00001.wav', landmarks: 'wide-00001.npy', frames: 11, source: 'espeak-ng' });
    expect(await readFile(path.join(out, 'wide-00001.npy'), 'utf8')).toBe('npy wide-00001');
    expect(await readlink(path.join(out, 'train-00002.wav'))).toBe(path.join(a, 'train-00002.wav'));
  });

  it('refuses a held-out corpus, clashing clip ids and a bad stride', async () => {
    const a = await corpus('train', 4);
    const h = await corpus('heldout', 4, 'heldout');
    const out = path.join(os.tmpdir(), `mix-refused-${process.pid}`);
    dirs.push(out);
    await expect(mixCorpus(out, [{ dir: h, every: 1, offset: 0 }])).rejects.toThrow(/held-out corpus is never mixed/);
    await expect(mixCorpus(out, [{ dir: a, every: 2, offset: 0 }, { dir: a, every: 2, offset: 0 }])).rejects.toThrow(/clip id train-00000 is in two parts/);
    await expect(mixCorpus(out, [{ dir: a, every: 2, offset: 2 }])).rejects.toThrow(/0 <= offset < every/);
  });
});
