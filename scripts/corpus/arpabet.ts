/**
 * PocketSphinx's ARPAbet phones (the CMU dictionary's, without stress) -> the IPA names that
 * scripts/corpus/visemes.ts turns into mouth shapes, so that forced-aligned real speech gets
 * exactly the targets eSpeak NG's synthetic speech gets.
 */
import { ConfigError } from '../../worker/errors.ts';
import type { TimedPhoneme } from './visemes.ts';

const IPA: Record<string, string> = {
  AA: 'ɑ', AE: 'æ', AO: 'ɔ', AW: 'aʊ', AY: 'aɪ', EH: 'ɛ', ER: 'ɝ', EY: 'eɪ', IH: 'ɪ', IY: 'i',
  OW: 'oʊ', OY: 'ɔɪ', UH: 'ʊ', UW: 'u',
  B: 'b', CH: 'tʃ', D: 'd', DH: 'ð', F: 'f', G: 'ɡ', HH: 'h', JH: 'dʒ', K: 'k', L: 'l', M: 'm',
  N: 'n', NG: 'ŋ', P: 'p', R: 'ɹ', S: 's', SH: 'ʃ', T: 't', TH: 'θ', V: 'v', W: 'w', Y: 'j',
  Z: 'z', ZH: 'ʒ',
};

/**
 * The dictionary has no stress marks, so AH stands for both the open stressed vowel (ʌ, "but")
 * and the weak schwa (ə, "the"). Stressed vowels last longer: from this duration on AH is ʌ.
 */
export const AH_STRESSED_SECONDS = 0.08;

/** ARPAbet phone -> eSpeak-style IPA name; '' for silence and PocketSphinx's noise fillers. */
export function arpabetToIpa(phone: string, seconds: number): string {
  const p = phone.toUpperCase().replace(/[0-2]$/, '');
  if (p === 'SIL' || /^\+.*\+$/.test(p)) return '';
  if (p === 'AH') return seconds >= AH_STRESSED_SECONDS ? 'ʌ' : 'ə';
  const ipa = IPA[p];
  if (ipa === undefined) throw new ConfigError(`alignment.phone: unknown ARPAbet phone ${JSON.stringify(phone)}`);
  return ipa;
}

export interface AlignedPhone {
  p: string;
  start: number;
  end: number;
}

/**
 * Aligned phones (seconds from the start of the audio) -> the corpus's timed phonemes,
 * covering [0, total] with pauses: before the first phone, in gaps, and after the last.
 */
export function alignedToPhonemes(phones: AlignedPhone[], total: number): TimedPhoneme[] {
  if (!(total > 0) || !Number.isFinite(total)) throw new ConfigError(`alignment.total: expected a positive duration, got ${total}`);
  const out: TimedPhoneme[] = [];
  let at = 0;
  phones.forEach((ph, i) => {
    if (!Number.isFinite(ph.start) || !Number.isFinite(ph.end) || ph.end < ph.start || ph.start < at - 0.0051) {
      throw new ConfigError(`alignment.phones[${i}]: expected ordered times, got ${ph.start}..${ph.end} after ${at}`);
    }
    const start = Math.max(at, ph.start);
    const end = Math.min(total, ph.end);
    if (start > at + 1e-9) out.push({ id: '', start: at, end: start });
    if (end > start) out.push({ id: arpabetToIpa(ph.p, end - start), start, end });
    at = Math.max(at, end);
  });
  if (at < total) out.push({ id: '', start: at, end: total });
  return out;
}
