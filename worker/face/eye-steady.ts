/**
 * A steady eye_ratio: the open eye at one level, blinks kept.
 *
 * The eyelids the tracker reads on an open eye wander by a few per cent from frame to frame and
 * with the head's pitch (on the proof's seed 1 an open-eye sd of 0.0135 on a level of 0.308, r
 * -0.55 with pitch), while the eye itself does not move. The avatar's eye value is an input of its
 * whole head field (model-spec §5), so a trainer fed that wander fits it as if it explained the
 * pixels, over the whole head and in every frame: with the ground truth's steady eye value swapped
 * into the prepared subject seed 1 trained 0.45 dB better on held-out frames that were nearly all
 * open-eyed, not only on its blinks (docs/prepare.md "A steady eye ratio"). The engine's idle
 * blinks (worker/engine/blinks.ts) likewise drive the eye from one rest level.
 *
 * So: the open level is the median of the video's eye ratios outside blinks, the noise its robust
 * spread (1.4826 x the median absolute deviation); a blink is a dip below the level by more than
 * BLINK_CORE noise spreads, widened to its neighbours that sit more than BLINK_EDGE spreads below
 * (the closing and reopening frames); every other frame gets the open level, and a blink frame its
 * reading scaled by the open level over the local one (the median of the non-blink frames within
 * LOCAL_RADIUS), so that a blink seen while the level wandered keeps its depth.
 */
import { median } from '../util/stats.ts';

/** A dip is a blink when it is this many noise spreads below the open level. */
export const BLINK_CORE = 4;
/** Frames next to a blink belong to it while they sit this many spreads below the level. */
export const BLINK_EDGE = 1;
/** At most this many frames before a blink's core (closing) and after it (reopening) join it. */
const CLOSE_FRAMES = 3;
const REOPEN_FRAMES = 4;
/** Frames each side whose non-blink readings give the local open level of a blink (1 s at 25 fps). */
const LOCAL_RADIUS = 25;
/** Floor of the noise spread, relative to the open level (a perfectly steady reading). */
const MIN_NOISE = 0.01;

export interface SteadyEyes {
  /** The eye value per frame. */
  values: Float32Array;
  /** The open level every non-blink frame gets. */
  open: number;
  /** Robust spread of the open frames' readings (what was removed). */
  noise: number;
  /** Frames in blinks (their readings kept, scaled to the open level). */
  blinkFrames: number;
  /** Separate blinks found. */
  blinks: number;
}

function level(v: number[]): { open: number; noise: number } {
  const open = median(v);
  return { open, noise: Math.max(MIN_NOISE * open, 1.4826 * median(v.map((x) => Math.abs(x - open)))) };
}

/**
 * The steady eye values of a video's eye ratios, in frame order (consecutive kept frames). Throws
 * on an empty or non-finite input.
 */
export function steadyEyeRatio(raw: ArrayLike<number>): SteadyEyes {
  const n = raw.length;
  if (n === 0) throw new RangeError('steadyEyeRatio: expected at least one eye ratio, got none');
  const r = Array.from(raw);
  r.forEach((v, i) => {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`steadyEyeRatio: frame ${i}: expected a finite eye ratio >= 0, got ${v}`);
  });
  // Two passes: the first level includes the blinks (a few per cent of the frames), the second not.
  let { open, noise } = level(r);
  let blink = new Uint8Array(n);
  let blinks = 0;
  for (let pass = 0; pass < 2; pass++) {
    blink = new Uint8Array(n);
    blinks = 0;
    const core = (i: number): boolean => open - r[i] > BLINK_CORE * noise;
    const edge = (i: number): boolean => open - r[i] > BLINK_EDGE * noise;
    for (let i = 0; i < n; i++) {
      if (!core(i) || blink[i]) continue;
      let end = i;
      while (end + 1 < n && core(end + 1)) end++;
      let a = i;
      while (a > 0 && i - a < CLOSE_FRAMES && edge(a - 1)) a--;
      let b = end;
      while (b + 1 < n && b - end < REOPEN_FRAMES && edge(b + 1)) b++;
      if (a === 0 || !blink[a - 1]) blinks++;
      blink.fill(1, a, b + 1);
      i = b;
    }
    const rest = r.filter((_, i) => !blink[i]);
    if (rest.length === 0) break;
    ({ open, noise } = level(rest));
  }
  const values = new Float32Array(n);
  let blinkFrames = 0;
  for (let i = 0; i < n; i++) {
    if (!blink[i]) {
      values[i] = open;
      continue;
    }
    blinkFrames++;
    const near: number[] = [];
    for (let j = Math.max(0, i - LOCAL_RADIUS); j <= Math.min(n - 1, i + LOCAL_RADIUS); j++) if (!blink[j]) near.push(r[j]);
    const local = near.length > 0 ? median(near) : open;
    values[i] = Math.min(open, (r[i] * open) / Math.max(local, 1e-6));
  }
  return { values, open, noise, blinkFrames, blinks };
}
