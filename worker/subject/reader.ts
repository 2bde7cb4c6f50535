/**
 * Opens a subject in the reference layout (avatar-creation.md) and validates all of it before
 * anyone trains on it: every file a frame needs exists and decodes, every image has the size
 * the transforms imply, torso images carry alpha, landmarks are 68 finite points, the
 * condition has one [68,3] entry per frame. The first problem found is thrown as a FormatError
 * whose field is the offending file. Pixels are then loaded lazily, one frame at a time.
 */
import { FormatError, R2TalkerError } from '../errors.ts';
import type { CameraConfig } from '../avatar/config.ts';
import { readNpy } from '../io/npy.ts';
import { resizeArea } from '../io/resize.ts';
import { parseTransforms } from '../import/transforms.ts';
import type { SubjectFiles } from './files.ts';
import { readImageHeader, toRgb, type ImageCodec, type SubjectImage } from './images.ts';
import { SUBJECT_PATHS, parsingLabels, type SplitName } from './layout.ts';
import { LANDMARK_COUNT, eyeAspectRatio, eyeRect, faceRect, lipsRect, parseLms, type PixelRect } from './lms.ts';

export interface SubjectFrame {
  split: SplitName;
  /** Position within its split (indexes split.poses, split.condition, split.eye). */
  index: number;
  imgId: number;
  audId: number;
  /** transform_matrix as stored (reference convention, camera-to-world), row-major 4x4. */
  transform: Float32Array;
  /** The same pose in the renderer's convention (nerf_matrix_to_ngp, scale 4). */
  pose: Float32Array;
  eyeRatio: number;
  /** Where eyeRatio came from: the transforms file, or the eye aspect ratio of the .lms. */
  eyeSource: 'transforms' | 'lms';
  /** [68*2] (x = column, y = row) from ori_imgs/<imgId>.lms. */
  lms: Float32Array;
  faceRect: PixelRect;
  lipsRect: PixelRect;
  eyeRect: PixelRect;
  /** [68*3] landmark condition of this frame (a view into split.condition). */
  condition: Float32Array;
}

export interface SubjectSplit {
  name: SplitName;
  frames: SubjectFrame[];
  /** [N*16] renderer-convention poses, frame order. */
  poses: Float32Array;
  /** [N*68*3] landmark condition, frame order. */
  condition: Float32Array;
  /** [N] eye ratios, frame order. */
  eye: Float32Array;
}

export interface Subject {
  root: string;
  camera: CameraConfig;
  width: number;
  height: number;
  splits: Partial<Record<SplitName, SubjectSplit>>;
  /** bc.jpg as RGB, resized to the subject's size with the reference's area filter when it differs. */
  loadBackground(): Promise<SubjectImage>;
  /** ori_imgs (the raw frame) or gt_imgs (background replaced by bc.jpg), RGB. */
  loadImage(frame: SubjectFrame, kind: 'ori' | 'gt'): Promise<SubjectImage>;
  /** torso_imgs/<id>.png as RGBA. */
  loadTorso(frame: SubjectFrame): Promise<SubjectImage>;
  /** parsing/<id>.png as per-pixel labels (PARSING_LABEL). */
  loadParsing(frame: SubjectFrame): Promise<Uint8Array>;
}

export interface OpenSubjectOptions {
  /** Which splits to open (default both). */
  splits?: SplitName[];
  /** 'decode' (default) decodes every image up front to catch corrupt pixel data; 'headers' only checks sizes. */
  check?: 'decode' | 'headers';
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const MAX_ID = 1e7;

function fileError(files: SubjectFiles, path: string, message: string): FormatError {
  return FormatError.input(`${files.root}/${path}`, message);
}

async function need(files: SubjectFiles, path: string): Promise<Uint8Array> {
  const bytes = await files.read(path);
  if (!bytes) throw fileError(files, path, 'missing');
  return bytes;
}

/** Re-raises a FormatError from a parser with the file's full path as its field. */
function inFile<T>(files: SubjectFiles, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FormatError && !e.field.startsWith(files.root)) throw FormatError.input(`${files.root}/${path}`, e.message, e);
    throw e;
  }
}

function readIds(json: Record<string, unknown>, files: SubjectFiles, path: string): { img: number[]; aud: number[] } {
  const frames = json.frames as unknown[];
  const img: number[] = [];
  const aud: number[] = [];
  const seen = new Set<number>();
  frames.forEach((f, i) => {
    const o = f as Record<string, unknown>;
    for (const key of ['img_id', 'aud_id'] as const) {
      const v = o[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID) {
        throw fileError(files, path, `frames[${i}].${key}: expected an integer in [0, ${MAX_ID}], got ${JSON.stringify(v)}`);
      }
    }
    const id = o.img_id as number;
    if (seen.has(id)) throw fileError(files, path, `frames[${i}].img_id: ${id} appears twice`);
    seen.add(id);
    img.push(id);
    aud.push(o.aud_id as number);
  });
  return { img, aud };
}

function conditionFrom(files: SubjectFiles, path: string, bytes: Uint8Array): { data: Float32Array; count: number } {
  const arr = inFile(files, path, () => readNpy(bytes));
  if (arr.shape.length !== 3 || arr.shape[1] !== LANDMARK_COUNT || arr.shape[2] !== 3) {
    throw fileError(files, path, `expected shape [N,${LANDMARK_COUNT},3], got [${arr.shape.join(',')}]`);
  }
  if (arr.dtype !== 'float32' && arr.dtype !== 'float64') throw fileError(files, path, `expected float32 or float64, got ${arr.dtype}`);
  const data = arr.dtype === 'float32' ? (arr.data as Float32Array) : Float32Array.from(arr.data as Float64Array);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const per = LANDMARK_COUNT * 3;
      throw fileError(files, path, `frame ${Math.floor(i / per)} landmark ${Math.floor((i % per) / 3)} is ${data[i]} (expected finite values)`);
    }
  }
  return { data, count: arr.shape[0] };
}

interface RawSplit {
  name: SplitName;
  path: string;
  json: Record<string, unknown>;
  parsed: ReturnType<typeof parseTransforms>;
  ids: { img: number[]; aud: number[] };
}

async function readSplit(files: SubjectFiles, name: SplitName): Promise<RawSplit> {
  const path = SUBJECT_PATHS.transforms(name);
  const bytes = await need(files, path);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw fileError(files, path, `not valid JSON (${(e as Error).message})`);
  }
  const parsed = inFile(files, path, () => parseTransforms(json));
  const ids = readIds(json as Record<string, unknown>, files, path);
  return { name, path, json: json as Record<string, unknown>, parsed, ids };
}

async function loadConditions(files: SubjectFiles, raw: RawSplit[]): Promise<Map<SplitName, Float32Array>> {
  const out = new Map<SplitName, Float32Array>();
  const per = LANDMARK_COUNT * 3;
  let all: { data: Float32Array; count: number } | null | undefined;
  for (const s of raw) {
    const n = s.ids.img.length;
    const splitPath = SUBJECT_PATHS.conditionSplit(s.name);
    const bytes = await files.read(splitPath);
    if (bytes) {
      const c = conditionFrom(files, splitPath, bytes);
      if (c.count !== n) throw fileError(files, splitPath, `has ${c.count} frames but ${s.path} has ${n}`);
      out.set(s.name, c.data);
      continue;
    }
    // No per-split file: the whole-video condition indexed by aud_id.
    if (all === undefined) {
      const b = await files.read(SUBJECT_PATHS.conditionAll);
      all = b ? conditionFrom(files, SUBJECT_PATHS.conditionAll, b) : null;
    }
    if (!all) throw fileError(files, splitPath, `missing (and so is ${SUBJECT_PATHS.conditionAll}); one of them must hold the [N,68,3] landmark condition`);
    const data = new Float32Array(n * per);
    for (let i = 0; i < n; i++) {
      const a = s.ids.aud[i];
      if (a >= all.count) throw fileError(files, s.path, `frames[${i}].aud_id ${a} is outside ${SUBJECT_PATHS.conditionAll} (${all.count} frames)`);
      data.set(all.data.subarray(a * per, (a + 1) * per), i * per);
    }
    out.set(s.name, data);
  }
  return out;
}

function checkHeader(files: SubjectFiles, path: string, bytes: Uint8Array, w: number, h: number, wantAlpha: boolean): void {
  const head = inFile(files, path, () => readImageHeader(bytes, `${files.root}/${path}`));
  if (head.width !== w || head.height !== h) throw fileError(files, path, `is ${head.width}x${head.height}, expected ${w}x${h} (2*cx x 2*cy of the transforms)`);
  if (wantAlpha && !head.alpha) throw fileError(files, path, 'expected an RGBA PNG (the torso image needs its alpha channel)');
  if (head.channels !== 3 && head.channels !== 4 && !(head.channels === 2 && wantAlpha)) {
    throw fileError(files, path, `expected a colour image, got ${head.channels} channel(s)`);
  }
}

export async function openSubject(files: SubjectFiles, codec: Pick<ImageCodec, 'decode'>, options: OpenSubjectOptions = {}): Promise<Subject> {
  const names = options.splits ?? ['train', 'val'];
  if (names.length === 0 || names.some((n) => n !== 'train' && n !== 'val')) throw FormatError.input('subject.splits', `expected "train" and/or "val", got ${JSON.stringify(names)}`);
  const raw: RawSplit[] = [];
  for (const n of names) raw.push(await readSplit(files, n));
  const cam = raw[0].parsed.camera;
  for (const s of raw.slice(1)) {
    const c = s.parsed.camera;
    if (c.fx !== cam.fx || c.cx !== cam.cx || c.cy !== cam.cy) {
      throw fileError(files, s.path, `camera (focal_len ${c.fx}, cx ${c.cx}, cy ${c.cy}) differs from ${raw[0].path} (focal_len ${cam.fx}, cx ${cam.cx}, cy ${cam.cy})`);
    }
  }
  const { width, height } = cam;
  const conditions = await loadConditions(files, raw);
  const check = options.check ?? 'decode';
  const total = raw.reduce((a, s) => a + s.ids.img.length, 0) + 1;
  let done = 0;
  const tick = (): void => {
    if (options.signal?.aborted) throw new R2TalkerError('ABORTED', 'opening the subject was cancelled');
    options.onProgress?.(++done, total);
  };

  const bg = await need(files, SUBJECT_PATHS.background);
  inFile(files, SUBJECT_PATHS.background, () => readImageHeader(bg, `${files.root}/${SUBJECT_PATHS.background}`));
  if (check === 'decode') codec.decode(bg, `${files.root}/${SUBJECT_PATHS.background}`);
  tick();

  const splits: Partial<Record<SplitName, SubjectSplit>> = {};
  for (const s of raw) {
    const condition = conditions.get(s.name) as Float32Array;
    const n = s.ids.img.length;
    const eye = new Float32Array(n);
    const frames: SubjectFrame[] = [];
    for (let i = 0; i < n; i++) {
      const id = s.ids.img[i];
      const lmsPath = SUBJECT_PATHS.lms(id);
      const lms = parseLms(await need(files, lmsPath), `${files.root}/${lmsPath}`);
      const images: [string, boolean][] = [
        [SUBJECT_PATHS.oriImage(id), false],
        [SUBJECT_PATHS.gtImage(id), false],
        [SUBJECT_PATHS.parsing(id), false],
        [SUBJECT_PATHS.torso(id), true],
      ];
      for (const [path, alpha] of images) {
        const bytes = await need(files, path);
        checkHeader(files, path, bytes, width, height, alpha);
        if (check === 'decode') codec.decode(bytes, `${files.root}/${path}`);
      }
      const frameJson = (s.json.frames as Record<string, unknown>[])[i];
      const fromTransforms = frameJson.eye_ratio !== undefined;
      eye[i] = fromTransforms ? (s.parsed.eye as Float32Array)[i] : eyeAspectRatio(lms);
      frames.push({
        split: s.name,
        index: i,
        imgId: id,
        audId: s.ids.aud[i],
        transform: Float32Array.from((frameJson.transform_matrix as number[][]).flat()),
        pose: s.parsed.poses.subarray(i * 16, i * 16 + 16),
        eyeRatio: eye[i],
        eyeSource: fromTransforms ? 'transforms' : 'lms',
        lms,
        faceRect: faceRect(lms),
        lipsRect: lipsRect(lms, width, height),
        eyeRect: eyeRect(lms),
        condition: condition.subarray(i * LANDMARK_COUNT * 3, (i + 1) * LANDMARK_COUNT * 3),
      });
      tick();
    }
    splits[s.name] = { name: s.name, frames, poses: s.parsed.poses, condition, eye };
  }

  async function decodeSized(path: string, alpha: boolean): Promise<SubjectImage> {
    const bytes = await need(files, path);
    checkHeader(files, path, bytes, width, height, alpha);
    return codec.decode(bytes, `${files.root}/${path}`);
  }

  return {
    root: files.root,
    camera: cam,
    width,
    height,
    splits,
    async loadBackground() {
      const img = toRgb(codec.decode(await need(files, SUBJECT_PATHS.background), `${files.root}/${SUBJECT_PATHS.background}`));
      if (img.width === width && img.height === height) return img;
      return { width, height, channels: 3, data: resizeArea(img.data, img.width, img.height, width, height, 3) };
    },
    async loadImage(frame, kind) {
      return toRgb(await decodeSized(kind === 'ori' ? SUBJECT_PATHS.oriImage(frame.imgId) : SUBJECT_PATHS.gtImage(frame.imgId), false));
    },
    async loadTorso(frame) {
      const img = await decodeSized(SUBJECT_PATHS.torso(frame.imgId), true);
      if (img.channels !== 4) throw fileError(files, SUBJECT_PATHS.torso(frame.imgId), 'expected an RGBA PNG');
      return img;
    },
    async loadParsing(frame) {
      const img = await decodeSized(SUBJECT_PATHS.parsing(frame.imgId), false);
      return parsingLabels(img.data, img.channels);
    },
  };
}
