/**
 * npm run bench: the renderer's GPU bench (bench/run.ts), then the landmark generator's
 * speed budget (bench/generator.ts). Each runs in its own process (run.ts re-executes itself
 * with the WebGPU environment and ends with process.exit), and one failing does not hide the
 * other's figures; the exit status is non-zero when either failed.
 * Arguments after `--` go to bench/run.ts, as before.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = (file: string, args: string[]): number => {
  const r = spawnSync(process.execPath, [...process.execArgv, path.join(here, file), ...args], { stdio: 'inherit' });
  if (r.error) console.error(`bench/${file}: ${r.error.message}`);
  return r.status ?? 1;
};

const gpu = run('run.ts', process.argv.slice(2));
const generator = run('generator.ts', []);
if (gpu !== 0) console.error(`bench/run.ts exited with status ${gpu}`);
if (generator !== 0) console.error(`bench/generator.ts exited with status ${generator}`);
process.exit(gpu !== 0 || generator !== 0 ? 1 : 0);
