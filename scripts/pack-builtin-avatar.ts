/**
 * Last step of scripts/make-builtin-avatar.sh: takes the avatar the trainer wrote (float32
 * weights) and writes the shipped built-in avatar: float16 weights (half the size; the
 * renderers widen them on load), its display name, and provenance saying how it was made, so
 * `r2talker info` on the shipped file tells anyone how to regenerate it.
 *
 * Usage: tsx scripts/pack-builtin-avatar.ts <trained.r2t> <out.r2t> <key=value>...
 * PACK_NAME, PACK_REGENERATE and PACK_MAX_BYTES pack another shipped avatar the same way
 * (scripts/make-bench-avatar.sh: the trained bench avatar, no built-in size limit).
 */
import { readFile, stat } from 'node:fs/promises';
import { MAX_BUILTIN_AVATAR_BYTES } from '../worker/avatar/builtin.ts';
import { readAvatar } from '../worker/avatar/reader.ts';
import { writeAvatar } from '../worker/avatar/writer.ts';
import { writeFileAtomic } from '../cli/files.ts';

const [input, output, ...pairs] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: tsx scripts/pack-builtin-avatar.ts <trained.r2t> <out.r2t> [key=value ...]\n');
  process.exit(2);
}
const extra: Record<string, string> = {};
for (const p of pairs) {
  const eq = p.indexOf('=');
  if (eq <= 0) {
    process.stderr.write(`pack-builtin-avatar: expected key=value, got ${JSON.stringify(p)}\n`);
    process.exit(2);
  }
  extra[p.slice(0, eq)] = p.slice(eq + 1);
}

const trained = await readAvatar(new Uint8Array(await readFile(input)));
if (!trained.landmarkStats) {
  // Without its own statistics the engine would fall back to running statistics, and the
  // default generator's landmarks could not be retargeted onto this face.
  process.stderr.write(`pack-builtin-avatar: ${input} carries no landmark statistics; train it with r2talker train\n`);
  process.exit(2);
}
const bytes = writeAvatar(
  {
    ...trained,
    name: process.env.PACK_NAME ?? 'R2 Talker built-in (synthetic person)',
    provenance: { ...trained.provenance, ...(process.env.PACK_NAME ? {} : { builtin: true }), regenerate: process.env.PACK_REGENERATE ?? 'bash scripts/make-builtin-avatar.sh', ...extra },
  },
  { weightDtype: 'float16' },
);
const maxBytes = process.env.PACK_MAX_BYTES ? Number(process.env.PACK_MAX_BYTES) : MAX_BUILTIN_AVATAR_BYTES;
if (bytes.length > maxBytes) {
  process.stderr.write(`pack-builtin-avatar: ${bytes.length} bytes is over the limit of ${maxBytes}; train a smaller preset\n`);
  process.exit(2);
}
await writeFileAtomic(output, bytes);
const before = (await stat(input)).size;
process.stdout.write(`packed ${input} (${before} bytes, float32) -> ${output} (${bytes.length} bytes, float16)\n`);
