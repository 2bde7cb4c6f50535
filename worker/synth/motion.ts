/**
 * The synthetic subject's performance at 25 fps, deterministic by seed: speech-like mouth
 * motion (phrases of syllables, each an open-close bump, with pauses between phrases), slowly
 * drifting mouth width, blinks every 2-5 s, and gentle head motion (a few slow sinusoids per
 * axis, at most a few degrees and millimetres) as a person sitting still while talking.
 */
import { mulberry32 } from '../util/random.ts';
import type { Expression } from './face.ts';

export interface HeadMotion {
  /** Radians: rotation about the head's y (turn), x (nod) and z (tilt) axes. */
  yaw: number;
  pitch: number;
  roll: number;
  /** Head translation in the head-frame units. */
  tx: number;
  ty: number;
  tz: number;
}

export interface MotionFrame {
  expression: Expression;
  head: HeadMotion;
}

export interface MotionOptions {
  /** Scales the head motion (default 1; 0 holds the head still). */
  headMotion?: number;
}

const DEG = Math.PI / 180;

function sinusoids(rand: () => number, amplitude: number): (t: number) => number {
  // Three incommensurate slow periods (4-15 s at 25 fps), amplitudes summing to `amplitude`.
  const parts = [0.55, 0.3, 0.15].map((w) => ({ a: w * amplitude, period: 100 + rand() * 275, phase: rand() * 2 * Math.PI }));
  return (t) => parts.reduce((s, p) => s + p.a * Math.sin((2 * Math.PI * t) / p.period + p.phase), 0);
}

export function makeMotion(seed: number, frames: number, options: MotionOptions = {}): MotionFrame[] {
  const rand = mulberry32(seed ^ 0x70fa);
  const hm = options.headMotion ?? 1;
  const open = new Float64Array(frames);
  // Speech: phrases of 3-8 syllables (4-8 frames each), separated by 6-20 frame pauses.
  for (let t = Math.floor(rand() * 8); t < frames; ) {
    const syllables = 3 + Math.floor(rand() * 6);
    for (let s = 0; s < syllables && t < frames; s++) {
      const len = 4 + Math.floor(rand() * 5);
      const peak = 0.3 + 0.7 * rand();
      for (let k = 0; k < len && t + k < frames; k++) open[t + k] = Math.max(open[t + k], peak * Math.sin((Math.PI * (k + 0.5)) / len) ** 2);
      t += len;
    }
    t += 6 + Math.floor(rand() * 15);
  }
  const eye = new Float64Array(frames).fill(1);
  // Blinks: close over 2 frames, hold 1, open over 3.
  const blinkShape = [0.55, 0.1, 0, 0.3, 0.65, 0.9];
  for (let t = 20 + Math.floor(rand() * 40); t < frames; t += 50 + Math.floor(rand() * 75)) {
    blinkShape.forEach((v, k) => {
      if (t + k < frames) eye[t + k] = Math.min(eye[t + k], v);
    });
  }
  const smile = sinusoids(rand, 0.45);
  const brow = sinusoids(rand, 0.35);
  const yaw = sinusoids(rand, 6 * DEG * hm);
  const pitch = sinusoids(rand, 3.5 * DEG * hm);
  const roll = sinusoids(rand, 2 * DEG * hm);
  const tx = sinusoids(rand, 0.004 * hm);
  const ty = sinusoids(rand, 0.003 * hm);
  const tz = sinusoids(rand, 0.004 * hm);
  const out: MotionFrame[] = [];
  for (let t = 0; t < frames; t++) {
    // Talking nods a little with the syllables.
    const nod = 0.8 * DEG * hm * open[t];
    out.push({
      expression: { open: open[t], smile: Math.max(-1, Math.min(1, smile(t) - 0.3 * open[t])), eyeRight: eye[t], eyeLeft: eye[t], brows: Math.max(0, Math.min(1, 0.3 + brow(t) + 0.35 * open[t])) },
      head: { yaw: yaw(t), pitch: pitch(t) + nod, roll: roll(t), tx: tx(t), ty: ty(t), tz: tz(t) },
    });
  }
  return out;
}
