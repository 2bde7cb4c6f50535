/**
 * The create page's training job (extension/train/run-job.ts) outside the browser: a synthetic
 * subject read through the browser's image decoder, the CPU reference backend, job files in
 * memory. Pausing (abort) keeps a checkpoint; running the job again continues from that step
 * (not from 0) and ends with the same avatar bytes as an uninterrupted run; the job's progress
 * says stage, whole-job fraction and time left; preview frames are real renders.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { avatarLandmarkMap } from '../../worker/model/landmark-map.ts';
import { folderFiles } from '../../worker/subject/files.node.ts';
import { CpuTrainerBackend } from '../../trainer/nerf/cpu/backend.ts';
import { browserImageDecoder } from '../../extension/train/image-decoder.ts';
import { checkSettings, DEFAULT_SETTINGS, jobFraction, STAGES, type TrainSettings } from '../../extension/train/job.ts';
import { STAGE_ORDER } from '../../trainer/nerf/loop.ts';
import { PRESETS } from '../../trainer/nerf/presets.ts';
import { describeFailure } from '../../extension/train/failure.ts';
import { GpuError } from '../../worker/errors.ts';
import { runTrainJob, secondsLeft, type CheckpointInfo, type JobFiles, type JobProgress, type PreviewFrame } from '../../extension/train/run-job.ts';
import { writeSynthSubject } from '../helpers/synth-fixture.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/r2talker.js', import.meta.url));

class MemoryJobFiles implements JobFiles {
  checkpoint: Uint8Array | null = null;
  generatorCheckpoint: Uint8Array | null = null;
  avatars: string[] = [];
  written: Uint8Array[] = [];
  avatar: Uint8Array | null = null;
  readCheckpoint = async () => this.checkpoint;
  writeCheckpoint = async (b: Uint8Array) => void (this.checkpoint = b.slice());
  writeAvatar = async (b: Uint8Array, stage: string) => {
    this.avatar = b.slice();
    this.avatars.push(stage);
    this.written.push(b.slice());
  };
  readAvatar = async () => this.avatar;
  readGeneratorCheckpoint = async () => this.generatorCheckpoint;
  writeGeneratorCheckpoint = async (b: Uint8Array) => void (this.generatorCheckpoint = b.slice());
}

// 16 frames are one generator segment: one step per pass, so 4 passes are 4 steps.
const settings: TrainSettings = { ...DEFAULT_SETTINGS, preset: 'tiny', iters: 6, rays: 64, checkpointEvery: 2, previewEvery: 3, evalFrames: 1, generatorEpochs: 4 };
let straight: MemoryJobFiles;
let reference: Uint8Array;
let subjectDir: string;

beforeAll(async () => {
  subjectDir = await writeSynthSubject({ size: 32, frames: 16, valFrames: 3, seed: 5 });
}, 60_000);

describe('runTrainJob', () => {
  it('pauses with a checkpoint, resumes from that step, and ends with the uninterrupted run\u2019s avatar', async () => {
    straight = new MemoryJobFiles();
    reference = await runTrainJob(new CpuTrainerBackend(), folderFiles(subjectDir), browserImageDecoder, straight, settings, 'me');
    // each stage's avatar, then the final one with the generator embedded
    expect(straight.avatars).toEqual(['head', 'lips', 'torso', 'torso']);

    const files = new MemoryJobFiles();
    const ctrl = new AbortController();
    const seen: JobProgress[] = [];
    const checkpoints: CheckpointInfo[] = [];
    const first = runTrainJob(new CpuTrainerBackend(), folderFiles(subjectDir), browserImageDecoder, files, settings, 'me', {
      signal: ctrl.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.stage === 'lips' && p.step === 3) ctrl.abort();
      },
      onCheckpoint: (c) => void checkpoints.push(c),
    });
    await expect(first).rejects.toMatchObject({ code: 'ABORTED' });
    // The abort snapshot is the last checkpoint: lips, step 3, head completed.
    expect(checkpoints.at(-1)).toEqual({ stage: 'lips', step: 3, completed: ['head'] });
    expect(seen[0]).toMatchObject({ stage: 'open', fraction: 0 });
    const head = seen.filter((p) => p.stage === 'head');
    expect(head.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(head.at(-1)!.fraction).toBeCloseTo(1 / 3, 6);
    expect(head.every((p) => p.secondsLeft !== null && p.secondsLeft >= 0)).toBe(true);

    const resumed: JobProgress[] = [];
    const previews: PreviewFrame[] = [];
    const out = await runTrainJob(new CpuTrainerBackend(), folderFiles(subjectDir), browserImageDecoder, files, settings, 'me', {
      onProgress: (p) => void resumed.push(p),
      onPreview: (p) => void previews.push(p),
    });
    const steps = resumed.filter((p) => p.stage !== 'open').map((p) => `${p.stage}:${p.step}`);
    // continues at lips step 4: neither the head stage nor the first lips steps run again
    expect(steps[0]).toBe('lips:4');
    expect(resumed[0]).toMatchObject({ stage: 'open' });
    expect(resumed[0].fraction).toBeCloseTo(6 / 18, 6);
    expect(resumed.filter((p) => p.stage === 'torso').at(-1)).toMatchObject({ stage: 'torso', step: 6 });
    expect(resumed.filter((p) => p.stage === 'generator').map((p) => `${p.step}/${p.iters}`)).toEqual(['1/4', '2/4', '3/4', '4/4']);
    expect(resumed.at(-1)).toMatchObject({ stage: 'generator', step: 4, fraction: 1, secondsLeft: 0 });
    expect(Buffer.from(out).equals(Buffer.from(reference))).toBe(true);
    const avatar = await readAvatar(new Blob([out as Uint8Array<ArrayBuffer>]));
    expect(avatar.name).toBe('me');
    // previews at lips step 6 (3 was before the pause) and torso steps 3 and 6: non-blank renders
    expect(previews.map((p) => `${p.stage}:${p.step}`)).toEqual(['lips:6', 'torso:3', 'torso:6']);
    for (const p of previews) {
      expect(p.rgba.length).toBe(32 * 32 * 4);
      const values = new Set<number>();
      for (let i = 0; i < p.rgba.length; i += 4) values.add(p.rgba[i]);
      expect(values.size).toBeGreaterThan(8);
    }

    // A finished job run again returns its avatar without training.
    const again: JobProgress[] = [];
    const same = await runTrainJob(new CpuTrainerBackend(), folderFiles(subjectDir), browserImageDecoder, files, settings, 'me', { onProgress: (p) => void again.push(p) });
    expect(again).toEqual([]);
    expect(Buffer.from(same).equals(Buffer.from(out))).toBe(true);
  }, 180_000);

  it('pauses in the generator stage and resumes there; the avatar embeds what `r2talker train-generator` makes of the same recording', async () => {
    const files = new MemoryJobFiles();
    const ctrl = new AbortController();
    const checkpoints: CheckpointInfo[] = [];
    const first = runTrainJob(new CpuTrainerBackend(), folderFiles(subjectDir), browserImageDecoder, files, settings, 'me', {
      signal: ctrl.signal,
      onProgress: (p) => {
        if (p.stage === 'generator' && p.step === 1) ctrl.abort();
      },
      onCheckpoint: (c) => void checkpoints.push(c),
    });
    await expect(first).rejects.toMatchObject({ code: 'ABORTED' });
    expect(checkpoints.at(-1)).toEqual({ stage: 'generator', step: 1, completed: ['head', 'lips', 'torso'], iters: 4 });
    const resumed: JobProgress[] = [];
    const out = await runTrainJob(new CpuTrainerBackend(), folderFiles(subjectDir), browserImageDecoder, files, settings, 'me', { onProgress: (p) => void resumed.push(p) });
    // the NeRF is not trained again; the generator continues at step 2
    expect(resumed.filter((p) => p.stage !== 'open').map((p) => `${p.stage}:${p.step}`)).toEqual(['generator:2', 'generator:3', 'generator:4']);
    expect(Buffer.from(out).equals(Buffer.from(reference))).toBe(true);

    // The command line on the same recording and NeRF avatar, with the job's passes and seed.
    const dir = mkdtempSync(join(tmpdir(), 'r2t-job-gen-'));
    try {
      const nerf = join(dir, 'nerf.r2t');
      writeFileSync(nerf, straight.written[2]);
      const cli = spawnSync(process.execPath, [BIN, 'train-generator', '--audio', join(subjectDir, 'aud.wav'), '--landmarks', join(subjectDir, 'aud_idexp.npy'), '--avatar', nerf, '--out', join(dir, 'cli.r2t'), '--epochs', '4', '--seed', String(settings.seed)], { encoding: 'utf8', timeout: 120_000 });
      expect(cli.status, cli.stderr).toBe(0);
      const byCli = await readAvatar(new Blob([readFileSync(join(dir, 'cli.r2t'))]));
      const byJob = await readAvatar(new Blob([out as Uint8Array<ArrayBuffer>]));
      expect(byJob.generator).not.toBeNull();
      expect(Buffer.from(byJob.generator!).equals(Buffer.from(byCli.generator!))).toBe(true);
      // and the whole file: the generator is the only thing the stage adds
      expect(Buffer.from(readFileSync(join(dir, 'cli.r2t'))).equals(Buffer.from(out))).toBe(true);
      // `--data` reads the subject folder the way the job does
      const byData = spawnSync(process.execPath, [BIN, 'train-generator', '--data', subjectDir, '--avatar', nerf, '--out', join(dir, 'data.r2t'), '--epochs', '4'], { encoding: 'utf8', timeout: 120_000 });
      expect(byData.status, byData.stderr).toBe(0);
      expect(Buffer.from(readFileSync(join(dir, 'data.r2t'))).equals(Buffer.from(out))).toBe(true);
      const neither = spawnSync(process.execPath, [BIN, 'train-generator', '--avatar', nerf], { encoding: 'utf8', timeout: 60_000 });
      expect(neither.status).not.toBe(0);
      expect(neither.stderr).toMatch(/expected --data <subject dir>, or --audio <wav> with --landmarks <npy>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('starts the head from the built-in face when the settings say so, and says so when it cannot load it', async () => {
    const withPrior = { ...settings, prior: 'builtin' as const, iters: 1, generatorEpochs: 1 };
    await expect(runTrainJob(new CpuTrainerBackend(), folderFiles(subjectDir), browserImageDecoder, new MemoryJobFiles(), withPrior, 'x')).rejects.toThrow(
      'this job starts from the builtin avatar, which this trainer cannot load',
    );
    const asked: string[] = [];
    const bytes = await runTrainJob(new CpuTrainerBackend(), folderFiles(subjectDir), browserImageDecoder, new MemoryJobFiles(), withPrior, 'x', {
      loadPrior: async (p) => (asked.push(p), loadBuiltinAvatar()),
    });
    expect(asked).toEqual(['builtin']);
    const avatar = await readAvatar(bytes);
    expect(avatar.provenance.prior).toBe((await loadBuiltinAvatar()).name);
    // The NeRF learnt the person's landmarks moved into the built-in's space, and the voice-to-face
    // model, trained on the person's own track, was put through the same map: its output's mean
    // (outMean, the track's mean) sits at the avatar's landmark mean, where the person's own mean
    // is many of the avatar's stds away (the generator's mean also counts the 3 held-out frames,
    // the map's does not: 0.58 stds at most here).
    const map = avatarLandmarkMap(avatar)!;
    const g = generatorFromOnnx(avatar.generator!);
    const stds = (m: Float32Array) => Math.max(...Array.from(m, (v, d) => Math.abs(v - map.to.mean[d]) / map.to.std[d]));
    expect(stds(map.from.mean)).toBeGreaterThan(5);
    expect(stds(g.outMean)).toBeLessThan(1.5);
  }, 60_000);

  it('names the missing file when the subject is incomplete', async () => {
    const files = { root: '/nowhere', read: async () => null };
    await expect(runTrainJob(new CpuTrainerBackend(), files, browserImageDecoder, new MemoryJobFiles(), settings, 'x')).rejects.toThrow(/\/nowhere\/transforms_train\.json/);
  });
});

describe('job settings and arithmetic', () => {
  it('validates each field with its name', () => {
    expect(checkSettings(DEFAULT_SETTINGS)).toEqual(DEFAULT_SETTINGS);
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, preset: 'huge' })).toThrow('settings.preset: expected one of tiny, small, official, official-t13, got "huge"');
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, iters: 0 })).toThrow('settings.iters: expected an integer in [1, 10000000], got 0');
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, checkpointEvery: 1.5 })).toThrow(/settings\.checkpointEvery/);
    // The built-in face is a tiny-preset model: it can start a Quick job only.
    expect(checkSettings({ ...DEFAULT_SETTINGS, prior: 'builtin' }).prior).toBe('builtin');
    expect(checkSettings({ ...DEFAULT_SETTINGS, prior: undefined }).prior).toBeNull();
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, prior: 'mine' })).toThrow('settings.prior: expected "builtin" or null, got "mine"');
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, preset: 'small', prior: 'builtin' })).toThrow('settings.prior: the built-in face is a Quick model; start from it with the Quick quality only, got "small"');
  });

  it('lists the stages in the trainer\u2019s order', () => {
    expect(STAGES).toEqual(STAGE_ORDER);
  });

  it('counts whole-job fraction and time left over the three stages', () => {
    const s = { ...DEFAULT_SETTINGS, preset: 'tiny' as const, iters: null };
    const { headIters: h, lipsIters: l, torsoIters: t } = PRESETS.tiny.schedule;
    expect(jobFraction(s, [], 'head', h / 2)).toBeCloseTo(h / 2 / (h + l + t), 9);
    expect(jobFraction(s, ['head'], 'lips', l)).toBeCloseTo((h + l) / (h + l + t), 9);
    expect(secondsLeft(s, 'head', 100, 10)).toBeCloseTo((h - 100 + l + t) / 10, 9);
    expect(secondsLeft(s, 'torso', t, 10)).toBe(0);
    expect(secondsLeft(s, 'head', 0, 0)).toBeNull();
  });
});

describe('what a stopped run tells the person', () => {
  it('a full disk, a lost GPU and GPU memory each get their own advice; the checkpoint is said to be kept', () => {
    expect(describeFailure(new DOMException('quota', 'QuotaExceededError'))).toEqual({
      code: 'STORAGE_FULL',
      message: 'Storage is full: the last checkpoint is kept. Free disk space (or delete avatars and recordings you no longer use), then press Resume.',
    });
    expect(describeFailure(GpuError.deviceLost('driver reset'))).toEqual({ code: 'GPU_DEVICE_LOST', message: 'The GPU stopped during training (driver reset). The last checkpoint is kept: press Resume.' });
    expect(describeFailure(GpuError.outOfMemory('r2t.train.head.acts'))).toMatchObject({ code: 'GPU_OUT_OF_MEMORY', message: expect.stringMatching(/ran out of memory \(r2t\.train\.head\.acts\)/) });
    expect(describeFailure(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
  });
});
