/**
 * Recording in, training subject out, inside the extension: the prepare worker
 * (prepare-worker.ts) demuxes and decodes the recording with WebCodecs, tracks, fits, masks and
 * writes the subject into OPFS subjects/<name> atomically; this page lends it a <video> element
 * and decodeAudioData for files the demuxer or WebCodecs cannot read (PageDecoder). The subject
 * comes back opened over OPFS for the trainer. Must run in an extension page (it needs the
 * extension's worker script, and a <video> element for the fallback).
 */
import * as Comlink from 'comlink';
import { errorFromJSON, FormatError, R2TalkerError } from '../../worker/errors.ts';
import type { PrepareReport } from '../../worker/prepare/pipeline.ts';
import type { SubjectFiles } from '../../worker/subject/files.ts';
import { checkSubjectName, opfsSubjectFiles } from '../../worker/subject/files.opfs.ts';
import type { ImageCodec } from '../../worker/subject/images.ts';
import { openSubject, type Subject } from '../../worker/subject/reader.ts';
import { browserImageDecoder } from '../train/image-decoder.ts';
import { browserImageEncoder } from './image-encoder.ts';
import { isWorkerFailure, SUBJECTS_DIR, type PageDecoder, type PrepareWorkerApi, type RecordingStage, type WorkerFailure } from './protocol.ts';
import { BlobVideo, decodeAudioBlob } from './video-blob.ts';

export type { RecordingStage } from './protocol.ts';
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
  // The page's side of decoding: only used when the worker cannot read the file itself.
  let video: BlobVideo | null = null;
  const asFailure = (e: unknown): WorkerFailure => ({ r2tFailure: true, code: e instanceof R2TalkerError ? e.code : 'INPUT_FORMAT', message: e instanceof Error ? e.message : String(e) });
  const page: PageDecoder = {
    async openElement(reason) {
      try {
        video?.close();
        video = await BlobVideo.open(recording);
        return video.info;
      } catch (e) {
        throw asFailure(FormatError.input('recording', `${reason}, and the browser's <video> cannot play it either: ${(e as Error).message}`, e));
      }
    },
    async grab(seconds) {
      if (!video) throw asFailure(new R2TalkerError('INTERNAL', 'prepare: grab before openElement'));
      try {
        const rgb = await video.grab(seconds);
        return Comlink.transfer(rgb, [rgb.buffer]);
      } catch (e) {
        throw asFailure(FormatError.input('recording', `the picture at ${seconds.toFixed(2)} s: ${(e as Error).message}`, e));
      }
    },
    async audio(sampleRate) {
      const pcm = await decodeAudioBlob(recording, sampleRate);
      return pcm ? Comlink.transfer(pcm, [pcm.buffer]) : null;
    },
  };
  const worker = new Worker(workerUrl());
  try {
    const remote = Comlink.wrap<PrepareWorkerApi>(worker);
    const onAbort = (): void => void remote.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let report: PrepareReport;
    try {
      report = await remote.prepare(
        {
          recording,
          subjectDir: name,
          size: opts.size ?? 512,
          overwrite: opts.overwrite ?? false,
          minSeconds: opts.minSeconds,
          warnSeconds: opts.warnSeconds,
          valSeconds: opts.valSeconds,
        },
        Comlink.proxy(page),
        Comlink.proxy((stage: RecordingStage, done: number, total: number) => progress(stage, done, total)),
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
    worker.terminate();
    (video as BlobVideo | null)?.close();
  }
}
