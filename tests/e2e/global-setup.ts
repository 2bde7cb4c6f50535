/** Builds dist/extension before the e2e files run, so they never test a stale build. */
import { execFileSync } from 'node:child_process';
import { ROOT } from './helpers/browser.ts';

export default function setup(): void {
  if (process.env.R2T_E2E_SKIP_BUILD === '1') return;
  execFileSync('npx', ['webpack', '--config', 'webpack.config.ts'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
