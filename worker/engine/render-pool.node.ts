/**
 * The CPU fallback's render pool in Node (render-pool.ts): band threads are node:worker_threads
 * running render-band-worker.node.ts (TypeScript, through tsx's loader, which a worker thread
 * registers itself: Node does not pass a parent's --import hooks on to worker threads).
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BandPort, BandReply, PoolHost } from './render-pool.ts';

/** Band threads in worker_threads; `entry` replaces the band script (tests start one that fails). */
export function nodePoolHost(opts: { cores?: number; entry?: URL } = {}): PoolHost {
  const url = opts.entry ?? new URL('./render-band-worker.node.ts', import.meta.url);
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = new URL(`data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(url.href)});`)}`);
  return {
    cores: opts.cores ?? availableParallelism(),
    spawn(): BandPort {
      const w = new Worker(boot);
      let ended = false;
      const port: BandPort = {
        onReply: null,
        onFailure: null,
        post(req) {
          if (!ended) w.postMessage(req);
        },
        terminate() {
          if (ended) return;
          ended = true;
          void w.terminate();
        },
      };
      const fail = (why: string): void => {
        if (ended) return;
        ended = true;
        port.onFailure?.(why);
        void w.terminate();
      };
      w.on('message', (r: BandReply) => port.onReply?.(r));
      w.on('error', (e) => fail(e.message));
      w.on('messageerror', (e) => fail(`a message could not be read (${e.message})`));
      w.on('exit', (code) => fail(`the thread exited with code ${code}`));
      return port;
    },
  };
}
