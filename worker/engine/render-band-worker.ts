/**
 * A band thread of the CPU fallback's render pool (render-pool.ts), as a browser worker: started
 * by the render worker (render-worker.ts), one per extra render thread.
 */
import { serveBand, type BandRequest } from './render-pool.ts';

const scope = self as unknown as { postMessage(msg: unknown, transfer: Transferable[]): void; onmessage: ((e: MessageEvent<BandRequest>) => void) | null };
const serve = serveBand((msg, transfer) => scope.postMessage(msg, transfer));
scope.onmessage = (e) => serve(e.data);
