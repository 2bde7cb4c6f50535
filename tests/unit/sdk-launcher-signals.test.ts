/**
 * bin/r2talker.js (the `npx r2talker` launcher) and signals: whoever signals the launcher, the
 * CLI under it gets the signal exactly once, nothing is left running, and the launcher ends
 * the way the CLI did. Driven with `train` on a tiny subject, whose one-shot SIGINT/SIGTERM
 * handler writes a checkpoint and exits 130; a second delivery would kill it mid-write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderSink } from '../../worker/subject/files.node.ts';
import { writeAnalyticSubject } from '../helpers/nerf-subject.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/r2talker.js');
const fast = ['--preset', 'tiny', '--rays', '64', '--eval-frames', '1', '--seed', '3'];

let dir: string;
let subject: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'r2t-launcher-'));
  subject = join(dir, 'subject');
  await writeAnalyticSubject({ size: 32, frames: 24 }, await folderSink(subject));
});

afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** pid -> [parent pid, process group] for every process on the machine. */
function processTable(): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), [Number(f[1]), Number(f[2])]);
    } catch {
      // Exited while listing.
    }
  }
  return out;
}

function membersOfGroup(pgid: number): number[] {
  return [...processTable()].filter(([, [, g]]) => g === pgid).map(([pid]) => pid);
}

interface Run {
  launcher: ChildProcess;
  /** The launcher's child: the CLI, leader of its own process group. */
  cliGroup: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `r2talker train` through the launcher, in a process group of its own (a terminal's foreground job); resolves once it is training. */
async function startTraining(out: string): Promise<Run> {
  const launcher = spawn(process.execPath, [BIN, 'train', '--data', subject, '--out', out, '--stage', 'head', '--iters', '100000', '--progress', ...fast], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(launcher);
  let stderr = '';
  launcher.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => launcher.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 120_000;
  while (!/head\s+\[.*\] [1-9]\d*\/100000/.test(stderr)) {
    if (launcher.exitCode !== null || Date.now() > deadline) throw new Error(`train did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const children = [...processTable()].filter(([, [ppid]]) => ppid === launcher.pid).map(([pid]) => pid);
  expect(children, 'the launcher runs exactly one child').toHaveLength(1);
  const cliGroup = children[0]!;
  // The CLI has a group of its own, apart from the launcher's.
  expect(processTable().get(cliGroup)![1]).toBe(cliGroup);
  expect(processTable().get(launcher.pid!)![1]).toBe(launcher.pid);
  return { launcher, cliGroup, stderr: () => stderr, exited };
}

/** The launcher's exit, or a failure naming what is still running after `ms`. */
async function exitWithin(run: Run, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms));
  const r = await Promise.race([run.exited, timeout]);
  if (r === 'timeout') throw new Error(`the launcher did not exit within ${ms} ms; CLI group ${run.cliGroup}: ${membersOfGroup(run.cliGroup).join(', ')}\n${run.stderr()}`);
  return r;
}

async function groupGone(pgid: number): Promise<number[]> {
  // The kernel reaps an exiting group member within moments of its parent's exit.
  for (let i = 0; i < 20 && membersOfGroup(pgid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return membersOfGroup(pgid);
}

describe('bin/r2talker.js signals', () => {
  it('SIGTERM to the launcher alone (a supervisor killing its pid): the CLI checkpoints, its exit code is relayed, nothing is orphaned', async () => {
    const out = join(dir, 'term.r2t');
    const run = await startTraining(out);
    process.kill(run.launcher.pid!, 'SIGTERM');
    const r = await exitWithin(run, 60_000);
    expect(r, run.stderr()).toEqual({ code: 130, signal: null });
    expect(run.stderr()).toMatch(/interrupted at head step \d+; resume with --resume/);
    expect(existsSync(`${out}.ckpt`)).toBe(true);
    expect(existsSync(out)).toBe(false);
    expect(await groupGone(run.cliGroup)).toEqual([]);
  }, 240_000);

  it('Ctrl-C (SIGINT to the whole foreground group) reaches the CLI once: it checkpoints instead of dying of a second signal', async () => {
    const out = join(dir, 'int.r2t');
    const run = await startTraining(out);
    process.kill(-run.launcher.pid!, 'SIGINT');
    const r = await exitWithin(run, 60_000);
    expect(r, run.stderr()).toEqual({ code: 130, signal: null });
    expect(run.stderr()).toMatch(/interrupted at head step \d+/);
    expect(existsSync(`${out}.ckpt`)).toBe(true);
    expect(await groupGone(run.cliGroup)).toEqual([]);
  }, 240_000);

  it('a signal the CLI does not handle (SIGHUP: the terminal closed) ends the CLI too, and the launcher dies of it', async () => {
    const out = join(dir, 'hup.r2t');
    const run = await startTraining(out);
    process.kill(run.launcher.pid!, 'SIGHUP');
    const r = await exitWithin(run, 60_000);
    expect(r, run.stderr()).toEqual({ code: null, signal: 'SIGHUP' });
    expect(existsSync(out)).toBe(false);
    expect(await groupGone(run.cliGroup)).toEqual([]);
  }, 240_000);
});
