/**
 * The photograph's ground-truth subject (tests/helpers/photo-subject.ts), which the training proof's
 * PROOF_SOURCE=photo trains against what prepare makes of its frames: it must open as a subject,
 * carry the split asked for, and its truths must agree with its own pixels (the landmarks on the
 * head's label, the neck visible between chin and shoulders, torso images holding neck and torso).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderFiles } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { parsingLabels, PARSING_LABEL } from '../../worker/subject/layout.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { writePhotoSubject } from '../helpers/photo-subject.ts';

const SIZE = 96;

describe('the photograph\'s ground-truth subject', () => {
  const dir = mkdtempSync(join(tmpdir(), 'photo-subject-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens as a subject whose landmarks, parsing and torso images agree with its frames', async () => {
    const out = join(dir, 'truth');
    const { focal } = await writePhotoSubject(out, { size: SIZE, frames: 12, valFrames: 3 });
    expect(focal).toBeCloseTo(1.3 * SIZE, 6);
    const files = folderFiles(out);
    const decode = async (path: string) => {
      const bytes = await files.read(path);
      if (!bytes) throw new Error(`${path} is missing`);
      return nodeImageCodec.decode(bytes, path);
    };
    const subject = await openSubject(files, nodeImageCodec);
    expect(subject.splits.train!.frames).toHaveLength(9);
    expect(subject.splits.val!.frames.map((f) => f.imgId)).toEqual([9, 10, 11]);
    for (const f of [...subject.splits.train!.frames, ...subject.splits.val!.frames]) {
      const labels = parsingLabels((await decode(`parsing/${f.imgId}.png`)).data, 3);
      const at = (k: number) => labels[Math.round(f.lms[k * 2 + 1]) * SIZE + Math.round(f.lms[k * 2])];
      // Nose tip, eye corners and mouth on the head; the neck shows under the chin.
      for (const k of [30, 36, 45, 51, 57]) expect(at(k)).toBe(PARSING_LABEL.head);
      const counts = [0, 1, 2, 3].map((c) => labels.filter((l) => l === c).length);
      expect(Math.min(...counts)).toBeGreaterThan(0);
      const chin = [Math.round(f.lms[16]), Math.round(f.lms[17])];
      let y = chin[1];
      while (y < SIZE && labels[y * SIZE + chin[0]] === PARSING_LABEL.head) y++;
      expect(labels[y * SIZE + chin[0]]).toBe(PARSING_LABEL.neck);
    }
    const torso = await decode('torso_imgs/0.png');
    const labels0 = parsingLabels((await decode('parsing/0.png')).data, 3);
    for (let i = 0; i < SIZE * SIZE; i++) {
      if (labels0[i] === PARSING_LABEL.neck || labels0[i] === PARSING_LABEL.torso) expect(torso.data[i * 4 + 3]).toBe(255);
      if (labels0[i] === PARSING_LABEL.background) expect(torso.data[i * 4 + 3]).toBe(0);
    }
  }, 60_000);
});
