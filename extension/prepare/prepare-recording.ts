/**
 * Recording in, training subject out, inside the extension: the page decodes the recording
 * (BlobVideo, decodeAudioBlob), the prepare worker (prepare-worker.ts) tracks, fits, masks and
 * writes the subject into OPFS subjects/<name> atomically, and the subject comes back opened
 * over OPFS for the trainer. Must run in an extension page (it needs a <video> element and
 * the extension's worker script).
 */
import * as Comlink from 'comlink';
import { errorFromJSON, FormatError, R2TalkerError } from '../../worker/errors.ts';
import type { PrepareReport, PrepareStage } from '../../worker/prepare/pipeline.ts';
import { OUTPUT_FPS } from '../../worker/prepare/pipeline.ts';
import type { SubjectFiles } from '../../worker/subject/files.ts';
import { checkSubjectName, opfsSubjectFiles } from '../../worker/subject/files.opfs.ts';
import type { ImageCodec } from '../../worker/subject/images.ts';
import { openSubject, type Subject } from '../../worker/subject/reader.ts';
import { browserImageDecoder } from '../train/image-decoder.ts';
import { browserImageEncoder } from './image-encoder.ts';
import { isWorkerFailure, SUBJECTS_DIR, type PrepareWorkerApi } from './protocol.ts';
import { BlobVideo, decodeAudioBlob, VideoDecodeError } from './video-blob.ts';

export type RecordingStage = 'decode' | PrepareStage;

export interface PrepareRecordingOptions {
  signal?: AbortSignal;
  onProgress?: (stage: RecordingStage, done: number, total: number) => void;
  /** Output side in pixels (default 512). */
  size?: number;
  /** Replace an existing subject of that name (default: refuse). */
  overwrite?: boolean;
  /** Usable seconds under which the recording is refused (default 20; lower only for tests and previews). */
  minSeconds?: number;
  /** Usable seconds under which a warning is given (default 60). */
  warnSeconds?: number;
  /** Seconds at the end held out for validation (default: the reference's last 1/11). */
  valSeconds?: number;
}

export interface PreparedRecording {
  /** Opened with check 'headers' (sizes checked, pixels decoded on use). */
  subject: Subject;
  files: SubjectFiles;
  report: PrepareReport;
}

/** The browser's own codec for subjects: decoding for the reader and trainer, encoding for the writer. */
export const browserSubjectCodec: ImageCodec = { ...browserImageDecoder, ...browserImageEncoder };

const MAX_BYTES = 2 * 1024 ** 3;
const MAX_SIDE = 4096;
/** An hour at 25 fps. */
const MAX_FRAMES = 90_000;
/** The reference trains on 16 kHz audio features; decodeAudioData resamples to it. */
const AUDIO_RATE = 16_000;

function workerUrl(): string {
  const runtime = (globalThis as { chrome?: { runtime?: { getURL?: (p: string) => string } } }).chrome?.runtime;
  if (!runtime?.getURL) throw new R2TalkerError('INTERNAL', 'prepare: must run in an extension page (chrome.runtime.getURL is missing)');
  return runtime.getURL('prepare-worker.js');
}

/** The OPFS folder the subjects live in (created on first use). */
export async function subjectsDirectory(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(SUBJECTS_DIR, { create: true });
}

/** Opens a subject prepared earlier (e.g. to resume training after the page was closed). */
export async function openPreparedSubject(subjectDirName: string, codec: ImageCodec = browserSubjectCodec): Promise<{ subject: Subject; files: SubjectFiles }> {
  const name = checkSubjectName(subjectDirName);
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await (await subjectsDirectory()).getDirectoryHandle(name);
  } catch (e) {
    throw FormatError.input(`opfs:${SUBJECTS_DIR}/${name}`, `no such prepared subject (${(e as Error).name})`, e);
  }
  const files = opfsSubjectFiles(dir, `opfs:${SUBJECTS_DIR}/${name}`);
  return { subject: await openSubject(files, codec, { check: 'headers' }), files };
}

export async function prepareRecording(recording: Blob, subjectDirName: string, opts: PrepareRecordingOptions = {}): Promise<PreparedRecording> {
  const name = checkSubjectName(subjectDirName);
  if (!(recording instanceof Blob)) throw FormatError.input('recording', 'expected a Blob');
  if (recording.size === 0) throw FormatError.input('recording', 'empty file');
  if (recording.size > MAX_BYTES) throw FormatError.input('recording', `${recording.size} bytes, over the ${MAX_BYTES}-byte limit`);
  const progress = opts.onProgress ?? (() => {});
  const aborted = (): void => {
    if (opts.signal?.aborted) throw new R2TalkerError('ABORTED', 'prepare: cancelled');
  };
  aborted();
  progress('decode', 0, 1);
  let video: BlobVideo;
  try {
    video = await BlobVideo.open(recording);
  } catch (e) {
    if (e instanceof VideoDecodeError) throw FormatError.input('recording', e.message, e);
    throw e;
  }
  let worker: Worker | null = null;
  try {
    const { width, height, duration } = video.info;
    if (width > MAX_SIDE || height > MAX_SIDE) throw FormatError.input('recording', `frames are ${width}x${height}, over ${MAX_SIDE}x${MAX_SIDE}`);
    if (!Number.isFinite(duration) || duration <= 0) throw FormatError.input('recording', `zero frames (duration ${duration})`);
    const count = Math.min(MAX_FRAMES, Math.floor(duration * OUTPUT_FPS));
    if (count < 1) throw FormatError.input('recording', 'zero frames');
    const pcm = await decodeAudioBlob(recording, AUDIO_RATE);
    progress('decode', 1, 1);
    aborted();

    worker = new Worker(workerUrl());
    const remote = Comlink.wrap<PrepareWorkerApi>(worker);
    const onAbort = (): void => void remote.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // Frame k of the 25 fps timeline is the picture shown in the middle of its slot.
    const grab = async (index: number): Promise<Uint8Array> => {
      if (!(Number.isInteger(index) && index >= 0 && index < count)) throw new R2TalkerError('INPUT_FORMAT', `recording: frame ${index} out of range`);
      try {
        const rgb = await video.grab((index + 0.5) / OUTPUT_FPS);
        return Comlink.transfer(rgb, [rgb.buffer]);
      } catch (e) {
        throw { r2tFailure: true, code: 'INPUT_FORMAT', message: `recording: frame ${index}: ${(e as Error).message}` };
      }
    };
    let report: PrepareReport;
    try {
      report = await remote.prepare(
        {
          video: { count, fps: OUTPUT_FPS, width, height },
          audio: pcm && pcm.length ? { samples: pcm, sampleRate: AUDIO_RATE } : null,
          subjectDir: name,
          size: opts.size ?? 512,
          overwrite: opts.overwrite ?? false,
          minSeconds: opts.minSeconds,
          warnSeconds: opts.warnSeconds,
          valSeconds: opts.valSeconds,
        },
        Comlink.proxy(grab),
        Comlink.proxy((stage: PrepareStage, done: number, total: number) => progress(stage, done, total)),
      );
    } catch (e) {
      if (isWorkerFailure(e)) throw errorFromJSON(e);
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    const opened = await openPreparedSubject(name);
    return { ...opened, report };
  } finally {
    worker?.terminate();
    video.close();
  }
}
