/**
 * The create page's "Prepare and train" card: training settings, a progress bar per stage with
 * its step count, time left, a preview frame that improves as training goes, the GPU used,
 * pause and resume (also after the tab was closed or the browser restarted: unfinished jobs are
 * listed on the next visit), and at the end the avatar stored in the library, one click from
 * being the camera.
 */
import { readAvatar } from '../../../worker/avatar/reader.ts';
import { R2TalkerError } from '../../../worker/errors.ts';
import { openSubject } from '../../../worker/subject/reader.ts';
import { checkAvatarName, openAvatarDb, putAvatar } from '../../shared/avatar-store.ts';
import { saveSettings } from '../../shared/settings.ts';
import { browserImageDecoder } from '../../train/image-decoder.ts';
import { deleteJob, listJobs, preparedSubject, readJob, storeSubject, updateJob } from '../../train/job-store.ts';
import { checkSettings, DEFAULT_SETTINGS, GENERATOR_EPOCHS, JOB_STAGES, jobFraction, stageLength, stageSteps, type JobRecord } from '../../train/job.ts';
import type { PreviewFrame } from '../../train/run-job.ts';
import { byId } from '../controls.ts';
import { formatDuration } from './guidance.ts';
import { note } from './note.ts';
import { BrowserPipeline, CREATION_STAGES, PREPARE_MISSING, PipelineUnavailableError, TrainingStopped, openJob, type CreationProgress, type CreationStageId } from './pipeline.ts';

export interface TrainingViewDeps {
  pipeline: BrowserPipeline;
  /** the recording of a job, when still stored */
  loadRecording(id: string): Promise<Blob | null>;
  /** shows the command-line route under `why`; `prepareOnly` when training can run here */
  showCliRoute(why: string, prepareOnly: boolean): void;
  /** false when WebGPU is missing (the page then shows the command-line route instead) */
  webgpu(): boolean;
  /** re-checks free storage; false (with the reason shown) when short */
  checkStorage(): Promise<boolean>;
}

const STAGE_LABEL: Record<string, string> = { head: 'head', lips: 'lips', torso: 'torso', generator: 'voice-to-face model' };

/** Where a job's last checkpoint is, in words ("lips step 40 of 500"). */
function whereText(job: JobRecord): string {
  if (!job.stage) return '';
  const n = stageLength(job, job.stage);
  return `${STAGE_LABEL[job.stage]} step ${job.step}${n > 0 ? ` of ${n}` : ''}`;
}

const fractionOf = (j: JobRecord) => jobFraction(j.settings, j.completed, j.stage, j.step, j.generatorSteps);

export class TrainingView {
  private job: JobRecord | null = null;
  private jobId: string | null = null;
  private ctrl: AbortController | null = null;
  private bars = new Map<CreationStageId, { bar: HTMLProgressElement; count: HTMLElement }>();
  private readonly status = byId('train-status');

  constructor(private readonly deps: TrainingViewDeps) {
    // From the trainer's presets, so the hint never disagrees with what runs.
    const steps = (p: 'tiny' | 'small') => Object.values(stageSteps({ ...DEFAULT_SETTINGS, preset: p })).join(' / ');
    byId('steps-hint').textContent = `Empty: the quality\u2019s own (head / lips / torso: quick ${steps('tiny')}, standard ${steps('small')}).`;
    byId('generator-epochs-hint').textContent = `Passes of your voice-to-face model over the recording. Empty: ${GENERATOR_EPOCHS}.`;
    // The built-in face is a Quick model: offered with Quick only.
    const preset = byId<HTMLSelectElement>('train-preset');
    const prior = byId<HTMLInputElement>('train-prior');
    const syncPrior = () => {
      prior.disabled = preset.value !== 'tiny';
      if (prior.disabled) prior.checked = false;
    };
    preset.addEventListener('change', syncPrior);
    syncPrior();
    byId('train-start').addEventListener('click', () => void this.start());
    byId('train-pause').addEventListener('click', () => this.pause());
    byId('train-resume').addEventListener('click', () => void this.resume());
    byId('use-avatar').addEventListener('click', () => void this.useAvatar());
    const input = byId<HTMLInputElement>('import-subject');
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      input.value = '';
      if (files.length) void this.importSubject(files);
    });
  }

  get running(): boolean {
    return this.ctrl !== null;
  }

  /** Opens the card for a new take (settings editable until it starts). */
  async openFor(takeId: string): Promise<void> {
    this.show();
    const existing = await readJob(takeId).catch(() => null);
    if (existing) return this.openJob(existing);
    this.jobId = takeId;
    this.job = null;
    byId('train-settings').hidden = false;
    this.buttons('start');
    byId('training').hidden = true;
    byId('train-done').hidden = true;
    await this.sayWhatHappensNext();
  }

  /** Opens the card on a stored job (from the unfinished list, or a take that already has one). */
  async openJob(job: JobRecord): Promise<void> {
    this.show();
    this.job = job;
    this.jobId = job.id;
    byId('train-settings').hidden = true;
    byId('train-done').hidden = true;
    this.renderStages(job);
    byId('training').hidden = false;
    if (job.state === 'done' && job.avatarId) {
      this.buttons('none');
      return this.finished(job.avatarId, job.name);
    }
    this.buttons('resume');
    const where = job.stage ? whereText(job) : 'the start';
    const why = job.state === 'failed' && job.error ? `It stopped: ${job.error} ` : '';
    note(this.status, job.state === 'failed' ? 'error' : 'warn', `${why}\u201c${job.name}\u201d is ${Math.round(100 * fractionOf(job))}% trained. Resume continues from the last checkpoint (${where}).`);
    await this.sayWhatHappensNext(true);
  }

  private show(): void {
    byId('train').hidden = false;
    byId('import-subject-label').hidden = false;
    // The text to read belongs to the recording step.
    byId('script').hidden = true;
    byId('step-record').removeAttribute('aria-current');
    byId('step-train').setAttribute('aria-current', 'step');
  }

  private buttons(which: 'start' | 'pause' | 'resume' | 'none'): void {
    byId('train-start').hidden = which !== 'start';
    byId('train-pause').hidden = which !== 'pause';
    byId('train-resume').hidden = which !== 'resume';
    byId<HTMLInputElement>('import-subject').disabled = which === 'pause';
  }

  /** Says whether the next step prepares here, or needs a folder prepared with the command line. */
  private async sayWhatHappensNext(keepStatus = false): Promise<void> {
    const id = this.jobId!;
    const needs = await this.deps.pipeline.needsPrepare(id);
    const blocked = needs && !this.deps.pipeline.canPrepare;
    byId<HTMLButtonElement>('train-start').disabled = blocked;
    byId<HTMLButtonElement>('train-resume').disabled = blocked;
    if (blocked) {
      note(this.status, 'warn', PREPARE_MISSING);
      this.deps.showCliRoute('Prepare the recording (download it above), then import the my-subject folder with \u201cImport a prepared folder\u2026\u201d:', true);
    } else if (!keepStatus) {
      note(this.status, '', needs ? 'Ready: Start prepares the recording, then trains. You can pause at any time; closing the tab pauses too.' : 'Ready: the recording is prepared. Start trains; you can pause at any time, and closing the tab pauses too.');
    }
  }

  private settingsFromForm(): { name: string; settings: JobRecord['settings'] } {
    const name = checkAvatarName(byId<HTMLInputElement>('avatar-name').value);
    const num = (id: string) => {
      const v = byId<HTMLInputElement>(id).value.trim();
      return v === '' ? null : Number(v);
    };
    const settings = checkSettings({
      ...DEFAULT_SETTINGS,
      preset: byId<HTMLSelectElement>('train-preset').value,
      size: num('train-size'),
      iters: num('train-steps'),
      rays: num('train-rays'),
      checkpointEvery: num('train-checkpoint') ?? DEFAULT_SETTINGS.checkpointEvery,
      previewEvery: num('train-preview-every') ?? DEFAULT_SETTINGS.previewEvery,
      generatorEpochs: num('train-generator-epochs'),
      prior: byId<HTMLInputElement>('train-prior').checked ? 'builtin' : null,
    });
    return { name, settings };
  }

  private async start(): Promise<void> {
    if (!this.jobId || this.running) return;
    let form;
    try {
      form = this.settingsFromForm();
    } catch (e) {
      return note(this.status, 'error', e instanceof Error ? e.message.replace(/^settings\./, '') : String(e));
    }
    if (!(await this.deps.checkStorage())) return note(this.status, 'error', 'Not enough storage to train: see \u201cThis computer\u201d above.');
    this.job = await openJob(this.jobId, form.name, form.settings);
    byId('train-settings').hidden = true;
    await this.run();
  }

  private async resume(): Promise<void> {
    if (!this.jobId || this.running) return;
    if (!(await this.deps.checkStorage())) return note(this.status, 'error', 'Not enough storage to resume: see \u201cThis computer\u201d above.');
    this.job = (await readJob(this.jobId)) ?? this.job;
    if (!this.job) return note(this.status, 'error', 'This job is no longer stored: start again from the recording.');
    await this.run();
  }

  private pause(): void {
    if (!this.ctrl) return;
    note(this.status, '', 'Pausing after the current step (writing a checkpoint)\u2026');
    byId<HTMLButtonElement>('train-pause').disabled = true;
    this.ctrl.abort();
  }

  private async run(): Promise<void> {
    const job = this.job!;
    if (!this.deps.webgpu()) return note(this.status, 'error', 'Training here needs WebGPU, which this browser does not offer: use the command-line route.');
    this.ctrl = new AbortController();
    this.renderStages(job);
    byId('training').hidden = false;
    byId('train-done').hidden = true;
    this.buttons('pause');
    byId<HTMLButtonElement>('train-pause').disabled = false;
    note(this.status, '', job.step > 0 || job.completed.length ? `Resuming from the checkpoint (${whereText(job)})\u2026` : 'Starting\u2026');
    try {
      const blob = await this.deps.pipeline.run(job, await this.deps.loadRecording(job.id), {
        signal: this.ctrl.signal,
        onProgress: (p) => this.progress(p),
        onPreview: (f) => this.preview(f),
        onGpu: (d, fallback) => (byId('train-gpu').textContent = `Training on ${d}${fallback ? ' (a software GPU: slow)' : ''}.`),
        onCheckpoint: (j) => (this.job = j),
      });
      await this.store(job, blob);
    } catch (e) {
      this.job = (await readJob(job.id).catch(() => null)) ?? job;
      if (e instanceof TrainingStopped && e.code === 'paused') {
        const j = this.job;
        note(this.status, 'warn', `Paused at ${STAGE_LABEL[j.stage ?? 'head']} step ${j.step}. Resume continues from there, now or after closing this page.`);
      } else if (e instanceof R2TalkerError && e.code === 'ABORTED') {
        note(this.status, 'warn', 'Paused while preparing the recording: Resume prepares it again from the start (training has not begun).');
      } else if (e instanceof R2TalkerError && e.code === 'INPUT_FORMAT') {
        note(this.status, 'error', `The recording cannot be prepared: ${e.message}`);
      } else if (e instanceof PipelineUnavailableError) {
        note(this.status, 'warn', e.message);
      } else note(this.status, 'error', e instanceof Error ? e.message : String(e));
      this.buttons('resume');
    } finally {
      this.ctrl = null;
      void this.listUnfinished();
    }
  }

  /** Validates the trained file with the engine's reader, then adds it to the popup's library. */
  private async store(job: JobRecord, blob: Blob): Promise<void> {
    note(this.status, '', 'Adding the avatar to your library\u2026');
    await readAvatar(blob);
    const db = await openAvatarDb();
    try {
      const meta = await putAvatar(db, job.name, blob);
      await updateJob(job.id, { state: 'done', avatarId: meta.id });
      this.buttons('none');
      this.finished(meta.id, job.name);
    } finally {
      db.close();
    }
  }

  private finished(avatarId: string, name: string): void {
    byId('train-done').hidden = false;
    byId('import-subject-label').hidden = true;
    byId('train-done').dataset.avatarId = avatarId;
    note(byId('train-done-summary'), 'ok', `\u201c${name}\u201d is ready and in your avatar library (the R2 Talker popup).`);
    note(this.status, 'ok', 'Training finished.');
    byId('step-train').removeAttribute('aria-current');
    byId('step-use').setAttribute('aria-current', 'step');
  }

  private async useAvatar(): Promise<void> {
    const id = byId('train-done').dataset.avatarId;
    if (!id) return;
    await saveSettings({ avatarId: id });
    note(byId('train-done-summary'), 'ok', 'Chosen: it is your camera in the next call (and in the popup\u2019s preview).');
  }

  private renderStages(job: JobRecord): void {
    this.bars.clear();
    byId('stages').replaceChildren(
      ...CREATION_STAGES.map((s) => {
        const li = document.createElement('li');
        li.dataset.stage = s.id;
        const bar = Object.assign(document.createElement('progress'), { max: 1, value: 0 });
        const count = Object.assign(document.createElement('span'), { className: 'count' });
        const stage = JOB_STAGES.find((n) => `train-${n}` === s.id);
        if (stage) {
          const n = stageLength(job, stage);
          const done = job.completed.includes(stage);
          const at = done ? n : job.stage === stage ? job.step : 0;
          bar.value = n > 0 ? at / n : done ? 1 : 0;
          // The generator's length is known once the recording is read.
          count.textContent = n > 0 ? `${at} / ${n}` : '\u2013';
        } else if (s.id === 'prepare') {
          bar.value = job.stage || job.completed.length ? 1 : 0;
        }
        const label = Object.assign(document.createElement('span'), { textContent: s.label });
        li.append(label, bar, count);
        this.bars.set(s.id, { bar, count });
        return li;
      }),
    );
  }

  private progress(p: CreationProgress): void {
    const row = this.bars.get(p.stage);
    if (row) {
      row.bar.value = p.fraction;
      if (p.iters > 0) row.count.textContent = `${p.step} / ${p.iters}`;
    }
    // Stages before this one are done.
    for (const s of CREATION_STAGES) {
      if (s.id === p.stage) break;
      const r = this.bars.get(s.id);
      if (r) r.bar.value = 1;
    }
    byId('train-eta').textContent = p.secondsLeft === null ? '\u2013' : `${formatDuration(p.secondsLeft)} left`;
    const label = CREATION_STAGES.find((s) => s.id === p.stage)!.label;
    const what = p.iters ? `: step ${p.step} of ${p.iters}` : p.detail ? `: ${p.detail}\u2026` : '\u2026';
    note(this.status, '', `${label}${what}${p.psnr !== null ? ` \u00b7 held-out PSNR ${p.psnr.toFixed(1)} dB` : ''}`);
  }

  private preview(f: PreviewFrame): void {
    const canvas = byId<HTMLCanvasElement>('train-preview');
    canvas.width = f.width;
    canvas.height = f.height;
    canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(f.rgba), f.width, f.height), 0, 0);
    canvas.dataset.step = `${f.stage}:${f.step}`;
    byId('preview-caption').textContent = `Held-out frame after ${f.stage} step ${f.step}.`;
  }

  /**
   * Copies a subject folder prepared with `r2talker prepare` into this job, after checking it
   * with the engine's subject reader (a wrong folder is refused naming the file at fault).
   */
  private async importSubject(files: File[]): Promise<void> {
    if (!this.jobId || this.running) return;
    const rel = (f: File) => (f.webkitRelativePath || f.name).split('/').slice(1).join('/');
    const entries = files.map((f) => ({ path: rel(f), file: f as Blob })).filter((e) => e.path !== '');
    const folder = (files[0].webkitRelativePath || files[0].name).split('/')[0];
    const byPath = new Map(entries.map((e) => [e.path, e.file]));
    try {
      await openSubject({ root: folder, read: async (p) => (byPath.has(p) ? new Uint8Array(await byPath.get(p)!.arrayBuffer()) : null) }, browserImageDecoder, { check: 'headers' });
    } catch (e) {
      return note(this.status, 'error', `\u201c${folder}\u201d is not a prepared subject: ${e instanceof Error ? e.message : String(e)}`);
    }
    note(this.status, '', `Copying \u201c${folder}\u201d (${entries.length} files)\u2026`);
    try {
      await storeSubject(this.jobId, entries, (done, total) => {
        if (done % 50 === 0 || done === total) note(this.status, '', `Copying \u201c${folder}\u201d: ${done} of ${total} files\u2026`);
      });
    } catch (e) {
      return note(this.status, 'error', `\u201c${folder}\u201d could not be stored: ${e instanceof Error ? e.message : String(e)}`);
    }
    byId('cli-route').hidden = true;
    note(this.status, 'ok', `\u201c${folder}\u201d is imported (${entries.length} files). ${this.job ? 'Resume' : 'Start'} trains it here.`);
    byId<HTMLButtonElement>('train-start').disabled = false;
    byId<HTMLButtonElement>('train-resume').disabled = false;
  }

  /** Lists unfinished jobs (paused, failed, or cut off by a closed tab), each resumable or discardable. */
  async listUnfinished(): Promise<void> {
    const { jobs, damaged } = await listJobs().catch(() => ({ jobs: [] as JobRecord[], damaged: [] }));
    const open = jobs.filter((j) => j.state !== 'done' && j.id !== (this.running ? this.jobId : null));
    byId('jobs').hidden = open.length === 0 && damaged.length === 0;
    const rows = open.map((j) => {
      const li = document.createElement('li');
      li.dataset.jobId = j.id;
      const pct = Math.round(100 * fractionOf(j));
      const where = j.stage ? whereText(j) : 'not started';
      const who = document.createElement('div');
      who.className = 'who';
      who.append(Object.assign(document.createElement('span'), { className: 'name', textContent: j.name }), Object.assign(document.createElement('small'), { className: 'where', textContent: `${pct}% \u00b7 ${where} \u00b7 ${j.state === 'failed' ? 'stopped on an error' : 'paused'}` }));
      const actions = document.createElement('div');
      actions.className = 'actions';
      const resume = Object.assign(document.createElement('button'), { type: 'button', className: 'btn small primary job-resume', textContent: 'Resume' });
      resume.addEventListener('click', () => void this.openJob(j).then(() => this.resume()));
      const discard = Object.assign(document.createElement('button'), { type: 'button', className: 'btn small quiet danger job-discard', textContent: 'Discard' });
      discard.addEventListener('click', async () => {
        await deleteJob(j.id).catch(() => undefined);
        await this.listUnfinished();
      });
      actions.append(resume, discard);
      li.append(who, actions);
      return li;
    });
    for (const d of damaged) rows.push(Object.assign(document.createElement('li'), { className: 'damaged', textContent: `A stored job (${d.id}) cannot be read: ${d.error}` }));
    byId('jobs-list').replaceChildren(...rows);
    // A job whose prepared subject is gone cannot resume without preparing again.
    for (const j of open) if (!(await preparedSubject(j.id)) && !this.deps.pipeline.canPrepare) byId('jobs-list').querySelector(`li[data-job-id="${j.id}"] .job-resume`)?.setAttribute('title', PREPARE_MISSING);
  }
}
