/** The engine's status as the engine iframe publishes it in chrome.storage.local for the popup. */
import type { EngineStatus } from '../../worker/engine/protocol/engine-worker.ts';

export const STATUS_KEY = 'r2talker.status';

export interface PublishedStatus extends EngineStatus {
  /** Date.now() of the publication; an old one means no engine is running. */
  updatedAt: number;
}

export function isPublishedStatus(v: unknown): v is PublishedStatus {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.source === 'string' && typeof s.sessions === 'number' && typeof s.updatedAt === 'number';
}
