/** Terminal progress bars (cli-progress); quiet when stderr is not a TTY unless forced. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number, stage?: string): void;
  stop(): void;
}

export function progressBar(label: string, opts: { enabled?: boolean } = {}): Progress {
  const enabled = opts.enabled ?? Boolean(process.stderr.isTTY);
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {stage}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, stage = '') {
      if (!started) {
        bar.start(Math.max(1, total), 0, { stage });
        started = true;
      }
      bar.setTotal(Math.max(1, total));
      bar.update(Math.min(done, total), { stage });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
