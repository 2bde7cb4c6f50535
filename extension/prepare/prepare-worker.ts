/**
 * The prepare worker (dist/extension/prepare-worker.js): runs the whole preparation —
 * tfjs face models on wasm, the camera fit, masks, image encoding, OPFS writes — off the page's
 * main thread, so the create page stays responsive. Frames come from the page on request
 * (decoding needs a <video> element, which workers lack).
 */
import * as Comlink from 'comlink';
import { R2TalkerError } from '../../worker/errors.ts';
import { loadFaceModels, type FaceModels } from '../../worker/face/tracker.ts';
import { prepareSubject, type FrameSource } from '../../worker/prepare/pipeline.ts';
import { opfsSink } from '../../worker/subject/files.opfs.ts';
import { extensionFaceModelSource } from './face-models.ts';
import { browserImageEncoder } from './image-encoder.ts';
import { SUBJECTS_DIR, type PrepareJob, type PrepareWorkerApi, type WorkerFailure } from './protocol.ts';

let running: AbortController | null = null;
let models: Promise<FaceModels> | null = null;

/** The extension's root URL: chrome.runtime is not exposed to dedicated workers, but this script is served from it. */
function extensionRoot(): string {
  return new URL('./', self.location.href).href;
}

function failure(e: unknown): WorkerFailure {
  const code = e instanceof R2TalkerError ? e.code : 'INTERNAL';
  return { r2tFailure: true, code, message: e instanceof Error ? e.message : String(e) };
}

function checkJob(job: PrepareJob): void {
  const v = job?.video;
  if (!v || !Number.isInteger(v.count) || v.count < 0 || !(v.fps > 0) || !Number.isInteger(v.width) || !Number.isInteger(v.height) || v.width < 1 || v.height < 1) {
    throw new R2TalkerError('INPUT_FORMAT', `prepare: bad video description ${JSON.stringify(v)}`);
  }
}

const api: PrepareWorkerApi = {
  async prepare(job, grab, onProgress) {
    if (running) throw failure(new R2TalkerError('INTERNAL', 'prepare: a preparation is already running in this worker'));
    const ctl = new AbortController();
    running = ctl;
    try {
      checkJob(job);
      // Loaded once per worker; a failed load is retried by the next job.
      models ??= loadFaceModels(extensionFaceModelSource(extensionRoot())).catch((e: unknown) => {
        models = null;
        throw e;
      });
      const faceModels = await models;
      const parent = await (await navigator.storage.getDirectory()).getDirectoryHandle(SUBJECTS_DIR, { create: true });
      const sink = await opfsSink(parent, job.subjectDir, { overwrite: job.overwrite });
      const { count, fps, width, height } = job.video;
      const frames: FrameSource = {
        count,
        fps,
        async read(index) {
          const rgb = await grab(index);
          if (!(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) throw new R2TalkerError('INPUT_FORMAT', `frame ${index}: expected ${width * height * 3} RGB bytes, got ${rgb?.length}`);
          return { width, height, rgb };
        },
      };
      return await prepareSubject(frames, job.audio, sink, browserImageEncoder, faceModels, {
        size: job.size,
        minSeconds: job.minSeconds,
        warnSeconds: job.warnSeconds,
        valSeconds: job.valSeconds,
        signal: ctl.signal,
        onProgress: (stage, done, total) => void onProgress(stage, done, total),
      });
    } catch (e) {
      throw failure(e);
    } finally {
      running = null;
    }
  },
  cancel() {
    running?.abort();
  },
};

Comlink.expose(api);
