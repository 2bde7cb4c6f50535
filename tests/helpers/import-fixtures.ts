/**
 * Real-PyTorch fixtures for the importer tests, generated on demand by
 * scripts/make_checkpoint.py into tests/fixtures/generated/<script hash>/ (gitignored).
 * Test files may run in parallel: each generates into a private temp folder and renames it
 * into place, so a reader never sees a half-written set.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Avatar } from '../../worker/avatar/types.ts';
import { importCheckpoint, type ImportInputs } from '../../worker/import/importer.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { readNpy } from '../../worker/io/npy.ts';

export const PYTHON = '/usr/bin/python3';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/make_checkpoint.py');
const BASE = join(ROOT, 'tests/fixtures/generated');
export const TINY_DIR = join(ROOT, 'tests/fixtures/checkpoint-tiny');

let torchState: string | null | undefined;

/** null when `import torch` works, else why not (the tests that need it are skipped). */
export function torchUnavailable(): string | null {
  if (torchState === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 120_000 });
    torchState = r.status === 0 ? null : `python3-torch is not importable by ${PYTHON} (${(r.stderr || String(r.error)).trim().split('\n').pop()}); run scripts/setup.sh`;
  }
  return torchState;
}

/** The folder holding every generated variant, creating it when the script changed. */
export function generatedFixtures(): string {
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
  const dir = join(BASE, hash);
  if (existsSync(join(dir, 'DONE'))) return dir;
  mkdirSync(BASE, { recursive: true });
  const tmp = join(BASE, `${hash}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const r = spawnSync(PYTHON, [SCRIPT, '--out', tmp], { encoding: 'utf8', timeout: 280_000 });
  if (r.status !== 0) throw new Error(`make_checkpoint.py failed: ${r.stderr || r.error}`);
  writeFileSync(join(tmp, 'DONE'), '');
  try {
    renameSync(tmp, dir);
  } catch {
    // Another worker won the race; its copy is identical.
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const old of readdirSync(BASE)) {
    if (old !== hash && !old.includes('.tmp-')) rmSync(join(BASE, old), { recursive: true, force: true });
  }
  return dir;
}

export function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** The generated subject folder's importer inputs (everything but the checkpoint). */
export function fixtureSubject(dir: string): Omit<ImportInputs, 'checkpoint'> {
  return {
    transforms: JSON.parse(readFileSync(join(dir, 'transforms_val.json'), 'utf8')),
    background: decodeImage(readBytes(join(dir, 'bc.png'))),
    landmarks: readNpy(readBytes(join(dir, 'landmarks.npy'))).data as Float32Array,
  };
}

/** A generated checkpoint variant (e.g. 'full') imported with its subject folder. */
export function importedFixture(variant: string): Avatar {
  const dir = generatedFixtures();
  return importCheckpoint({ ...fixtureSubject(dir), checkpoint: readBytes(join(dir, `${variant}.pth`)) });
}
