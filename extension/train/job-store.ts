/**
 * Creation jobs in the origin-private file system, shared by the create page and the training
 * worker: jobs/<id>/job.json (the record), checkpoint.bin (the trainer's checkpoint),
 * generator-checkpoint.bin (the landmark generator's) and avatar.r2t (the latest finished stage), all replaced atomically; subjects/<id>/ holds the
 * prepared subject. What survives closing the tab or restarting the browser lives here.
 */
import { AVATAR_FILE, CHECKPOINT_FILE, GENERATOR_CHECKPOINT_FILE, JOB_FILE, JOBS_DIR, SUBJECTS_DIR, checkJobId, parseJob, type JobRecord } from './job.ts';
import { checkRelativePath } from '../../worker/subject/files.ts';
import { ensureDir, folderNames, opfsDir, readFileIn, removeIn, writeFileIn, OpfsSubjectFiles } from './opfs.ts';
import type { JobFiles } from './run-job.ts';

/** The file whose presence says a subject is complete: the reader's entry point, written last. */
export const SUBJECT_MARKER = 'transforms_train.json';

export const jobPath = (id: string) => `${JOBS_DIR}/${checkJobId(id)}`;
export const subjectPath = (id: string) => `${SUBJECTS_DIR}/${checkJobId(id)}`;

export async function readJob(id: string): Promise<JobRecord | null> {
  const dir = await opfsDir(jobPath(id));
  const bytes = dir && (await readFileIn(dir, JOB_FILE));
  return bytes ? parseJob(new TextDecoder().decode(bytes), `opfs:/${jobPath(id)}/${JOB_FILE}`) : null;
}

export async function writeJob(job: JobRecord): Promise<JobRecord> {
  const next = { ...job, updatedAt: Date.now() };
  await writeFileIn(await ensureDir(jobPath(job.id)), JOB_FILE, new TextEncoder().encode(JSON.stringify(next)));
  return next;
}

/** Reads the record, applies `patch`, writes it back; null when the job is gone. */
export async function updateJob(id: string, patch: Partial<JobRecord>): Promise<JobRecord | null> {
  const job = await readJob(id);
  return job ? writeJob({ ...job, ...patch }) : null;
}

/** Every job with a readable record; damaged records are listed with their error. */
export async function listJobs(): Promise<{ jobs: JobRecord[]; damaged: { id: string; error: string }[] }> {
  const root = await opfsDir(JOBS_DIR);
  const jobs: JobRecord[] = [];
  const damaged: { id: string; error: string }[] = [];
  for (const id of root ? await folderNames(root) : []) {
    try {
      const job = await readJob(id);
      if (job) jobs.push(job);
    } catch (e) {
      damaged.push({ id, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return { jobs: jobs.sort((a, b) => a.createdAt - b.createdAt), damaged };
}

/** Removes a job's record, checkpoint and prepared subject (the recording is kept). */
export async function deleteJob(id: string): Promise<void> {
  const jobs = await opfsDir(JOBS_DIR);
  if (jobs) await removeIn(jobs, checkJobId(id));
  const subjects = await opfsDir(SUBJECTS_DIR);
  if (subjects) await removeIn(subjects, id);
}

export async function jobFiles(id: string): Promise<JobFiles> {
  const dir = await ensureDir(jobPath(id));
  return {
    readCheckpoint: () => readFileIn(dir, CHECKPOINT_FILE),
    writeCheckpoint: (b) => writeFileIn(dir, CHECKPOINT_FILE, b),
    writeAvatar: (b) => writeFileIn(dir, AVATAR_FILE, b),
    readAvatar: () => readFileIn(dir, AVATAR_FILE),
    readGeneratorCheckpoint: () => readFileIn(dir, GENERATOR_CHECKPOINT_FILE),
    writeGeneratorCheckpoint: (b) => writeFileIn(dir, GENERATOR_CHECKPOINT_FILE, b),
  };
}

/** The job's prepared subject, or null while it is not (completely) there. */
export async function preparedSubject(id: string): Promise<OpfsSubjectFiles | null> {
  const dir = await opfsDir(subjectPath(id));
  if (!dir) return null;
  try {
    await dir.getFileHandle(SUBJECT_MARKER);
  } catch {
    return null;
  }
  return new OpfsSubjectFiles(dir, subjectPath(id));
}

/**
 * Copies a subject folder chosen by the person (files with their paths relative to the folder)
 * into subjects/<id>/, the marker file last, so an interrupted copy is never taken for a subject.
 */
export async function storeSubject(id: string, files: { path: string; file: Blob }[], onProgress?: (done: number, total: number) => void): Promise<void> {
  const parent = await ensureDir(SUBJECTS_DIR);
  await removeIn(parent, checkJobId(id));
  const root = await ensureDir(subjectPath(id));
  const ordered = [...files.filter((f) => f.path !== SUBJECT_MARKER), ...files.filter((f) => f.path === SUBJECT_MARKER)];
  let done = 0;
  for (const { path, file } of ordered) {
    const parts = checkRelativePath(path).split('/');
    const name = parts.pop()!;
    let dir = root;
    for (const p of parts) dir = await dir.getDirectoryHandle(p, { create: true });
    await writeFileIn(dir, name, file);
    onProgress?.(++done, ordered.length);
  }
}
