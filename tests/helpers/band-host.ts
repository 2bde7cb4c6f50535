/**
 * A PoolHost whose band "threads" run in this thread (worker/engine/render-pool.ts serveBand,
 * messages structured-cloned and delivered on a later task, as a worker's are): the pool's
 * logic without threads, for unit tests. `failAt` makes the k-th spawned port fail as a thread
 * that dies would.
 */
import { serveBand, type BandPort, type BandReply, type BandRequest, type PoolHost } from '../../worker/engine/render-pool.ts';

export function inProcessHost(opts: { cores?: number; failAt?: number; failOn?: 'start' | 'frame' } = {}): PoolHost & { spawned: number } {
  const host = {
    cores: opts.cores ?? 4,
    spawned: 0,
    spawn(): BandPort {
      const k = ++host.spawned;
      let dead = false;
      const port: BandPort = {
        onReply: null,
        onFailure: null,
        post(req: BandRequest) {
          if (dead) return;
          const copy = structuredClone(req);
          setTimeout(() => {
            if (dead) return;
            if (opts.failAt === k && (opts.failOn ?? 'start') === (copy.type === 'init' ? 'start' : 'frame')) {
              dead = true;
              port.onFailure?.(`thread ${k} exited with code 1`);
              return;
            }
            serve(copy);
          }, 0);
        },
        terminate() {
          dead = true;
        },
      };
      const serve = serveBand((msg: BandReply) => {
        const copy = structuredClone(msg);
        setTimeout(() => {
          if (!dead) port.onReply?.(copy);
        }, 0);
      });
      return port;
    },
  };
  return host;
}
