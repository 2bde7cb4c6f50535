/**
 * The training worker the create page starts (a dedicated worker, so the page stays responsive
 * while the trainer's CPU parts and previews run): WebGPU trainer backend on navigator.gpu, the
 * job's subject and checkpoints in OPFS; the landmark generator trains here too, on the CPU.
 * It keeps the job record current after every checkpoint, * so a tab closed (or a browser restarted) mid-training resumes from the last one.
 */
import { fetchBuiltinAvatar } from '../../worker/avatar/builtin.ts';
import { R2TalkerError } from '../../worker/errors.ts';
import { acquireGpu } from '../../worker/gpu/device.ts';
import { WebGpuTrainerBackend } from '../../trainer/nerf/gpu/backend.ts';
import { browserImageDecoder } from './image-decoder.ts';
import { jobFiles, preparedSubject, readJob, updateJob } from './job-store.ts';
import { JOB_STAGES } from './job.ts';
import { describeFailure } from './failure.ts';
import type { FromTrainer, ToTrainer } from './protocol.ts';
import { runTrainJob, type CheckpointInfo } from './run-job.ts';
import { copyBytes } from '../../worker/util/bytes.ts';

const post = (m: FromTrainer, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
let ctrl: AbortController | null = null;

async function run(jobId: string): Promise<void> {
  ctrl = new AbortController();
  const signal = ctrl.signal;
  let last: CheckpointInfo | null = null;
  let backend: WebGpuTrainerBackend | null = null;
  try {
    const job = await readJob(jobId);
    if (!job) throw new R2TalkerError('CONFIG', `no creation job ${jobId} is stored`);
    const subject = await preparedSubject(jobId);
    if (!subject) throw new R2TalkerError('CONFIG', 'the prepared recording is missing: prepare it again');
    await updateJob(jobId, { state: 'training', error: null });
    const gpu = await acquireGpu({ gpu: navigator.gpu });
    post({ type: 'gpu', description: gpu.caps.description, fallback: gpu.caps.fallback });
    // A lost device (driver reset, GPU process crash) stops the run like a pause would.
    void gpu.lost.then((info) => {
      if (!signal.aborted) ctrl?.abort(new R2TalkerError('GPU_DEVICE_LOST', info.message || info.reason || 'device lost'));
    });
    backend = new WebGpuTrainerBackend(gpu, true);
    const bytes = await runTrainJob(backend, subject, browserImageDecoder, await jobFiles(jobId), job.settings, job.name, {
      signal,
      onProgress: (progress) => post({ type: 'progress', progress }),
      onPreview: (frame) => post({ type: 'preview', frame }, [frame.rgba.buffer]),
      // The built-in avatar is bundled beside this worker's script (webpack copies it).
      loadPrior: () => fetchBuiltinAvatar(self.location.href),
      onCheckpoint: async (info) => {
        last = info;
        await updateJob(jobId, { stage: info.stage, step: info.step, completed: info.completed, ...(info.iters !== undefined ? { generatorSteps: info.iters } : {}) });
        post({ type: 'checkpoint', info });
      },
    });
    await updateJob(jobId, { state: 'done', completed: [...JOB_STAGES] });
    const copy = copyBytes(bytes);
    post({ type: 'done', avatar: copy }, [copy]);
  } catch (e) {
    const reason: unknown = signal.reason;
    if (signal.aborted && !(reason instanceof R2TalkerError)) {
      await updateJob(jobId, { state: 'paused' }).catch(() => undefined);
      post({ type: 'paused', info: last });
    } else {
      const f = describeFailure(signal.aborted ? reason : e);
      await updateJob(jobId, { state: 'failed', error: f.message }).catch(() => undefined);
      post({ type: 'failed', ...f });
    }
  } finally {
    backend?.dispose();
    ctrl = null;
  }
}

self.addEventListener('message', (ev: MessageEvent<ToTrainer>) => {
  const m = ev.data;
  if (m.type === 'start' && !ctrl) void run(m.jobId);
  else if (m.type === 'pause') ctrl?.abort();
});
