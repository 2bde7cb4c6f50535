/**
 * What the popup says about the engine: which renderer draws which avatar, how fast, in which
 * render mode and why, the lip-sync figures, and every degradation (no WebGPU, a lost avatar, no microphone audio, a
 * renderer failure) in words a user can act on. Pure text from the published status, so the
 * wording is unit-tested; `watchEngineStatus` binds it to chrome.storage.
 */
import type { QualityState } from '../../worker/engine/quality-governor.ts';
import { STATUS_KEY, isPublishedStatus, type PublishedStatus } from '../shared/status.ts';

/** The engine publishes every 2 s while a camera runs; older than this, it is not running. */
export const STALE_AFTER_MS = 6000;
/** No mic chunk for this long while a camera runs: the mic is denied, ended or muted by the system. */
export const MIC_SILENT_AFTER_SEC = 3;

export interface StatusView {
  /** One line: what runs, or that nothing does. */
  summary: string;
  /** Problems for the user, each a sentence; empty when all is well. */
  problems: string[];
}

export const BACKEND_NAMES: Record<string, string> = {
  webgpu: 'WebGPU',
  'cpu-reference': 'CPU (no GPU)',
  placeholder: 'test card',
};

const ms = (v: number | null): string => (v === null ? '?' : `${Math.round(v)} ms`);

/**
 * Which render mode runs and why, from the governor's state (quality-governor.ts): e.g.
 * "exact mode (120 ms a frame, over the 40 ms budget, but fast mode measured slower: 300 ms)".
 */
export function describeQuality(q: QualityState): string {
  const exact = `${ms(q.exactMs)} a frame, ${q.exactMs !== null && q.exactMs > q.budgetMs ? 'over' : 'within'} the ${Math.round(q.budgetMs)} ms budget`;
  switch (q.reason) {
    case 'set':
      return q.quality === q.mode ? `${q.quality} mode (chosen in the settings)` : 'exact mode, preparing the fast mode chosen in the settings';
    case 'keeps-up':
      return q.exactMs === null ? 'exact mode' : `exact mode (${exact})`;
    case 'trying':
      return q.quality === 'fast' ? `trying fast mode (exact took ${exact})` : `exact mode, preparing fast mode (${exact})`;
    case 'fast-faster':
      return `fast mode (exact takes ${exact}; fast mode ${ms(q.fastMs)})`;
    case 'fast-slower':
      return `exact mode (${exact}, but fast mode measured slower: ${ms(q.fastMs)})`;
    case 'unavailable':
      return 'exact mode (fast mode could not start)';
  }
}

/**
 * The CPU path's render threads (render-pool.ts), e.g. ", 2 render threads", with the last
 * comparison of the pool and one thread where there was one; empty on WebGPU.
 */
export function describeThreads(q: QualityState | undefined): string {
  const n = q?.renderThreads;
  if (n === undefined) return '';
  const t = q?.threadsMs;
  const measured = t && t.pool !== null && t.one !== null && !q?.threadsProblem ? ` (the render pool measured ${ms(t.pool)} a frame, one thread ${ms(t.one)})` : '';
  return (n === 1 ? ', 1 render thread' : `, ${n} render threads`) + measured;
}

export function describeStatus(status: unknown, nowMs: number): StatusView {
  if (!isPublishedStatus(status)) return { summary: 'The camera has not been used yet.', problems: [] };
  const s: PublishedStatus = status;
  const stale = nowMs - s.updatedAt > STALE_AFTER_MS;
  if (s.sessions === 0 || stale) {
    const last = s.problem ? [`Last time: ${s.problem}`] : [];
    return { summary: 'No page is using the camera.', problems: last };
  }
  const backend = BACKEND_NAMES[s.source] ?? s.source;
  const where = (s.adapter ? `${backend}, ${s.adapter}` : backend) + describeThreads(s.qualityState);
  const fps = Number.isFinite(s.renderFps) ? s.renderFps.toFixed(1) : '0';
  const pages = s.sessions === 1 ? '1 camera track' : `${s.sessions} camera tracks`;
  const mode = s.qualityState ? `, ${describeQuality(s.qualityState)}` : '';
  let summary = `Live: ${s.avatar ?? 'avatar'} on ${where}, ${fps} renders/s${mode}, ${pages}.`;
  if (s.lagMs !== null && s.micDelayMs !== null) summary += ` Lip sync: face ${Math.round(s.lagMs)} ms behind the voice, voice delayed ${Math.round(s.micDelayMs)} ms.`;
  const problems: string[] = [];
  if (s.problem) problems.push(s.problem);
  if (s.gpuProblem && s.source !== 'webgpu' && s.gpuProblem !== 'WebGPU not requested') problems.push(`No WebGPU (${s.gpuProblem}): rendering on the CPU, small and slow.`);
  if (s.qualityState?.threadsProblem) problems.push(`The extra render threads stopped (${s.qualityState.threadsProblem}): rendering on one thread.`);
  if (s.micIdleSec === null) problems.push('No microphone audio has reached the avatar (not allowed or not requested by the page): it idles.');
  else if (s.micIdleSec > MIC_SILENT_AFTER_SEC) problems.push(`No microphone audio for ${Math.round(s.micIdleSec)} s (the microphone ended or was stopped): the avatar idles.`);
  return { summary, problems };
}

/** Keeps `summary` and `problems` elements up to date with the published status. */
export async function watchEngineStatus(summary: HTMLElement, problems: HTMLElement): Promise<void> {
  let latest: unknown = ((await chrome.storage.local.get(STATUS_KEY)) as Record<string, unknown>)[STATUS_KEY];
  const show = (): void => {
    const v = describeStatus(latest, Date.now());
    summary.textContent = v.summary;
    problems.replaceChildren(
      ...v.problems.map((p) => {
        const li = document.createElement('li');
        li.textContent = p;
        return li;
      }),
    );
  };
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area !== 'local' || !(STATUS_KEY in changes)) return;
    latest = changes[STATUS_KEY].newValue;
    show();
  });
  // Staleness needs re-evaluating even when nothing is published.
  setInterval(show, 1000);
  show();
}
