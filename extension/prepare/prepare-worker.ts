/**
 * The prepare worker (dist/extension/prepare-worker.js): runs the whole preparation —
 * decoding (our demuxer + WebCodecs), tfjs face models on wasm, the camera fit, masks, image
 * encoding, OPFS writes — off the page's main thread, so the create page stays responsive.
 * Only what a worker cannot do goes back to the page (PageDecoder): the <video> element
 * route for files the demuxer or this WebCodecs cannot read, and decodeAudioData.
 */
import * as Comlink from 'comlink';
import { errorFromJSON, FormatError, R2TalkerError } from '../../worker/errors.ts';
import { loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';
import { OUTPUT_FPS, prepareSubject, type DecoderReport, type FrameSource, type PcmAudio } from '../../worker/prepare/pipeline.ts';
import { elementReport, openWebCodecsRecording } from '../../worker/prepare/recording.ts';
import { opfsSink } from '../../worker/subject/files.opfs.ts';
import { extensionFaceModelSource } from './face-models.ts';
import { turboJpegEncoder, TURBO_JPEG_WASM } from '../../worker/subject/jpeg-turbo.ts';
import { imageEncoderWithJpeg, type ImageEncoder } from './image-encoder.ts';
import { isWorkerFailure, SUBJECTS_DIR, type PageDecoder, type PrepareJob, type PrepareWorkerApi, type WorkerFailure } from './protocol.ts';

let running: AbortController | null = null;
let models: Promise<FaceModels> | null = null;
let encoder: Promise<ImageEncoder> | null = null;

/** libjpeg-turbo's wasm, copied into the extension by the build (face-assets.webpack.ts). */
async function loadEncoder(): Promise<ImageEncoder> {
  const url = new URL(TURBO_JPEG_WASM.bundled, extensionRoot()).href;
  const res = await fetch(url);
  if (!res.ok) throw FormatError.input(TURBO_JPEG_WASM.bundled, `cannot read the JPEG encoder (HTTP ${res.status}); the extension build is incomplete`);
  return imageEncoderWithJpeg(turboJpegEncoder(new WebAssembly.Module(await res.arrayBuffer())));
}

/** The reference trains on 16 kHz audio features. */
const AUDIO_RATE = 16_000;
const MAX_BYTES = 2 * 1024 ** 3;
const MAX_SIDE = 4096;
/** An hour at 25 fps. */
const MAX_FRAMES = 90_000;
const FIELD = 'recording';

/** The extension's root URL: chrome.runtime is not exposed to dedicated workers, but this script is served from it. */
function extensionRoot(): string {
  return new URL('./', self.location.href).href;
}

function failure(e: unknown): WorkerFailure {
  if (isWorkerFailure(e)) return e;
  const code = e instanceof R2TalkerError ? e.code : 'INTERNAL';
  return { r2tFailure: true, code, message: e instanceof Error ? e.message : String(e) };
}

/** A page call's failure as the error it was (Comlink carries WorkerFailures as plain objects). */
async function fromPage<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw isWorkerFailure(e) ? errorFromJSON(e) : e;
  }
}

interface Decoded {
  width: number;
  height: number;
  duration: number;
  grab(seconds: number): Promise<Uint8Array>;
  audio: PcmAudio | null;
  report: DecoderReport;
  close(): void;
}

/** The recording through demuxer + WebCodecs here, or through the page's <video> when that cannot read it. */
async function decode(job: PrepareJob, page: PageDecoder): Promise<Decoded> {
  const blob = job.recording;
  if (!(blob instanceof Blob)) throw FormatError.input(FIELD, 'expected a Blob');
  if (blob.size === 0) throw FormatError.input(FIELD, 'empty file');
  if (blob.size > MAX_BYTES) throw FormatError.input(FIELD, `${blob.size} bytes, over the ${MAX_BYTES}-byte limit`);
  const attempt = await openWebCodecsRecording(new Uint8Array(await blob.arrayBuffer()), {
    timeoutMs: job.timeoutMs,
    field: FIELD,
    audioFallback: (rate) => fromPage(page.audio(rate)),
  });
  if ('opened' in attempt) {
    const r = attempt.opened;
    try {
      const pcm = await r.audio(AUDIO_RATE);
      return { width: r.width, height: r.height, duration: r.duration, grab: (t) => r.grab(t), audio: pcm && pcm.length ? { samples: pcm, sampleRate: AUDIO_RATE } : null, report: r.report, close: () => r.close() };
    } catch (e) {
      r.close();
      throw e;
    }
  }
  const info = await fromPage(page.openElement(attempt.fallbackReason));
  const report = elementReport(attempt.fallbackReason, attempt.demuxed);
  const pcm = await fromPage(page.audio(AUDIO_RATE));
  if (pcm && pcm.length) report.audioRoute = 'decodeAudioData';
  return { ...info, grab: (t) => fromPage(page.grab(t)), audio: pcm && pcm.length ? { samples: pcm, sampleRate: AUDIO_RATE } : null, report, close: () => {} };
}

const api: PrepareWorkerApi = {
  async prepare(job, page, onProgress) {
    if (running) throw failure(new R2TalkerError('INTERNAL', 'prepare: a preparation is already running in this worker'));
    const ctl = new AbortController();
    running = ctl;
    let decoded: Decoded | null = null;
    try {
      // Loaded once per worker, while the recording decodes; a failed load is retried by the next job.
      models ??= loadFaceModels(extensionFaceModelSource(extensionRoot())).catch((e: unknown) => {
        models = null;
        throw e;
      });
      encoder ??= loadEncoder().catch((e: unknown) => {
        encoder = null;
        throw e;
      });
      // Awaited below; a load failure while the recording is refused must not go unhandled.
      models.catch(() => {});
      encoder.catch(() => {});
      onProgress('decode', 0, 1);
      decoded = await decode(job, page);
      const { width, height, duration } = decoded;
      if (width > MAX_SIDE || height > MAX_SIDE) throw FormatError.input(FIELD, `frames are ${width}x${height}, over ${MAX_SIDE}x${MAX_SIDE}`);
      if (!Number.isFinite(duration) || duration <= 0) throw FormatError.input(FIELD, `zero frames (duration ${duration})`);
      const count = Math.min(MAX_FRAMES, Math.floor(duration * OUTPUT_FPS));
      if (count < 1) throw FormatError.input(FIELD, 'zero frames');
      onProgress('decode', 1, 1);
      if (ctl.signal.aborted) throw new R2TalkerError('ABORTED', 'prepare: cancelled');
      const faceModels = await models;
      const imageEncoder = await encoder;
      const parent = await (await navigator.storage.getDirectory()).getDirectoryHandle(SUBJECTS_DIR, { create: true });
      const sink = await opfsSink(parent, job.subjectDir, { overwrite: job.overwrite });
      const source = decoded;
      // Frame k of the 25 fps timeline is the picture shown in the middle of its slot.
      const frames: FrameSource = {
        count,
        fps: OUTPUT_FPS,
        async read(index) {
          if (!(Number.isInteger(index) && index >= 0 && index < count)) throw new R2TalkerError('INPUT_FORMAT', `recording: frame ${index} out of range`);
          let rgb: Uint8Array;
          try {
            rgb = await source.grab((index + 0.5) / OUTPUT_FPS);
          } catch (e) {
            throw e instanceof R2TalkerError ? e : FormatError.input(FIELD, `frame ${index}: ${(e as Error).message}`, e);
          }
          if (!(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) throw new R2TalkerError('INPUT_FORMAT', `frame ${index}: expected ${width * height * 3} RGB bytes, got ${rgb?.length}`);
          return { width, height, rgb };
        },
      };
      return await prepareSubject(frames, decoded.audio, sink, imageEncoder, faceModels, {
        size: job.size,
        minSeconds: job.minSeconds,
        warnSeconds: job.warnSeconds,
        valSeconds: job.valSeconds,
        decoder: decoded.report,
        signal: ctl.signal,
        onProgress: (stage, done, total) => void onProgress(stage, done, total),
      });
    } catch (e) {
      throw failure(e);
    } finally {
      decoded?.close();
      running = null;
    }
  },
  cancel() {
    running?.abort();
  },
};

Comlink.expose(api);
