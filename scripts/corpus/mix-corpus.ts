/**
 * A training corpus folder made of parts of others, as links (no audio is copied):
 *   npx tsx scripts/corpus/mix-corpus.ts --out /tmp/r2c16/espeak-mix --take /tmp/r2corpus/train:2:0 --take /tmp/r2c16/wide:2:0
 * `--take <dir>:<every>:<offset>` keeps clips offset, offset+every, ... of that corpus (in manifest order).
 * Why (issue 12): to change which voices a source's clips come from without changing how many
 * clips of that source the trainer samples (the mix of sources stays as it was), e.g. half of
 * eSpeak NG's train split and half of its wide split. Clip ids must not clash between parts.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../worker/errors.ts';

interface Clip { id: string; wav: string; landmarks: string; frames: number; source: string }
interface Manifest { kind: string; split: string; space: string; rest: number[]; clips: Clip[]; [k: string]: unknown }

export async function mixCorpus(out: string, takes: { dir: string; every: number; offset: number }[]): Promise<Manifest> {
  if (takes.length === 0) throw new ConfigError('--take: expected at least one <dir>:<every>:<offset>');
  const clips: Clip[] = [];
  let first: Manifest | null = null;
  for (const t of takes) {
    if (!Number.isInteger(t.every) || t.every < 1 || !Number.isInteger(t.offset) || t.offset < 0 || t.offset >= t.every) {
      throw new ConfigError(`--take ${t.dir}: expected every >= 1 and 0 <= offset < every, got ${t.every}:${t.offset}`);
    }
    const file = path.join(t.dir, 'manifest.json');
    if (!existsSync(file)) throw new ConfigError(`--take ${t.dir}: no manifest.json`);
    const m = JSON.parse(await readFile(file, 'utf8')) as Manifest;
    if (m.kind !== 'r2talker-speech-corpus') throw new ConfigError(`${file}: not a speech corpus`);
    if (m.split === 'heldout') throw new ConfigError(`${file}: a held-out corpus is never mixed into training data`);
    if (first && (m.space !== first.space || m.rest.length !== first.rest.length)) throw new ConfigError(`${file}: another landmark space than ${takes[0].dir}`);
    first ??= m;
    for (const c of m.clips.filter((_, i) => i % t.every === t.offset)) clips.push({ ...c, wav: path.resolve(t.dir, c.wav), landmarks: path.resolve(t.dir, c.landmarks) });
  }
  const ids = new Set<string>();
  for (const c of clips) {
    if (ids.has(c.id)) throw new ConfigError(`clip id ${c.id} is in two parts`);
    ids.add(c.id);
  }
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const linked = [];
  for (const c of clips) {
    const wav = `${c.id}${path.extname(c.wav)}`;
    const landmarks = `${c.id}.npy`;
    await symlink(c.wav, path.join(out, wav));
    await symlink(c.landmarks, path.join(out, landmarks));
    linked.push({ ...c, wav, landmarks });
  }
  const manifest: Manifest = { ...first!, split: 'mix', count: linked.length, mixedFrom: takes, clips: linked };
  await writeFile(path.join(out, 'manifest.json.partial'), JSON.stringify(manifest, null, 1));
  await rename(path.join(out, 'manifest.json.partial'), path.join(out, 'manifest.json'));
  return manifest;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, take: { type: 'string', multiple: true, default: [] } } });
  if (!values.out) throw new ConfigError('--out: expected the output folder');
  const takes = values.take.map((t) => {
    const m = /^(.+):(\d+):(\d+)$/.exec(t);
    if (!m) throw new ConfigError(`--take: expected <dir>:<every>:<offset>, got ${JSON.stringify(t)}`);
    return { dir: path.resolve(m[1]), every: Number(m[2]), offset: Number(m[3]) };
  });
  const m = await mixCorpus(path.resolve(values.out), takes);
  const frames = m.clips.reduce((a, c) => a + c.frames, 0);
  process.stdout.write(`wrote ${m.clips.length} clips (${frames} frames) to ${values.out}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e: unknown) => {
    process.stderr.write(`mix-corpus: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
