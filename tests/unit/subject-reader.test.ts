import { copyFileSync, cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../helpers/temp-dirs.ts';
import { FormatError } from '../../worker/errors.ts';
import { writeNpy } from '../../worker/io/npy.ts';
import { convertPose } from '../../worker/import/transforms.ts';
import { folderFiles, folderSink } from '../../worker/subject/files.node.ts';
import { SubjectWriter } from '../../worker/subject/writer.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { PARSING_LABEL } from '../../worker/subject/layout.ts';
import { eyeAspectRatio, faceRect, lipsRect } from '../../worker/subject/lms.ts';
import { openSubject } from '../../worker/subject/reader.ts';
import { FIXTURE_SIZE, fixtureCondition, fixtureLms, fixtureTransform, writeFixtureSubject } from '../helpers/subject-fixture.ts';

let pristine: string;

afterAll(removeTempDirs);

beforeAll(async () => {
  pristine = await writeFixtureSubject(6);
});

/** A private copy of the fixture subject that a test may damage. */
function copy(): string {
  const dir = join(tempDir('subject-bad-'), 's');
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

async function openError(dir: string): Promise<FormatError> {
  try {
    await openSubject(folderFiles(dir), nodeImageCodec);
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('openSubject accepted a broken subject');
}

describe('openSubject on a subject written by SubjectWriter', () => {
  it('returns both splits with the reference split, poses, landmarks, rects and condition of every frame', async () => {
    const s = await openSubject(folderFiles(pristine), nodeImageCodec);
    expect(s.width).toBe(FIXTURE_SIZE);
    expect(s.height).toBe(FIXTURE_SIZE);
    expect(s.camera.fx).toBe(20);
    const train = s.splits.train!;
    const val = s.splits.val!;
    // int(6*10/11) = 5 training frames, 1 validation frame.
    expect(train.frames.map((f) => f.imgId)).toEqual([0, 1, 2, 3, 4]);
    expect(val.frames.map((f) => f.imgId)).toEqual([5]);
    for (const f of [...train.frames, ...val.frames]) {
      const k = f.imgId;
      expect(Array.from(f.transform)).toEqual(fixtureTransform(k).map(Math.fround));
      const expectPose = new Float32Array(16);
      convertPose(fixtureTransform(k), expectPose, 0);
      expect(Array.from(f.pose)).toEqual(Array.from(expectPose));
      expect(Array.from(f.lms)).toEqual(Array.from(fixtureLms(k)).map((v) => Math.fround(Number(v.toFixed(6)))));
      expect(Array.from(f.condition)).toEqual(Array.from(fixtureCondition(k)));
      expect(f.faceRect).toEqual(faceRect(f.lms));
      expect(f.lipsRect).toEqual(lipsRect(f.lms, FIXTURE_SIZE, FIXTURE_SIZE));
    }
    // Frame 0 has no eye_ratio in the transforms: it falls back to the landmarks' eye aspect ratio.
    expect(train.frames[0].eyeSource).toBe('lms');
    expect(train.frames[0].eyeRatio).toBeCloseTo(eyeAspectRatio(train.frames[0].lms), 6);
    expect(train.frames[3].eyeSource).toBe('transforms');
    expect(train.frames[3].eyeRatio).toBeCloseTo(0.23, 6);
  });

  it('loads pixels lazily: RGB frames, RGBA torso, parsing labels and the background', async () => {
    const s = await openSubject(folderFiles(pristine), nodeImageCodec);
    const f = s.splits.train!.frames[2];
    const torso = await s.loadTorso(f);
    expect(torso.channels).toBe(4);
    const half = (FIXTURE_SIZE * FIXTURE_SIZE) / 2;
    expect(torso.data[3]).toBe(0);
    expect(torso.data[half * 4 + 3]).toBe(255);
    const labels = await s.loadParsing(f);
    expect(labels[0]).toBe(PARSING_LABEL.head);
    expect(labels[labels.length - 1]).toBe(PARSING_LABEL.background);
    const ori = await s.loadImage(f, 'ori');
    expect(ori.channels).toBe(3);
    expect(ori.width).toBe(FIXTURE_SIZE);
    const bg = await s.loadBackground();
    // JPEG is lossy: a flat colour comes back within a level or two.
    expect(Math.abs(bg.data[0] - 40)).toBeLessThanOrEqual(2);
    expect(Math.abs(bg.data[2] - 60)).toBeLessThanOrEqual(2);
  });

  it('falls back to aud_idexp.npy indexed by aud_id when the per-split file is absent', async () => {
    const dir = copy();
    rmSync(join(dir, 'aud_idexp_val.npy'));
    const s = await openSubject(folderFiles(dir), nodeImageCodec);
    expect(Array.from(s.splits.val!.frames[0].condition)).toEqual(Array.from(fixtureCondition(5)));
  });

  it('reports progress and can open one split with header-only checks', async () => {
    const seen: number[] = [];
    const s = await openSubject(folderFiles(pristine), nodeImageCodec, { splits: ['val'], check: 'headers', onProgress: (d, t) => seen.push(d / t) });
    expect(s.splits.train).toBeUndefined();
    expect(s.splits.val!.frames).toHaveLength(1);
    expect(seen.at(-1)).toBe(1);
  });
});

describe('openSubject refuses a broken subject with an error naming the file', () => {
  it('a missing image', async () => {
    const dir = copy();
    rmSync(join(dir, 'gt_imgs/3.jpg'));
    expect((await openError(dir)).message).toBe(`${dir}/gt_imgs/3.jpg: missing`);
  });

  it('a truncated JPEG', async () => {
    const dir = copy();
    const p = join(dir, 'ori_imgs/1.jpg');
    writeFileSync(p, readFileSync(p).subarray(0, 200));
    expect((await openError(dir)).field).toBe(`${dir}/ori_imgs/1.jpg`);
  });

  it('an image of the wrong size', async () => {
    const dir = copy();
    const bigger = await writeFixtureSubject(2, FIXTURE_SIZE * 2);
    copyFileSync(join(bigger, 'parsing/0.png'), join(dir, 'parsing/2.png'));
    expect((await openError(dir)).message).toBe(`${dir}/parsing/2.png: is 32x32, expected 16x16 (2*cx x 2*cy of the transforms)`);
  });

  it('a torso image without alpha', async () => {
    const dir = copy();
    copyFileSync(join(dir, 'parsing/0.png'), join(dir, 'torso_imgs/4.png'));
    expect((await openError(dir)).message).toContain(`${dir}/torso_imgs/4.png: expected an RGBA PNG`);
  });

  it('a .lms with a missing line or a NaN', async () => {
    const dir = copy();
    const p = join(dir, 'ori_imgs/2.lms');
    const lines = readFileSync(p, 'utf8').trim().split('\n');
    writeFileSync(p, lines.slice(0, 67).join('\n'));
    expect((await openError(dir)).message).toBe(`${dir}/ori_imgs/2.lms: expected 68 lines of "x y", got 67 lines`);
    lines[10] = 'nan 3.0';
    writeFileSync(p, lines.join('\n'));
    expect((await openError(dir)).field).toBe(`${dir}/ori_imgs/2.lms line 11`);
  });

  it('a NaN in the landmark condition', async () => {
    const dir = copy();
    const data = new Float32Array(5 * 204);
    data[204 * 2 + 3 * 7 + 1] = NaN;
    writeFileSync(join(dir, 'aud_idexp_train.npy'), writeNpy({ dtype: 'float32', shape: [5, 68, 3], data }));
    expect((await openError(dir)).message).toBe(`${dir}/aud_idexp_train.npy: frame 2 landmark 7 is NaN (expected finite values)`);
  });

  it('a condition whose frame count disagrees with the transforms', async () => {
    const dir = copy();
    writeFileSync(join(dir, 'aud_idexp_train.npy'), writeNpy({ dtype: 'float32', shape: [4, 68, 3], data: new Float32Array(4 * 204) }));
    expect((await openError(dir)).message).toBe(`${dir}/aud_idexp_train.npy: has 4 frames but transforms_train.json has 5`);
  });

  it('no condition file at all', async () => {
    const dir = copy();
    for (const f of ['aud_idexp_val.npy', 'aud_idexp.npy']) rmSync(join(dir, f));
    expect((await openError(dir)).field).toBe(`${dir}/aud_idexp_val.npy`);
  });

  it('transforms that are not JSON, lack a field, or disagree on the camera', async () => {
    const dir = copy();
    const p = join(dir, 'transforms_val.json');
    const good = JSON.parse(readFileSync(p, 'utf8'));
    writeFileSync(p, '{"focal_len": ');
    expect((await openError(dir)).message).toMatch(new RegExp(`^${dir}/transforms_val.json: not valid JSON`));
    writeFileSync(p, JSON.stringify({ ...good, frames: [{ ...good.frames[0], img_id: -1 }] }));
    expect((await openError(dir)).message).toBe(`${dir}/transforms_val.json: frames[0].img_id: expected an integer in [0, 10000000], got -1`);
    writeFileSync(p, JSON.stringify({ ...good, focal_len: 21 }));
    expect((await openError(dir)).message).toContain(`${dir}/transforms_val.json: camera (focal_len 21`);
    writeFileSync(p, JSON.stringify({ ...good, frames: [{ ...good.frames[0], transform_matrix: [[1, 0, 0]] }] }));
    expect((await openError(dir)).field).toBe(`${dir}/transforms_val.json`);
  });

  it('a missing background', async () => {
    const dir = copy();
    rmSync(join(dir, 'bc.jpg'));
    expect((await openError(dir)).message).toBe(`${dir}/bc.jpg: missing`);
  });
});

describe('SubjectWriter output is atomic', () => {
  it('leaves no folder and no partial folder when a frame is rejected', async () => {
    const parent = tempDir('subject-atomic-');
    const out = join(parent, 'subject');
    const w = new SubjectWriter(await folderSink(out), nodeImageCodec, { width: 16, height: 16, focal: 20 });
    await w.writeBackground({ width: 16, height: 16, channels: 3, data: new Uint8Array(768) });
    const img = { width: 16, height: 16, channels: 3 as const, data: new Uint8Array(768) };
    const bad = { width: 8, height: 8, channels: 4 as const, data: new Uint8Array(256) };
    await expect(
      w.addFrame({ split: 'train', imgId: 0, audId: 0, transform: fixtureTransform(0), lms: fixtureLms(0), condition: fixtureCondition(0), ori: img, gt: img, parsing: img, torso: bad }),
    ).rejects.toThrow('frame img_id 0.torso: expected 16x16, got 8x8');
    expect(readdirSync(parent)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses to start over an existing folder unless told to overwrite', async () => {
    await expect(folderSink(pristine)).rejects.toThrow(`${pristine}: already exists`);
    const dir = copy();
    const sink = await folderSink(dir, { overwrite: true });
    await sink.write('only.txt', new Uint8Array([1]));
    await sink.commit();
    expect(readdirSync(dir)).toEqual(['only.txt']);
  });
});
