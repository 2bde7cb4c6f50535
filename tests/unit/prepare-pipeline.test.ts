/**
 * The preparation pipeline end to end on a rendered test video (astronaut photo on the
 * canonical face, known poses, static background and torso): the subject it writes opens and
 * validates with the subject reader, carries the split, poses, masks, background and audio a
 * trainer needs; unusable input is refused with a message saying why and leaves nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbFrame } from '../../worker/face/crop.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';
import { loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';
import { readWav } from '../../worker/io/wav.ts';
import { dilatePerson } from '../../worker/prepare/background.ts';
import { LABEL } from '../../worker/prepare/masks.ts';
import { prepareSubject, type FrameSource, type PcmAudio, type PrepareReport } from '../../worker/prepare/pipeline.ts';
import { MemorySubjectFiles, MemorySubjectSink } from '../../worker/subject/files.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import { parsingLabels, PARSING_LABEL } from '../../worker/subject/layout.ts';
import { openSubject, type Subject } from '../../worker/subject/reader.ts';
import type { TexturedMesh } from '../helpers/face-render.ts';
import { astronautHead, backgroundWithTorso, gentlePose, renderedVideo } from '../helpers/face-video.ts';

const SRC = 256;
// A face ~77 px wide: small enough for the usual head-and-shoulders crop to fit the frame.
const FOCAL = SRC;
const SIZE = 128;

function speech(seconds: number, rate = 16000): PcmAudio {
  return { samples: Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate) * (1 + Math.sin(i / 900))), sampleRate: rate };
}

function blank(): RgbFrame {
  return { width: SRC, height: SRC, rgb: new Uint8Array(SRC * SRC * 3).fill(120) };
}

describe('prepareSubject', () => {
  let models: FaceModels;
  let head: TexturedMesh;
  let target: MemorySubjectFiles;
  let report: PrepareReport;
  let subject: Subject;
  const stages = new Set<string>();
  const fitBar: number[] = [];

  beforeAll(async () => {
    models = await loadFaceModels(nodeFaceModelSource);
    head = astronautHead(models);
    target = new MemorySubjectFiles();
    const video = renderedVideo(head, { frames: 30, width: SRC, height: SRC, focal: FOCAL });
    report = await prepareSubject(video, speech(1.3, 44100), new MemorySubjectSink(target), nodeImageCodec, models, {
      size: SIZE,
      minSeconds: 1,
      valSeconds: 0.4,
      onProgress: (s, done, total) => {
        stages.add(s);
        if (s === 'fit') fitBar.push(done / total);
      },
    });
    subject = await openSubject(target, nodeImageCodec);
  });

  it('writes a subject the reader validates, with the split and report', async () => {
    expect(report.frames).toMatchObject({ total: 30, kept: 30, dropped: {} });
    expect(report.split).toEqual({ train: 20, val: 10 });
    expect(subject.splits.train!.frames.map((f) => f.imgId)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(subject.splits.val!.frames.map((f) => f.imgId)).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    expect([...stages].sort()).toEqual(['background', 'fit', 'track', 'write']);
    // The fit stage's bar moves through the focal search (its first half), one step per focal,
    // then through the refined frames, never back, and ends full.
    console.log(`fit stage progress: ${fitBar.length} updates, ${fitBar.filter((x) => x > 0 && x < 0.5).length} inside the focal search`);
    expect(fitBar.every((x, k) => k === 0 || x >= fitBar[k - 1])).toBe(true);
    expect(fitBar.filter((x) => x > 0 && x < 0.5).length).toBeGreaterThanOrEqual(10);
    expect(fitBar.filter((x) => x > 0.5 && x < 1).length).toBeGreaterThanOrEqual(30);
    expect(fitBar.at(-1)).toBe(1);
    expect(report.warnings.some((w) => w.includes('usable frames'))).toBe(true);
    const json = JSON.parse(new TextDecoder().decode(target.files.get('prepare.json')));
    expect(json).toEqual(JSON.parse(JSON.stringify(report)));
    const wav = readWav(target.files.get('aud.wav')!);
    expect(wav.sampleRate).toBe(16000);
    expect(Math.abs(wav.samples.length / 16000 - 1.3)).toBeLessThan(0.01);
  });

  it('recovers the head turn; the focal is within the solver\'s measured bias', () => {
    const yawTrue = Array.from({ length: 30 }, (_, i) => 15 * Math.sin((2 * Math.PI * i) / 100));
    const [lo, hi] = report.poseDegrees.y;
    expect(Math.abs(hi - lo - (Math.max(...yawTrue) - Math.min(...yawTrue)))).toBeLessThan(3);
    const focalSource = (report.focal * report.crop.side) / SIZE;
    expect(Math.abs(focalSource - FOCAL) / FOCAL).toBeLessThan(0.3);
    expect(report.landmarks.meanReprojectionPx).toBeLessThan(1.5);
    // eye_ratio from the attention model's eyelids (face-video-fit.test.ts checks them on a blink).
    expect(report.landmarks.eyeLids).toBe('attention');
    for (const f of subject.splits.train!.frames) {
      expect(f.eyeRatio).toBeGreaterThan(0.15);
      expect(f.eyeRatio).toBeLessThan(0.5);
    }
    // This head never blinks: every frame, train and held out, gets the one open level
    // (face/eye-steady.ts; eye-steady.test.ts checks blinks).
    expect(report.eyeRatio.method).toBe('steady');
    expect(report.eyeRatio.blinks).toBe(0);
    for (const f of [...subject.splits.train!.frames, ...subject.splits.val!.frames]) expect(f.eyeRatio).toBeCloseTo(report.eyeRatio.open, 5);
  });

  it('labels head, neck, torso and background where they are, and composes gt over bc', async () => {
    const f = subject.splits.train!.frames[0];
    const labels = parsingLabels(codecDecode(target, 'parsing/0.png'), 3);
    const at = (x: number, y: number): number => labels[Math.round(y) * SIZE + Math.round(x)];
    const nose = [f.lms[30 * 2], f.lms[30 * 2 + 1]];
    expect(at(nose[0], nose[1])).toBe(PARSING_LABEL.head);
    expect(at(2, 2)).toBe(PARSING_LABEL.background);
    expect(at(SIZE - 3, 2)).toBe(PARSING_LABEL.background);
    expect(at(SIZE / 2, SIZE - 2)).toBe(PARSING_LABEL.torso);
    const bc = codecDecode(target, 'bc.jpg');
    const gt = codecDecode(target, 'gt_imgs/0.jpg');
    const ori = codecDecode(target, 'ori_imgs/0.jpg');
    // Background pixels of gt are bc's (JPEG both: within a few levels), except in the thin band
    // beside the person mask (1% of the side, at least 1 px), where gt keeps the frame's own pixels.
    const edge = Math.max(1, Math.round(0.01 * SIZE));
    const nearPerson = dilatePerson(labels.map((l) => (l === PARSING_LABEL.background ? LABEL.background : LABEL.head)), SIZE, SIZE, edge);
    let worst = 0;
    let worstBand = 0;
    let band = 0;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== PARSING_LABEL.background) continue;
      if (nearPerson[i]) band++;
      for (let c = 0; c < 3; c++) {
        if (nearPerson[i]) worstBand = Math.max(worstBand, Math.abs(gt[i * 3 + c] - ori[i * 3 + c]));
        else worst = Math.max(worst, Math.abs(gt[i * 3 + c] - bc[i * 3 + c]));
      }
    }
    expect(worst).toBeLessThan(40);
    expect(band).toBeGreaterThan(0);
    expect(worstBand).toBeLessThan(40);
    // The crop's top-left background pixel is the rendered background's colour there.
    const truth = backgroundWithTorso(SRC, SRC);
    const k = report.crop.side / SIZE;
    const src = (Math.round(report.crop.y + k / 2) * SRC + Math.round(report.crop.x + k / 2)) * 3;
    for (let c = 0; c < 3; c++) expect(Math.abs(bc[c] - truth.rgb[src + c])).toBeLessThan(12);
    const torso = nodeImageCodec.decode(target.files.get('torso_imgs/0.png')!, 'torso');
    expect(torso.channels).toBe(4);
    expect(torso.data[(SIZE - 2) * SIZE * 4 + (SIZE / 2) * 4 + 3]).toBe(255);
    expect(torso.data[2 * SIZE * 4 + 2 * 4 + 3]).toBe(0);
  });

  async function refusal(video: FrameSource, audio: PcmAudio | null, opts: Parameters<typeof prepareSubject>[5] = {}): Promise<{ error: Error; files: MemorySubjectFiles }> {
    const files = new MemorySubjectFiles();
    files.files.set('keep.txt', new Uint8Array([1]));
    const error = await prepareSubject(video, audio, new MemorySubjectSink(files), nodeImageCodec, models, { size: SIZE, minSeconds: 0.1, ...opts }).then(
      () => new Error('no refusal'),
      (e: Error) => e,
    );
    return { error, files };
  }

  it('refuses a video without a face, and leaves the destination untouched', async () => {
    const { error, files } = await refusal(renderedVideo(head, { frames: 4, width: SRC, height: SRC, focal: FOCAL, override: () => blank() }), speech(1));
    expect(error.message).toMatch(/no usable face in any frame \(dropped: 4 no face\)/);
    expect([...files.files.keys()]).toEqual(['keep.txt']);
  });

  it('refuses too short a video, no audio and silent audio', async () => {
    const video = renderedVideo(head, { frames: 6, width: SRC, height: SRC, focal: FOCAL });
    expect((await refusal(video, speech(1), { minSeconds: 20 })).error.message).toMatch(/too short: 0\.2 s of usable frames, at least 20 s are needed/);
    expect((await refusal(video, null)).error.message).toMatch(/no audio/);
    expect((await refusal(video, { samples: new Float32Array(16000), sampleRate: 16000 })).error.message).toMatch(/silent/);
  });

  it('refuses a video with two people', async () => {
    const left = (i: number): HeadPose => ({ ...gentlePose(i), t: [-9, 0, 60] });
    const right = (i: number): HeadPose => ({ ...gentlePose(i), t: [9, 0, 60] });
    const video = renderedVideo(head, { frames: 3, width: SRC * 2, height: SRC, focal: FOCAL, pose: left, extra: [right] });
    expect((await refusal(video, speech(1))).error.message).toMatch(/several faces/);
  });

  it('refuses zero frames and frames of different sizes', async () => {
    const none: FrameSource = { count: 0, fps: 25, read: () => Promise.reject(new Error('unreachable')) };
    expect((await refusal(none, speech(1))).error.message).toMatch(/zero frames/);
    const odd = renderedVideo(head, { frames: 3, width: SRC, height: SRC, focal: FOCAL, override: (i) => (i === 1 ? { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3) } : null) });
    expect((await refusal(odd, speech(1))).error.message).toMatch(/frame 1: expected 256x256 like the first frame, got 64x64/);
  });

  it('stops when cancelled and writes nothing', async () => {
    const ctl = new AbortController();
    const video = renderedVideo(head, { frames: 10, width: SRC, height: SRC, focal: FOCAL });
    const { error, files } = await refusal(video, speech(1), { signal: ctl.signal, onProgress: (_s, done) => done >= 2 && ctl.abort() });
    expect((error as Error & { code?: string }).code).toBe('ABORTED');
    expect([...files.files.keys()]).toEqual(['keep.txt']);
  });
});

function codecDecode(files: MemorySubjectFiles, path: string): Uint8Array {
  const img = nodeImageCodec.decode(files.files.get(path)!, path);
  expect(img.channels).toBe(3);
  return img.data;
}
