/** What the person reads when a training run stops on an error; the checkpoint stays either way. */
import { R2TalkerError } from '../../worker/errors.ts';

export function describeFailure(e: unknown): { code: string; message: string } {
  if (e instanceof DOMException && e.name === 'QuotaExceededError') {
    return { code: 'STORAGE_FULL', message: 'Storage is full: the last checkpoint is kept. Free disk space (or delete avatars and recordings you no longer use), then press Resume.' };
  }
  if (e instanceof R2TalkerError) {
    if (e.code === 'GPU_DEVICE_LOST') return { code: e.code, message: `The GPU stopped during training (${e.message}). The last checkpoint is kept: press Resume.` };
    if (e.code === 'GPU_OUT_OF_MEMORY') return { code: e.code, message: `The GPU ran out of memory (${e.message}). Close other GPU-heavy tabs and press Resume.` };
    return { code: e.code, message: e.message };
  }
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

