#!/usr/bin/env node
// Thin launcher: runs the TypeScript CLI on Node with tsx's module hooks (`node --import tsx`)
// so `npx r2talker` works right after `npm ci`. Not through tsx's own CLI: that adds a process
// which relays SIGINT/SIGTERM only if the CLI acknowledges within 30 ms and SIGKILLs it
// otherwise, and a CLI busy in a synchronous training step cannot (Ctrl-C then lost train's
// checkpoint on a loaded machine).
// WebGPU in Node (the `webgpu` backend) on machines without a GPU runs over Chromium's
// SwiftShader Vulkan driver; the dynamic loader reads LD_LIBRARY_PATH / VK_ICD_FILENAMES only
// at process start, so they are set here for the child when that driver exists, unless
// R2T_NATIVE_VULKAN asks for the system's own Vulkan driver.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const tsxHooks = pathToFileURL(require.resolve('tsx')).href;
const entry = path.join(here, '..', 'cli', 'r2talker.ts');
const SWIFTSHADER_DIR = '/usr/lib/chromium';
const icd = path.join(SWIFTSHADER_DIR, 'vk_swiftshader_icd.json');
const env = { ...process.env };
if (!env.R2T_NATIVE_VULKAN && existsSync(icd)) {
  env.LD_LIBRARY_PATH = [SWIFTSHADER_DIR, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  env.VK_ICD_FILENAMES = env.VK_ICD_FILENAMES || icd;
}
// Signals. The CLI runs in a session (and process group) of its own, and every terminating
// signal that reaches this launcher is sent to that group once, as a terminal would send it
// (the CLI's own helpers, e.g. a headless browser, get it too). Sharing the launcher's group
// would deliver a Ctrl-C twice (from the terminal, then forwarded), and the CLI's handlers
// are one-shot: train checkpoints on the first SIGINT and dies of the second mid-write. This
// way the CLI gets one signal whoever sent it: Ctrl-C, `kill <pid>` from a supervisor, or a
// kill of the launcher's group. The launcher itself never dies of a forwarded signal: it
// waits for the CLI and then ends the same way.
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
const child = spawn(process.execPath, ['--import', tsxHooks, entry, ...process.argv.slice(2)], { stdio: 'inherit', env, detached: true });
const forward = (sig) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    // The group is gone already: the child is exiting.
  }
};
for (const sig of FORWARDED) process.on(sig, forward);
// Ctrl-Z stops this launcher (the terminal's foreground job); the CLI's group is outside it,
// so it is stopped and continued along with the launcher.
process.on('SIGTSTP', () => {
  forward('SIGTSTP');
  process.kill(process.pid, 'SIGSTOP');
});
process.on('SIGCONT', () => forward('SIGCONT'));
child.once('error', (e) => {
  process.stderr.write(`r2talker: could not start the CLI: ${e.message}\n`);
  process.exit(1);
});
child.once('exit', (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  // Die of the same signal so a shell or supervisor sees what happened to the CLI; the
  // handlers must go first or the launcher would catch its own signal.
  for (const sig of [...FORWARDED, 'SIGTSTP', 'SIGCONT']) process.removeAllListeners(sig);
  process.kill(process.pid, signal);
  // A signal whose default action does not end the process: the shell convention instead.
  setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100);
});
