/**
 * What the create page tells the person while they record, from numbers it measures: the
 * light on the picture, how much it moves, where the face is (where the browser can find
 * one), the time recorded, the storage free. Pure functions, so every word is unit-tested.
 */

/** The recording the trainer needs: enough speech to cover the mouth shapes, bounded for disk and time. */
export const MIN_RECORDING_SEC = 120;
export const MAX_RECORDING_SEC = 300;

/**
 * A shorter minimum for developers' and tests' quick runs (a 20-second take trains a rough
 * avatar in minutes): chrome.storage.local[DEV_MIN_KEY], seconds in [DEV_MIN_FLOOR, 120].
 * Nothing in the UI sets it; anything else there is ignored.
 */
export const DEV_MIN_KEY = 'r2talker.dev.minRecordingSec';
export const DEV_MIN_FLOOR = 5;

export function minRecordingSec(stored: unknown): number {
  return typeof stored === 'number' && Number.isFinite(stored) && stored >= DEV_MIN_FLOOR && stored <= MIN_RECORDING_SEC ? stored : MIN_RECORDING_SEC;
}

/**
 * Space one avatar's creation needs at most: a 5-minute recording (~150 MB at the recorder's
 * ~4 Mbit/s), the prepared subject (frames, masks, torso images at 512 px: ~1.2 GB for 7,500
 * frames), and training checkpoints (~100 MB).
 */
export const REQUIRED_STORAGE_BYTES = 1.5e9;

export type Tone = 'ok' | 'warn' | 'bad';

export interface Hint {
  tone: Tone;
  text: string;
}

/** "2:05" */
export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Mean luma 0..255 of the picture -> advice on the light. */
export function lightingHint(meanLuma: number): Hint {
  if (!Number.isFinite(meanLuma)) return { tone: 'warn', text: 'Waiting for the camera picture.' };
  if (meanLuma < 50) return { tone: 'bad', text: 'Too dark: turn on a light in front of you.' };
  if (meanLuma < 80) return { tone: 'warn', text: 'A little dark: more light on your face helps.' };
  if (meanLuma > 215) return { tone: 'bad', text: 'Too bright: move away from the window or lamp behind the camera.' };
  return { tone: 'ok', text: 'Lighting is good.' };
}

/** Mean absolute luma change between two samples 0.5 s apart -> advice on moving. */
export function motionHint(meanChange: number): Hint {
  if (!Number.isFinite(meanChange)) return { tone: 'warn', text: 'Waiting for the camera picture.' };
  if (meanChange > 25) return { tone: 'bad', text: 'Lots of movement: keep your head mostly still and the camera fixed.' };
  if (meanChange > 12) return { tone: 'warn', text: 'Some movement: small nods are fine, keep the camera fixed.' };
  return { tone: 'ok', text: 'Steady: good.' };
}

export interface FaceBox {
  /** centre and size as fractions of the picture */
  cx: number;
  cy: number;
  width: number;
}

/** Where the face is -> advice on framing; null when this browser cannot find faces. */
export function framingHint(faces: FaceBox[] | null): Hint {
  if (faces === null) return { tone: 'warn', text: 'Keep your face in the middle of the picture, filling about a third of its width.' };
  if (faces.length === 0) return { tone: 'bad', text: 'No face found: look at the camera.' };
  if (faces.length > 1) return { tone: 'bad', text: `${faces.length} faces found: only you should be in the picture.` };
  const f = faces[0];
  if (f.width < 0.18) return { tone: 'warn', text: 'Your face is small: come closer to the camera.' };
  if (f.width > 0.6) return { tone: 'warn', text: 'Your face is very large: move back a little.' };
  if (Math.abs(f.cx - 0.5) > 0.15 || Math.abs(f.cy - 0.5) > 0.2) return { tone: 'warn', text: 'Move so your face is in the middle of the picture.' };
  return { tone: 'ok', text: 'Face centred: good.' };
}

/** The timer line under the clock while recording. */
export function timerHint(sec: number, min = MIN_RECORDING_SEC): Hint {
  if (sec < min) return { tone: 'warn', text: `Keep reading: ${formatDuration(min - sec)} until the minimum of ${formatDuration(min)}.` };
  if (sec < MAX_RECORDING_SEC) return { tone: 'ok', text: `Enough recorded. More (up to ${formatDuration(MAX_RECORDING_SEC)}) makes a better avatar; stop when you like.` };
  return { tone: 'ok', text: `${formatDuration(MAX_RECORDING_SEC)} recorded: that is the most the trainer uses.` };
}

/** A recording's length -> null when usable, else what is wrong. */
export function durationProblem(sec: number, what: string, min = MIN_RECORDING_SEC): string | null {
  if (!Number.isFinite(sec) || sec <= 0) return `${what}: its length cannot be read (is it a video?).`;
  if (sec < min) return `${what} is ${formatDuration(sec)} long: at least ${formatDuration(min)} of you speaking is needed.`;
  if (sec > MAX_RECORDING_SEC + 1) return `${what} is ${formatDuration(sec)} long: at most ${formatDuration(MAX_RECORDING_SEC)} is used; trim it first.`;
  return null;
}

/** navigator.storage.estimate() -> null when there is room, else the message the page shows. */
export function storageProblem(estimate: { quota?: number; usage?: number } | null, need = REQUIRED_STORAGE_BYTES): string | null {
  if (!estimate || typeof estimate.quota !== 'number') return null; // unknown: the writes themselves will say
  const free = estimate.quota - (estimate.usage ?? 0);
  if (free >= need) return null;
  const gb = (n: number) => `${(Math.max(0, n) / 1e9).toFixed(1)} GB`;
  return `Not enough storage: creating an avatar needs about ${gb(need)} free for the recording, the prepared frames and training checkpoints; this browser can store ${gb(free)} more. Free disk space (or delete avatars you no longer use) and reload this page.`;
}
