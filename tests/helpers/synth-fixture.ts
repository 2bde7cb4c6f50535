/** Synthetic subjects generated once per test file into a temp folder. */
import { join } from 'node:path';
import { tempDir } from './temp-dirs.ts';
import { folderSink } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { SubjectWriter } from '../../worker/subject/writer.ts';
import { generateSubject, synthCamera, type SynthOptions } from '../../worker/synth/generate.ts';
import { createFramePool } from '../../worker/synth/frame-pool.node.ts';

/** Writes a synthetic subject; `jobs` > 1 renders in that many worker threads. */
export async function writeSynthSubject(options: SynthOptions, dir?: string, jobs = 1): Promise<string> {
  const out = dir ?? join(tempDir('synth-'), 'subject');
  const cam = synthCamera(options);
  const writer = new SubjectWriter(await folderSink(out), nodeImageCodec, { width: cam.width, height: cam.height, focal: cam.focal });
  const pool = jobs > 1 ? createFramePool(jobs) : null;
  try {
    await generateSubject(writer, cam, options, pool?.render, 2 * jobs);
  } finally {
    await pool?.close();
  }
  return out;
}
