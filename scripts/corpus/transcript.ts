/**
 * Transcripts of real recordings -> the word string the forced aligner takes: lower case,
 * digits spelt out, punctuation dropped, hyphenated words split. Returns null for texts that
 * describe sounds instead of speech ("[ascending tones]") or that are empty, so such clips are
 * skipped rather than aligned to nonsense.
 */
const ONES = 'zero,one,two,three,four,five,six,seven,eight,nine,ten,eleven,twelve,thirteen,fourteen,fifteen,sixteen,seventeen,eighteen,nineteen'.split(',');
const TENS = ',,twenty,thirty,forty,fifty,sixty,seventy,eighty,ninety'.split(',');

/** 0..9999 as words; longer digit strings are read digit by digit (as phone numbers are). */
export function numberWords(digits: string): string[] {
  if (!/^\d+$/.test(digits)) throw new Error(`numberWords: expected digits, got ${JSON.stringify(digits)}`);
  if (digits.length > 4 || (digits.length > 1 && digits.startsWith('0'))) return [...digits].map((d) => ONES[Number(d)]);
  const n = Number(digits);
  const out: string[] = [];
  const under100 = (x: number) => {
    if (x < 20) out.push(ONES[x]);
    else {
      out.push(TENS[Math.floor(x / 10)]);
      if (x % 10) out.push(ONES[x % 10]);
    }
  };
  if (n >= 1000) out.push(ONES[Math.floor(n / 1000)], 'thousand');
  const h = Math.floor((n % 1000) / 100);
  if (h) out.push(ONES[h], 'hundred');
  const rest = n % 100;
  if (rest || n === 0) under100(rest);
  return out;
}

export function normaliseTranscript(text: string): string | null {
  if (/[[\]<>]/.test(text)) return null;
  const words: string[] = [];
  const cleaned = text
    .toLowerCase()
    .replace(/#/g, ' pound ')
    .replace(/\*/g, ' star ')
    .replace(/&/g, ' and ')
    .replace(/%/g, ' percent ')
    .replace(/(\d),(\d)/g, '$1$2')
    .replace(/[^a-z0-9' ]+/g, ' ');
  for (const tok of cleaned.split(/\s+/)) {
    const t = tok.replace(/^'+|'+$/g, '');
    if (!t) continue;
    // "2nd", "3pm": the digits and the letters as separate words.
    for (const part of t.match(/\d+|[a-z']+/g) ?? []) {
      if (/^\d/.test(part)) words.push(...numberWords(part));
      else words.push(part);
    }
  }
  return words.length > 0 ? words.join(' ') : null;
}
