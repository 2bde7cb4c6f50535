/**
 * Renders synthetic frames in worker threads (Node): the ray caster is CPU-bound and every
 * frame is independent, so N threads give ~N times the frames per second on an N-core machine.
 * Frame k always goes to thread k mod N and the result does not depend on the thread, so the
 * output bytes are the same for any N.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, R2TalkerError } from '../errors.ts';
import type { FrameReply, FrameRequest } from './frame-worker.node.ts';
import type { FrameSource } from './generate.ts';
import type { RenderedFrame } from './render-frame.ts';

export interface FramePool {
  readonly jobs: number;
  render: FrameSource;
  /** Stops the threads; idempotent. */
  close(): Promise<void>;
}

/** At most one thread per core, and at most 64. */
export function maxJobs(): number {
  return Math.max(1, Math.min(64, availableParallelism()));
}

export function createFramePool(jobs: number): FramePool {
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > maxJobs()) throw new ConfigError(`--jobs: expected an integer in [1, ${maxJobs()}] (this machine's cores), got ${jobs}`);
  const waiting = new Map<number, { resolve: (f: RenderedFrame) => void; reject: (e: Error) => void }>();
  const url = new URL('./frame-worker.node.ts', import.meta.url);
  // The worker is TypeScript: a small bootstrap registers tsx's loader in the thread first (Node 20
  // does not pass a parent's --import hooks on to worker threads), whether or not this process runs under tsx.
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = new URL(`data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(url.href)});`)}`);
  const workers = Array.from({ length: jobs }, () => new Worker(boot));
  let closed = false;
  const failAll = (e: Error): void => {
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  for (const w of workers) {
    w.on('message', (r: FrameReply) => {
      const p = waiting.get(r.k);
      if (!p) return;
      waiting.delete(r.k);
      if (r.ok) p.resolve({ rgb: r.rgb, labels: r.labels, torso: r.torso });
      else p.reject(new R2TalkerError('INTERNAL', `rendering synthetic frame ${r.k} failed: ${r.message}`));
    });
    w.on('error', (e) => failAll(new R2TalkerError('INTERNAL', `a frame-rendering thread failed: ${e.message}`, { cause: e })));
    w.on('exit', (code) => {
      if (!closed && code !== 0) failAll(new R2TalkerError('INTERNAL', `a frame-rendering thread exited with code ${code}`));
    });
  }
  return {
    jobs,
    render(scene, k, motion) {
      if (closed) return Promise.reject(new R2TalkerError('INTERNAL', 'frame pool is closed'));
      return new Promise<RenderedFrame>((resolve, reject) => {
        waiting.set(k, { resolve, reject });
        const req: FrameRequest = { cam: scene.cam, seed: scene.seed, k, motion };
        workers[k % jobs].postMessage(req);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      failAll(new R2TalkerError('ABORTED', 'frame pool closed'));
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
