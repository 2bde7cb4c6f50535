/**
 * The reference subject layout's file names (avatar-creation.md), shared by the reader and the
 * writer so they cannot drift apart, and the parsing colours.
 */

export type SplitName = 'train' | 'val';

export const SUBJECT_PATHS = {
  transforms: (split: SplitName): string => `transforms_${split}.json`,
  conditionSplit: (split: SplitName): string => `aud_idexp_${split}.npy`,
  conditionAll: 'aud_idexp.npy',
  background: 'bc.jpg',
  audio: 'aud.wav',
  oriImage: (id: number): string => `ori_imgs/${id}.jpg`,
  lms: (id: number): string => `ori_imgs/${id}.lms`,
  gtImage: (id: number): string => `gt_imgs/${id}.jpg`,
  parsing: (id: number): string => `parsing/${id}.png`,
  torso: (id: number): string => `torso_imgs/${id}.png`,
} as const;

/** Parsing classes as RGB in the PNG (the reference reads them BGR with cv2). */
export const PARSING_RGB = {
  head: [0, 0, 255],
  neck: [0, 255, 0],
  torso: [255, 0, 0],
  background: [255, 255, 255],
} as const;

export const PARSING_LABEL = { background: 0, head: 1, neck: 2, torso: 3, other: 255 } as const;
export type ParsingLabel = (typeof PARSING_LABEL)[keyof typeof PARSING_LABEL];

/**
 * Per-pixel labels of a parsing image (RGB or RGBA). A pixel within `tolerance` per channel of
 * a class colour gets that class; anything else is `other` (the reference's BiSeNet output has
 * more colours for classes it merges later; callers decide what to do with them).
 */
export function parsingLabels(data: Uint8Array, channels: 3 | 4, tolerance = 8): Uint8Array {
  const n = data.length / channels;
  const out = new Uint8Array(n);
  const classes: [number, readonly number[]][] = [
    [PARSING_LABEL.head, PARSING_RGB.head],
    [PARSING_LABEL.neck, PARSING_RGB.neck],
    [PARSING_LABEL.torso, PARSING_RGB.torso],
    [PARSING_LABEL.background, PARSING_RGB.background],
  ];
  for (let i = 0; i < n; i++) {
    const r = data[i * channels];
    const g = data[i * channels + 1];
    const b = data[i * channels + 2];
    let label: number = PARSING_LABEL.other;
    for (const [l, c] of classes) {
      if (Math.abs(r - c[0]) <= tolerance && Math.abs(g - c[1]) <= tolerance && Math.abs(b - c[2]) <= tolerance) {
        label = l;
        break;
      }
    }
    out[i] = label;
  }
  return out;
}
