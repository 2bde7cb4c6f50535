/**
 * The whole preparation, platform-free: frames (any source: a folder, WebCodecs VideoFrames
 * converted to RGB, a test renderer) and PCM in, the reference subject layout out through a
 * SubjectSink, plus prepare.json. Two passes over the frames keep memory bounded: the first
 * tracks the face (a 468-point mesh per frame is all it keeps), the second crops, masks and
 * writes. Any refusal or error aborts the sink, so nothing partial is left behind.
 */
import { R2TalkerError, FormatError } from '../errors.ts';
import { resample } from '../audio/resample.ts';
import { writeWav } from '../io/wav.ts';
import { eulerXYZ } from '../model/poses.ts';
import type { RgbFrame } from '../face/crop.ts';
import { steadyEyeRatio } from '../face/eye-steady.ts';
import { fitVideo, focalAtDistance, refineVideoPhotometric, searchFocalPhotometric, TYPICAL_CAMERA_DISTANCE_CM } from '../face/fit-video.ts';
import { FaceTracker, type FaceModels } from '../face/tracker.ts';
import type { SubjectSink } from '../subject/files.ts';
import type { ImageCodec } from '../subject/images.ts';
import { referenceValStart, SubjectWriter } from '../subject/writer.ts';
import { BackgroundEstimator, dilatePerson } from './background.ts';
import { backgroundChanged, faceCutOff, faceLuma, LIMITS, severalFaces, thumbnail, type DropReason } from './checks.ts';
import { chooseCrop, cropFrame, faceExtent, meshToCrop, type CropBox, type FaceExtent } from './framing.ts';
import { envelope, groundTruthImage, LABEL, labelPerson, parsingImage, torsoImage } from './masks.ts';
import { segmentPerson } from '../face/segmenter.ts';

export const OUTPUT_FPS = 25;
/** The reference trains on 16 kHz audio features. */
const AUDIO_RATE = 16000;
/** gt_imgs keep the frame's own pixels this far (share of the side; 2 px at 192, 5 at 512)
 * outside the person mask (masks.ts groundTruthImage). */
const GT_EDGE_SHARE = 0.01;
/** Frames sampled for the background median. */
const BACKGROUND_SAMPLES = 48;

export interface FrameSource {
  /** Number of frames at `fps`; every frame has the same size. */
  readonly count: number;
  readonly fps: number;
  read(index: number): Promise<RgbFrame>;
}

export interface PcmAudio {
  /** Mono samples in [-1, 1]. */
  samples: Float32Array;
  sampleRate: number;
}

export type PrepareStage = 'track' | 'fit' | 'background' | 'write';

/** The writer only encodes: a worker without a decoder can prepare. */
export type SubjectEncoder = Pick<ImageCodec, 'encodeJpeg' | 'encodePng'>;

export interface PrepareOptions {
  /** Output side in pixels (default 512). */
  size?: number;
  /** Seconds at the end held out for validation (default: the reference's last 1/11). */
  valSeconds?: number;
  /** Usable seconds under which the video is refused (default 20). */
  minSeconds?: number;
  /** Usable seconds under which a warning is given (default 60). */
  warnSeconds?: number;
  /** A known focal length in output pixels (skips the search). */
  focal?: number;
  /** Refine the landmark head poses photometrically (default true; false: landmark poses only). */
  photometric?: boolean;
  /** Ablation only: the depth relief of the textured face the photometric focal search and pose
   * refinement use (fit-video.ts reliefTemplate; default 1, the canonical face's depth). The
   * training proof's oracle sets it to the synthetic head's true relief (docs/prepare.md). */
  relief?: number;
  /** Ablation only: false textures the face alone in the photometric pose refinement, as before
   * the head's outline joined it (default true; fit-video.ts PhotometricOptions.headMask). */
  headShell?: boolean;
  /** Ablation only: false writes each frame's own eye ratio, as before the open eye was held at
   * one level (default true; face/eye-steady.ts steadyEyeRatio). */
  steadyEyes?: boolean;
  onProgress?: (stage: PrepareStage, done: number, total: number) => void;
  signal?: AbortSignal;
  /** How the frames and sound were decoded, copied into prepare.json (absent for a folder of frames). */
  decoder?: DecoderReport;
}

/** Which decoding route read a recording (worker/prepare/demux.ts, extension/prepare/recording-decoder.ts). */
export interface DecoderReport {
  /** 'webcodecs': our demuxer + WebCodecs; 'video-element': the browser's <video> and decodeAudioData. */
  route: 'webcodecs' | 'video-element';
  container: string;
  videoCodec: string;
  audioCodec: string;
  audioRoute: 'webcodecs' | 'decodeAudioData' | 'none';
  /** why the <video> route ran, when it did */
  fallbackReason?: string;
  /** the file ends inside a frame: frames up to the cut were used */
  truncated?: boolean;
}

export interface PrepareReport {
  version: 1;
  input: { frames: number; fps: number; width: number; height: number; audioSeconds: number; decoder?: DecoderReport };
  crop: CropBox;
  frames: { total: number; kept: number; dropped: Record<string, number>; droppedFrames: { index: number; reason: DropReason }[] };
  split: { train: number; val: number };
  usableSeconds: number;
  focal: number;
  /** Where the focal came from: 'given' (PrepareOptions.focal), 'photometric' (the pixels of a
   * spread of frames, fit-video.ts searchFocalPhotometric), 'distance' (the pixels could not pin
   * it: too little head motion or a flat cost, `reason` says which; the focal that puts the head
   * `distanceCm` from the camera, fit-video.ts focalAtDistance) or 'landmarks' (the landmark bundle
   * adjustment, only with photometric poses off). `landmarkFocal`, `motionDeg` and the cost's
   * `rise` around its minimum as the search saw them. */
  focalSource: { method: 'given' | 'photometric' | 'distance' | 'landmarks'; landmarkFocal?: number; motionDeg?: number; rise?: number; distanceCm?: number; reason?: string };
  cx: number;
  cy: number;
  poseDegrees: { x: [number, number]; y: [number, number]; z: [number, number] };
  cameraDistance: [number, number];
  /** `eyeLids`: where eye_ratio's eyelids came from: the attention model (tracker.ts FaceModels.eyes),
   * or the face mesh's own when that model was not loaded (blinks read shallower). */
  landmarks: { meanScore: number; minScore: number; meanReprojectionPx: number; maxReprojectionPx: number; eyeLids: 'attention' | 'face mesh' };
  /** eye_ratio as written (face/eye-steady.ts): 'steady' holds every frame outside a blink at the
   * `open` level (the lids' reading wanders by `noise` around it) and keeps the `blinks`' own
   * readings on `blinkFrames` frames; 'per frame' (ablation) is each frame's own reading. */
  eyeRatio: { method: 'steady' | 'per frame'; open: number; noise: number; blinks: number; blinkFrames: number };
  /** How the head poses were found: 'photometric' (landmark poses refined on the pixels; `fallbacks`
   * frames kept their landmark pose) or 'landmarks'. */
  poses: { method: 'photometric' | 'landmarks'; fallbacks: number };
  warnings: string[];
  timingsMs: Record<PrepareStage | 'total', number>;
}

function aborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new R2TalkerError('ABORTED', 'prepare: cancelled');
}

function refuse(message: string): never {
  throw FormatError.input('video', message);
}

function summary(dropped: Record<string, number>): string {
  const parts = Object.entries(dropped).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${n} ${r}`);
  return parts.length ? ` (dropped: ${parts.join(', ')})` : '';
}

function checkAudio(audio: PcmAudio | null, videoSeconds: number, warnings: string[]): PcmAudio {
  if (!audio || audio.samples.length === 0) refuse('no audio: the subject needs the speech that goes with the video (pass --audio, or a video with a sound track)');
  if (!(audio.sampleRate >= 8000 && audio.sampleRate <= 192000)) throw FormatError.input('audio.sampleRate', `expected 8000..192000 Hz, got ${audio.sampleRate}`);
  let sq = 0;
  for (const v of audio.samples) sq += v * v;
  if (!(Math.sqrt(sq / audio.samples.length) > 1e-4)) refuse('no audio: the sound track is silent');
  const seconds = audio.samples.length / audio.sampleRate;
  if (seconds + 1 < videoSeconds) warnings.push(`audio (${seconds.toFixed(1)} s) is shorter than the video (${videoSeconds.toFixed(1)} s)`);
  return audio;
}

/**
 * Prepares a subject from `frames` and `audio` into `sink`. Resolves with the report (also
 * written as prepare.json); rejects with a FormatError naming the problem for unusable input.
 */
export async function prepareSubject(frames: FrameSource, audio: PcmAudio | null, sink: SubjectSink, codec: SubjectEncoder, models: FaceModels, opts: PrepareOptions = {}): Promise<PrepareReport> {
  try {
    return await run(frames, audio, sink, codec, models, opts);
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

async function run(frames: FrameSource, audioIn: PcmAudio | null, sink: SubjectSink, codec: SubjectEncoder, models: FaceModels, opts: PrepareOptions): Promise<PrepareReport> {
  const t0 = performance.now();
  const size = opts.size ?? 512;
  const minSeconds = opts.minSeconds ?? 20;
  const warnSeconds = opts.warnSeconds ?? 60;
  const progress = opts.onProgress ?? (() => {});
  if (!Number.isInteger(frames.count) || frames.count < 1) refuse('zero frames');
  if (!(frames.fps > 0 && frames.fps <= 240)) throw FormatError.input('fps', `expected 0 < fps <= 240, got ${frames.fps}`);
  // 25 fps timeline: output frame k shows the source frame nearest to k/25 s.
  const total = Math.floor(((frames.count - 1) * OUTPUT_FPS) / frames.fps) + 1;
  const sourceIndex = (k: number): number => Math.min(frames.count - 1, Math.round((k * frames.fps) / OUTPUT_FPS));
  const warnings: string[] = [];
  const audio = checkAudio(audioIn, total / OUTPUT_FPS, warnings);

  // Pass 1: track.
  const tracker = new FaceTracker(models);
  const meshes: (Float32Array | null)[] = [];
  const lids: (Float32Array | null)[] = [];
  const extents: (FaceExtent | null)[] = [];
  const thumbs: (Float32Array | null)[] = [];
  const scores: number[] = [];
  const reason: (DropReason | null)[] = [];
  let checked = 0;
  let crowded = 0;
  let width = 0;
  let height = 0;
  for (let k = 0; k < total; k++) {
    aborted(opts.signal);
    const frame = await frames.read(sourceIndex(k));
    if (k === 0) ({ width, height } = frame);
    else if (frame.width !== width || frame.height !== height) throw FormatError.input(`frame ${sourceIndex(k)}`, `expected ${width}x${height} like the first frame, got ${frame.width}x${frame.height}`);
    const res = tracker.track(frame);
    let why: DropReason | null = null;
    if (res.detections) {
      checked++;
      if (severalFaces(res.detections)) {
        crowded++;
        why = 'several faces';
      }
    }
    const mesh = res.mesh?.points ?? null;
    const ext = mesh ? faceExtent(mesh) : null;
    if (!mesh || !ext) why = 'no face';
    else if (ext.width < LIMITS.minFaceWidth) why = 'face too small';
    else if (faceCutOff(mesh, frame, ext)) why = 'face cut off';
    else if (faceLuma(frame, ext) < LIMITS.minFaceLuma) why = 'too dark';
    meshes.push(mesh);
    lids.push(res.lids);
    extents.push(ext);
    thumbs.push(mesh ? thumbnail(frame) : null);
    if (res.mesh) scores.push(res.mesh.score);
    reason.push(why);
    progress('track', k + 1, total);
  }
  if (checked > 0 && crowded / checked > LIMITS.severalFacesShare) refuse(`several faces: another person is in view in ${crowded} of ${checked} checked frames; record alone`);
  backgroundChanged(thumbs, extents, width, height).forEach((moved, k) => {
    if (moved && !reason[k]) reason[k] = 'camera moved or cut';
  });
  const tTrack = performance.now();

  // Framing, then frames whose face leaves the crop.
  const keptIdx = (): number[] => reason.flatMap((r, k) => (r ? [] : [k]));
  if (keptIdx().length === 0) {
    const counts = tally(reason);
    refuse(`no usable face in any frame${summary(counts)}`);
  }
  const crop = chooseCrop(keptIdx().map((k) => extents[k]!), width, height, size);
  const cropMeshes: (Float32Array | null)[] = meshes.map((m, k) => (m && !reason[k] ? meshToCrop(m, crop) : null));
  cropMeshes.forEach((m, k) => {
    if (!m) return;
    const e = faceExtent(m);
    if (e.cx - e.width / 2 < 0 || e.cx + e.width / 2 > size || e.cy - e.height / 2 < 0 || e.cy + e.height / 2 > size) {
      reason[k] = 'face leaves the crop';
      cropMeshes[k] = null;
    }
  });
  const kept = keptIdx();
  const dropped = tally(reason);
  const usableSeconds = kept.length / OUTPUT_FPS;
  if (usableSeconds < minSeconds) refuse(`too short: ${usableSeconds.toFixed(1)} s of usable frames, at least ${minSeconds} s are needed${summary(dropped)}`);
  if (usableSeconds < warnSeconds) warnings.push(`only ${usableSeconds.toFixed(1)} s of usable frames: ${warnSeconds} s or more train a better avatar`);

  // Camera and poses.
  progress('fit', 0, 1);
  // The lids are in frame pixels, the meshes in the crop's: eye_ratio is the same in both.
  let fit = fitVideo(cropMeshes, size, size, models.canonical, { lids, ...(opts.focal ? { focal: opts.focal } : {}) });
  let fallbacks = 0;
  const photometric = opts.photometric ?? true;
  let focalSource: PrepareReport['focalSource'] = { method: opts.focal ? 'given' : 'landmarks' };
  if (photometric) {
    const read = async (k: number) => {
      aborted(opts.signal);
      return cropFrame(await frames.read(sourceIndex(k)), crop);
    };
    const searched = !opts.focal;
    if (searched) {
      // The fit stage's bar: the focal search its first half (it takes about as long as refining
      // a few hundred frames), the refinement the second.
      const search = await searchFocalPhotometric(fit, cropMeshes, models.canonical, { read, relief: opts.relief, check: () => aborted(opts.signal), onProgress: (done, n) => progress('fit', done, 2 * n) });
      const seen = { landmarkFocal: search.landmarkF, motionDeg: search.motionDeg, ...(search.rise !== undefined ? { rise: search.rise } : {}) };
      if (search.observed) {
        focalSource = { method: 'photometric', ...seen };
        fit = fitVideo(cropMeshes, size, size, models.canonical, { lids, focal: search.f });
      } else {
        // The landmark focal is no better founded than the pixels here: with the focal
        // unobservable its minimum is wherever the template's shape error puts it.
        const f = focalAtDistance(fit);
        focalSource = { method: 'distance', ...seen, distanceCm: TYPICAL_CAMERA_DISTANCE_CM, reason: search.reason };
        warnings.push(`the focal length could not be measured (${search.reason}); assumed the face ${TYPICAL_CAMERA_DISTANCE_CM} cm from the camera: ${f.toFixed(0)} px (the landmark fit gave ${search.landmarkF.toFixed(0)}); pass --focal if it is known`);
        fit = fitVideo(cropMeshes, size, size, models.canonical, { lids, focal: f });
      }
    }
    const refined = await refineVideoPhotometric(fit, cropMeshes, models.canonical, {
      read,
      check: () => aborted(opts.signal),
      relief: opts.relief,
      ...(opts.headShell === false
        ? {}
        : {
            headMask: (img: RgbFrame, k: number) => {
              const m = labelPerson(segmentPerson(models.segmenter, img), img.rgb, cropMeshes[k]!, fit.frames[k]!.lms, size, size);
              return m.map((v) => (v === LABEL.head ? 1 : 0));
            },
          }),
      onProgress: (done, n) => (searched ? progress('fit', n + 1 + done, 2 * (n + 1)) : progress('fit', done, n + 1)),
    });
    fit = refined.fit;
    fallbacks = refined.fallbacks;
  }
  progress('fit', 1, 1);
  const tFit = performance.now();

  // Background.
  const est = new BackgroundEstimator(size, size, Math.max(2, Math.round(size * 0.02)));
  const picks = Array.from({ length: Math.min(BACKGROUND_SAMPLES, kept.length) }, (_, j) => kept[Math.floor((j * kept.length) / Math.min(BACKGROUND_SAMPLES, kept.length))]);
  for (let j = 0; j < picks.length; j++) {
    aborted(opts.signal);
    const k = picks[j];
    const img = cropFrame(await frames.read(sourceIndex(k)), crop);
    const f = fit.frames[k]!;
    // Neither the geometric envelope nor what the segmentation calls person is background.
    const covered = envelope(cropMeshes[k]!, f.lms, size, size);
    const person = segmentPerson(models.segmenter, img);
    for (let i = 0; i < covered.length; i++) if (person[i] >= 0.5) covered[i] = 1;
    // The mask pass 2 gives gt_imgs: its background pixels are the ones bc must get right.
    est.add(img.rgb, covered, labelPerson(person, img.rgb, cropMeshes[k]!, f.lms, size, size));
    progress('background', j + 1, picks.length);
  }
  const bc = est.finish();
  const tBg = performance.now();

  // Pass 2: write.
  const valStart = opts.valSeconds !== undefined ? Math.max(1, kept.length - Math.round(opts.valSeconds * OUTPUT_FPS)) : referenceValStart(kept.length);
  if (opts.valSeconds !== undefined && !(opts.valSeconds > 0 && valStart < kept.length)) throw FormatError.input('valSeconds', `expected a positive number of seconds shorter than the ${usableSeconds.toFixed(1)} s usable, got ${opts.valSeconds}`);
  const writer = new SubjectWriter(sink, codec, { width: size, height: size, focal: fit.intrinsics.f });
  const gtEdge = Math.max(1, Math.round(GT_EDGE_SHARE * size));
  // The open eye at one level, blinks kept: the lids' frame-to-frame wander is no eye motion, and
  // the trainer would fit it over the whole head (face/eye-steady.ts).
  const steadyEyes = opts.steadyEyes ?? true;
  const eyes = steadyEyeRatio(kept.map((k) => fit.frames[k]!.eyeRatio));
  await writer.writeBackground({ width: size, height: size, channels: 3, data: bc.rgb });
  for (let j = 0; j < kept.length; j++) {
    aborted(opts.signal);
    const k = kept[j];
    const img = cropFrame(await frames.read(sourceIndex(k)), crop);
    const f = fit.frames[k]!;
    const mask = labelPerson(segmentPerson(models.segmenter, img), img.rgb, cropMeshes[k]!, f.lms, size, size);
    const rgb = (data: Uint8Array) => ({ width: size, height: size, channels: 3 as const, data });
    await writer.addFrame({
      split: j < valStart ? 'train' : 'val',
      imgId: k,
      audId: k,
      transform: f.transform.flat(),
      eyeRatio: steadyEyes ? eyes.values[j] : f.eyeRatio,
      lms: f.lms,
      condition: f.idexp,
      ori: rgb(img.rgb),
      gt: rgb(groundTruthImage(img.rgb, mask, bc.rgb, dilatePerson(mask, size, size, gtEdge))),
      parsing: rgb(parsingImage(mask)),
      torso: { width: size, height: size, channels: 4, data: torsoImage(img.rgb, mask, size, size, f.lms) },
    });
    progress('write', j + 1, kept.length);
  }
  const pcm16k = audio.sampleRate === AUDIO_RATE ? audio.samples : resample(audio.samples, audio.sampleRate, AUDIO_RATE);
  await writer.writeFile('aud.wav', writeWav([pcm16k], AUDIO_RATE, 'pcm16'));
  const tWrite = performance.now();

  const fitted = kept.map((k) => fit.frames[k]!);
  const eul = fitted.map((f) => eulerXYZ(f.transform.flat()).map((v) => (v * 180) / Math.PI));
  const range = (v: number[]): [number, number] => [Math.min(...v), Math.max(...v)];
  const report: PrepareReport = {
    version: 1,
    input: { frames: frames.count, fps: frames.fps, width, height, audioSeconds: audio.samples.length / audio.sampleRate, ...(opts.decoder ? { decoder: opts.decoder } : {}) },
    crop,
    frames: { total, kept: kept.length, dropped, droppedFrames: reason.flatMap((r, index) => (r ? [{ index, reason: r }] : [])) },
    split: { train: valStart, val: kept.length - valStart },
    usableSeconds,
    focal: fit.intrinsics.f,
    focalSource,
    cx: size / 2,
    cy: size / 2,
    poseDegrees: { x: range(eul.map((e) => e[0])), y: range(eul.map((e) => e[1])), z: range(eul.map((e) => e[2])) },
    cameraDistance: range(fitted.map((f) => Math.hypot(f.transform[0][3], f.transform[1][3], f.transform[2][3]))),
    landmarks: {
      meanScore: scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length),
      minScore: Math.min(...scores),
      meanReprojectionPx: fitted.reduce((s, f) => s + f.rmsPx, 0) / fitted.length,
      eyeLids: models.eyes ? 'attention' : 'face mesh',
      maxReprojectionPx: Math.max(...fitted.map((f) => f.rmsPx)),
    },
    eyeRatio: { method: steadyEyes ? 'steady' : 'per frame', open: eyes.open, noise: eyes.noise, blinks: eyes.blinks, blinkFrames: eyes.blinkFrames },
    poses: { method: photometric ? 'photometric' : 'landmarks', fallbacks },
    warnings,
    timingsMs: { track: tTrack - t0, fit: tFit - tTrack, background: tBg - tFit, write: tWrite - tBg, total: 0 },
  };
  report.timingsMs.total = performance.now() - t0;
  await writer.writeFile('prepare.json', new TextEncoder().encode(JSON.stringify(report, null, 1)));
  await writer.finish();
  return report;
}

function tally(reason: (DropReason | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reason) if (r) out[r] = (out[r] ?? 0) + 1;
  return out;
}
