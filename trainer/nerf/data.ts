/**
 * What the NeRF trainer reads from a subject (worker/subject/reader.ts): per-frame ground truth
 * and head background as float RGB, the normalised landmark windows, smoothed eye values, and
 * the face and lips rectangles. Frames are decoded lazily and kept in a small LRU cache, so a
 * long video never sits in memory whole.
 */
import { ConfigError, FormatError } from '../../worker/errors.ts';
import { landmarkMap, mapLandmarks, type LandmarkMap } from '../../worker/model/landmark-map.ts';
import { landmarkStatistics, normaliseClampTrack, windowPoints, type LandmarkStatistics } from '../../worker/model/landmarks.ts';
import { smoothEye } from '../../worker/model/poses.ts';
import type { Subject, SubjectFrame, SubjectSplit } from '../../worker/subject/reader.ts';
import type { SubjectImage } from '../../worker/subject/images.ts';
import { PARSING_LABEL, type SplitName } from '../../worker/subject/layout.ts';

export interface FrameImages {
  /** gt_imgs/<id>.jpg in [0,1], H*W*3 */
  image: Float32Array;
  /** torso_imgs/<id>.png over bc.jpg in [0,1]: what the head composites over in the head stage */
  headBackground: Float32Array;
  /** parsing/<id>.png as labels (PARSING_LABEL), H*W: which pixels the head must cover */
  parsing: Uint8Array;
  /** pixels the parsing labels neck or torso, ascending: where the torso stage samples most rays */
  torsoPixels: Uint32Array;
}

export interface SplitData {
  split: SubjectSplit;
  /**
   * condition track (through the landmark map, when the data has one) normalised and clamped
   * with this split's own statistics (model-spec §2)
   */
  track: Float32Array;
  stats: LandmarkStatistics;
  /** eye value per frame, 3-frame mean as the reference smooths it */
  eye: Float32Array;
}

const CACHE_FRAMES = 64;

function toFloat(img: SubjectImage, field: string, width: number, height: number): Float32Array {
  if (img.width !== width || img.height !== height) throw FormatError.expected('INPUT_FORMAT', field, `${width}x${height}`, `${img.width}x${img.height}`);
  const n = width * height;
  const out = new Float32Array(n * 3);
  const c = img.channels;
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[3 * i + k] = img.data[i * c + k] / 255;
  return out;
}

export class TrainingData {
  readonly width: number;
  readonly height: number;
  readonly train: SplitData;
  readonly val: SplitData | null;
  /**
   * The map the landmark tracks went through (mappedTo), from the training split's own
   * statistics; null: the subject's own landmarks.
   */
  readonly landmarkMap: LandmarkMap | null;
  /** bc.jpg as bytes (the avatar's background tensor) and as floats */
  backgroundBytes!: Uint8Array;
  background!: Float32Array;
  private readonly cache = new Map<string, FrameImages>();

  private constructor(
    readonly subject: Subject,
    target: LandmarkStatistics | null = null,
  ) {
    this.width = subject.width;
    this.height = subject.height;
    const train = subject.splits.train;
    if (!train || train.frames.length < 2) throw FormatError.input(`${subject.root}/transforms_train.json`, `expected at least 2 training frames, got ${train?.frames.length ?? 0}`);
    this.landmarkMap = target ? landmarkMap(landmarkStatistics(train.condition, train.frames.length, 68 * 3), target, 'the landmark statistics to map to') : null;
    this.train = TrainingData.split(train, this.landmarkMap);
    const val = subject.splits.val;
    this.val = val && val.frames.length >= 2 ? TrainingData.split(val, this.landmarkMap) : null;
  }

  static async open(subject: Subject): Promise<TrainingData> {
    const d = new TrainingData(subject);
    const bg = await subject.loadBackground();
    d.background = toFloat(bg, `${subject.root}/bc.jpg`, d.width, d.height);
    d.backgroundBytes = new Uint8Array(d.width * d.height * 3);
    for (let i = 0; i < d.width * d.height; i++) for (let k = 0; k < 3; k++) d.backgroundBytes[3 * i + k] = bg.data[i * bg.channels + k];
    return d;
  }

  /**
   * The same subject with every split's landmark track moved into the space of `target`
   * (worker/model/landmark-map.ts): what a head field trained on other landmarks (a prior) answers.
   */
  mappedTo(target: LandmarkStatistics): TrainingData {
    const d = new TrainingData(this.subject, target);
    d.background = this.background;
    d.backgroundBytes = this.backgroundBytes;
    return d;
  }

  private static split(split: SubjectSplit, map: LandmarkMap | null): SplitData {
    const n = split.frames.length;
    const numbers = 68 * 3;
    const condition = map ? mapLandmarks(split.condition, map) : split.condition;
    const stats = landmarkStatistics(condition, n, numbers);
    const track = normaliseClampTrack(condition, n, numbers, stats);
    const eye = new Float32Array(n);
    for (let i = 0; i < n; i++) eye[i] = smoothEye(split.eye, n, i);
    return { split, track, stats, eye };
  }

  splitData(name: SplitName): SplitData {
    const s = name === 'train' ? this.train : this.val;
    if (!s) throw new ConfigError(`subject has no usable ${name} split (at least 2 frames)`);
    return s;
  }

  /** Window points (window * 68 * 3) of frame i of the split: normalised, zero-padded frames t-2..t+2. */
  points(name: SplitName, i: number, window: number): Float32Array {
    const s = this.splitData(name);
    const out = new Float32Array(window * 68 * 3);
    windowPoints(s.track, s.split.frames.length, i, window, out);
    return out;
  }

  frame(name: SplitName, i: number): SubjectFrame {
    return this.splitData(name).split.frames[i];
  }

  async images(name: SplitName, i: number): Promise<FrameImages> {
    const key = `${name}:${i}`;
    const hit = this.cache.get(key);
    if (hit) {
      // Re-insert: Map order is the LRU order.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const f = this.frame(name, i);
    const root = this.subject.root;
    const image = toFloat(await this.subject.loadImage(f, 'gt'), `${root}/gt_imgs/${f.imgId}.jpg`, this.width, this.height);
    const torso = await this.subject.loadTorso(f);
    if (torso.width !== this.width || torso.height !== this.height || torso.channels !== 4) {
      throw FormatError.expected('INPUT_FORMAT', `${root}/torso_imgs/${f.imgId}.png`, `${this.width}x${this.height} RGBA`, `${torso.width}x${torso.height}x${torso.channels}`);
    }
    const headBackground = new Float32Array(this.width * this.height * 3);
    for (let p = 0; p < this.width * this.height; p++) {
      const a = torso.data[4 * p + 3] / 255;
      for (let k = 0; k < 3; k++) headBackground[3 * p + k] = (torso.data[4 * p + k] / 255) * a + this.background[3 * p + k] * (1 - a);
    }
    const parsing = await this.subject.loadParsing(f);
    if (parsing.length !== this.width * this.height) throw FormatError.expected('INPUT_FORMAT', `${root}/parsing/${f.imgId}.png`, `${this.width}x${this.height} labels`, `${parsing.length} pixels`);
    let count = 0;
    for (let p = 0; p < parsing.length; p++) if (parsing[p] === PARSING_LABEL.neck || parsing[p] === PARSING_LABEL.torso) count++;
    const torsoPixels = new Uint32Array(count);
    for (let p = 0, j = 0; p < parsing.length; p++) if (parsing[p] === PARSING_LABEL.neck || parsing[p] === PARSING_LABEL.torso) torsoPixels[j++] = p;
    const out = { image, headBackground, parsing, torsoPixels };
    this.cache.set(key, out);
    if (this.cache.size > CACHE_FRAMES) this.cache.delete(this.cache.keys().next().value as string);
    return out;
  }
}
