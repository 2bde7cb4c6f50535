/**
 * Writes a subject in the reference layout through a SubjectSink: frames are encoded and
 * written as they arrive (memory stays bounded by one frame plus the small per-frame
 * metadata), and the transforms and condition files are written by `finish()`, which then
 * commits the sink. Any error aborts the sink, so a failed run leaves nothing behind.
 * `prepare` and `synth-subject` both write through this.
 */
import { FormatError } from '../errors.ts';
import { writeNpy } from '../io/npy.ts';
import type { SubjectSink } from './files.ts';
import type { ImageCodec, SubjectImage } from './images.ts';
import { SUBJECT_PATHS, type SplitName } from './layout.ts';
import { LANDMARK_COUNT, formatLms } from './lms.ts';

export interface SubjectWriterOptions {
  width: number;
  height: number;
  focal: number;
  /** JPEG quality for ori_imgs, gt_imgs and bc.jpg (default 95). */
  jpegQuality?: number;
}

export interface SubjectFrameData {
  split: SplitName;
  imgId: number;
  audId: number;
  /** Camera-to-world 4x4, row-major, in the reference's convention (as stored in transform_matrix). */
  transform: ArrayLike<number>;
  /** Written as the frame's eye_ratio when given. */
  eyeRatio?: number;
  /** [68*2] (x = column, y = row). */
  lms: ArrayLike<number>;
  /** [68*3] landmark condition. */
  condition: ArrayLike<number>;
  /** The frame, RGB. */
  ori: SubjectImage;
  /** The frame over bc.jpg, RGB. */
  gt: SubjectImage;
  /** Parsing colours (layout.ts PARSING_RGB), RGB. */
  parsing: SubjectImage;
  /** Neck + torso with alpha, RGBA. */
  torso: SubjectImage;
}

/** The reference's split: the first int(n*10/11) frames train, the rest validate. */
export function referenceValStart(n: number): number {
  if (!Number.isInteger(n) || n < 2) throw FormatError.input('frames', `expected at least 2 frames to split, got ${n}`);
  return Math.min(n - 1, Math.max(1, Math.trunc((n * 10) / 11)));
}

interface FrameMeta {
  imgId: number;
  audId: number;
  transform: number[][];
  eyeRatio?: number;
  condition: Float32Array;
}

export class SubjectWriter {
  private readonly meta: Record<SplitName, FrameMeta[]> = { train: [], val: [] };
  private readonly imgIds = new Set<number>();
  private background = false;
  private state: 'open' | 'finished' | 'aborted' = 'open';
  private readonly quality: number;

  constructor(
    readonly sink: SubjectSink,
    private readonly codec: Pick<ImageCodec, 'encodeJpeg' | 'encodePng'>,
    private readonly options: SubjectWriterOptions,
  ) {
    const { width, height, focal } = options;
    for (const [k, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v < 2 || v % 2 !== 0 || v > 4096) throw FormatError.input(`subject.${k}`, `expected an even integer in [2, 4096] (cx, cy = size/2), got ${v}`);
    }
    if (!(focal > 0) || !Number.isFinite(focal)) throw FormatError.input('subject.focal', `expected a positive number, got ${focal}`);
    this.quality = options.jpegQuality ?? 95;
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw FormatError.input(this.sink.root, `subject writer already ${this.state}`);
  }

  private checkImage(img: SubjectImage, field: string, channels: 3 | 4): void {
    const { width, height } = this.options;
    if (img.width !== width || img.height !== height) throw FormatError.expected('INPUT_FORMAT', field, `${width}x${height}`, `${img.width}x${img.height}`);
    if (img.channels !== channels || img.data.length !== width * height * channels) {
      throw FormatError.expected('INPUT_FORMAT', field, `${channels} channels (${width * height * channels} bytes)`, `${img.channels} channels (${img.data.length} bytes)`);
    }
  }

  /** Runs a write step; on failure aborts the sink so nothing partial survives. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    this.checkOpen();
    try {
      return await fn();
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** bc.jpg: any size (the reader resizes it with the reference's area filter), RGB. */
  writeBackground(img: SubjectImage): Promise<void> {
    return this.guard(async () => {
      if (img.channels !== 3) throw FormatError.input('bc.jpg', 'expected an RGB image');
      await this.sink.write(SUBJECT_PATHS.background, this.codec.encodeJpeg(img, this.quality));
      this.background = true;
    });
  }

  /** Any other file of the subject (aud.wav, ground truth, reports), written verbatim. */
  writeFile(path: string, bytes: Uint8Array): Promise<void> {
    return this.guard(() => this.sink.write(path, bytes));
  }

  addFrame(f: SubjectFrameData): Promise<void> {
    return this.guard(async () => {
      const field = `frame img_id ${f.imgId}`;
      if (f.split !== 'train' && f.split !== 'val') throw FormatError.input(`${field}.split`, `expected "train" or "val", got ${JSON.stringify(f.split)}`);
      for (const k of ['imgId', 'audId'] as const) {
        if (!Number.isInteger(f[k]) || f[k] < 0) throw FormatError.input(`${field}.${k}`, `expected a non-negative integer, got ${f[k]}`);
      }
      if (this.imgIds.has(f.imgId)) throw FormatError.input(`${field}.imgId`, 'written twice');
      if (f.transform.length !== 16 || !Array.from(f.transform).every(Number.isFinite)) throw FormatError.input(`${field}.transform`, 'expected 16 finite numbers');
      if (f.eyeRatio !== undefined && !Number.isFinite(f.eyeRatio)) throw FormatError.input(`${field}.eyeRatio`, `expected a finite number, got ${f.eyeRatio}`);
      if (f.condition.length !== LANDMARK_COUNT * 3 || !Array.from(f.condition).every(Number.isFinite)) {
        throw FormatError.input(`${field}.condition`, `expected ${LANDMARK_COUNT * 3} finite numbers`);
      }
      this.checkImage(f.ori, `${field}.ori`, 3);
      this.checkImage(f.gt, `${field}.gt`, 3);
      this.checkImage(f.parsing, `${field}.parsing`, 3);
      this.checkImage(f.torso, `${field}.torso`, 4);
      const lmsText = formatLms(f.lms);
      await this.sink.write(SUBJECT_PATHS.oriImage(f.imgId), this.codec.encodeJpeg(f.ori, this.quality));
      await this.sink.write(SUBJECT_PATHS.lms(f.imgId), lmsText);
      await this.sink.write(SUBJECT_PATHS.gtImage(f.imgId), this.codec.encodeJpeg(f.gt, this.quality));
      // Parsing and torso are PNG: class colours and alpha must survive exactly.
      await this.sink.write(SUBJECT_PATHS.parsing(f.imgId), this.codec.encodePng(f.parsing));
      await this.sink.write(SUBJECT_PATHS.torso(f.imgId), this.codec.encodePng(f.torso));
      const t = Array.from(f.transform);
      this.meta[f.split].push({
        imgId: f.imgId,
        audId: f.audId,
        transform: [t.slice(0, 4), t.slice(4, 8), t.slice(8, 12), t.slice(12, 16)],
        eyeRatio: f.eyeRatio,
        condition: Float32Array.from(f.condition),
      });
      this.imgIds.add(f.imgId);
    });
  }

  /** Writes transforms_*.json and aud_idexp{,_train,_val}.npy, then publishes the subject. */
  finish(): Promise<void> {
    return this.guard(async () => {
      if (!this.background) throw FormatError.input(this.sink.root, 'no background (bc.jpg) was written');
      for (const s of ['train', 'val'] as const) if (this.meta[s].length === 0) throw FormatError.input(this.sink.root, `no ${s} frames were written`);
      const { width, height, focal } = this.options;
      const per = LANDMARK_COUNT * 3;
      const byAud = new Map<number, Float32Array>();
      for (const s of ['train', 'val'] as const) {
        const frames = this.meta[s];
        const json = {
          focal_len: focal,
          cx: width / 2,
          cy: height / 2,
          frames: frames.map((m) => ({ img_id: m.imgId, aud_id: m.audId, transform_matrix: m.transform, ...(m.eyeRatio !== undefined ? { eye_ratio: m.eyeRatio } : {}) })),
        };
        await this.sink.write(SUBJECT_PATHS.transforms(s), new TextEncoder().encode(JSON.stringify(json, null, 1)));
        const cond = new Float32Array(frames.length * per);
        frames.forEach((m, i) => {
          cond.set(m.condition, i * per);
          byAud.set(m.audId, m.condition);
        });
        await this.sink.write(SUBJECT_PATHS.conditionSplit(s), writeNpy({ dtype: 'float32', shape: [frames.length, LANDMARK_COUNT, 3], data: cond }));
      }
      // The whole-video file is indexed by aud_id, so it needs every id from 0 to the largest.
      const count = Math.max(...byAud.keys()) + 1;
      if (byAud.size === count) {
        const all = new Float32Array(count * per);
        for (const [a, c] of byAud) all.set(c, a * per);
        await this.sink.write(SUBJECT_PATHS.conditionAll, writeNpy({ dtype: 'float32', shape: [count, LANDMARK_COUNT, 3], data: all }));
      }
      await this.sink.commit();
      this.state = 'finished';
    });
  }

  /** Drops everything written so far; idempotent. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.sink.abort();
  }
}
