/**
 * Unambiguous A/V offset: a fake-mic file of isolated syllables with a second of silence
 * between them, so every mouth opening at the far end belongs to exactly one voice onset.
 * Onsets are half-peak crossings, the same rule for the far end and for the model's own
 * offline output (whose inherent mouth-vs-voice lead is subtracted).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const SYLLABLES = 8;

/** "bah" x SYLLABLES, each followed by `gapSec` of digital silence; mono 48 kHz 16-bit. */
export function makeSyllablesWav(dir: string, gapSec = 1.1): string {
  const parts: string[] = [];
  const one = path.join(dir, 'bah.wav');
  execFileSync('espeak-ng', ['-s', '140', '-w', one, 'bah']);
  const padded = path.join(dir, 'bah-padded.wav');
  execFileSync('sox', [one, '-r', '48000', '-c', '1', '-b', '16', padded, 'silence', '1', '0.01', '0.5%', 'pad', '0', String(gapSec)]);
  for (let k = 0; k < SYLLABLES; k++) parts.push(padded);
  const out = path.join(dir, 'syllables.wav');
  execFileSync('sox', [...parts, out, 'pad', '1', '0']);
  return out;
}

/**
 * Indices where `signal` rises through half of its local peak after at least `quiet` samples
 * below `floor` (the start of an isolated event). The peak is the maximum within `span`
 * samples from where the signal first leaves the floor.
 */
export function halfPeakOnsets(signal: number[], floor: number, quiet: number, span: number): number[] {
  const out: number[] = [];
  let below = 0;
  for (let i = 0; i < signal.length; i++) {
    if (signal[i] <= floor) {
      below++;
      continue;
    }
    if (below >= quiet) {
      let peak = signal[i];
      for (let j = i; j < Math.min(signal.length, i + span); j++) peak = Math.max(peak, signal[j]);
      let k = i;
      while (k < signal.length && signal[k] < floor + (peak - floor) / 2) k++;
      if (k < signal.length) out.push(k);
    }
    below = 0;
  }
  return out;
}

/** For each audio onset, the first video onset within [a - before, a + after] (grid samples); differences. */
export function pairOffsets(audio: number[], video: number[], before: number, after: number): number[] {
  const d: number[] = [];
  for (const a of audio) {
    const v = video.find((x) => x >= a - before && x <= a + after);
    if (v !== undefined) d.push(v - a);
  }
  return d;
}

export function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
