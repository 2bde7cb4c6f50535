/** A band thread of the CPU fallback's render pool (render-pool.ts) in Node (node:worker_threads). */
import { parentPort } from 'node:worker_threads';
import { serveBand, type BandRequest } from './render-pool.ts';

if (!parentPort) throw new Error('render-band-worker.node.ts: expected to run in a worker thread');
const port = parentPort;
const serve = serveBand((msg, transfer) => port.postMessage(msg, transfer));
port.on('message', (req: BandRequest) => serve(req));
