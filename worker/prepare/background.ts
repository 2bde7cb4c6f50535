/**
 * bc.jpg: the static background, from pixels the person never covers. A spread of frames
 * (at most `maxSamples`) is kept; each pixel takes the per-channel median of the frames in
 * which it lay outside the person's envelope (grown by a margin for hair and shadows). A pixel
 * the grown envelope covers in every frame but the person's own mask (given to `add`) leaves
 * uncovered in some takes the median of those frames instead: that band beside the silhouette is
 * exactly where gt_imgs show bc (every pixel the mask calls background), and a colour copied
 * from the nearest seen pixel there was most of the difference between the training proof's
 * prepared gt_imgs and its frames (docs/prepare.md). Pixels never seen uncovered are filled from
 * the nearest seen pixel (breadth-first, as the reference fills with its nearest-neighbour
 * search).
 */
import { LABEL } from './masks.ts';

export interface Background {
  rgb: Uint8Array;
  /** 1 where the background was seen, 0 where it was filled. */
  known: Uint8Array;
}

/** Grows the non-background part of `mask` by `r` pixels (square structuring element). */
export function dilatePerson(mask: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const rows = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    let last = -Infinity;
    for (let x = 0; x < w; x++) {
      if (mask[y * w + x] !== LABEL.background) last = x;
      if (x - last <= r) rows[y * w + x] = 1;
    }
    last = Infinity;
    for (let x = w - 1; x >= 0; x--) {
      if (mask[y * w + x] !== LABEL.background) last = x;
      if (last - x <= r) rows[y * w + x] = 1;
    }
  }
  const out = new Uint8Array(w * h);
  for (let x = 0; x < w; x++) {
    let last = -Infinity;
    for (let y = 0; y < h; y++) {
      if (rows[y * w + x]) last = y;
      if (y - last <= r) out[y * w + x] = 1;
    }
    last = Infinity;
    for (let y = h - 1; y >= 0; y--) {
      if (rows[y * w + x]) last = y;
      if (last - y <= r) out[y * w + x] = 1;
    }
  }
  return out;
}

/** Growth of the person's own mask for the second pass, pixels: its anti-aliased edge. */
const MASK_MARGIN = 1;
/** Fewest frames that must see a pixel for the second pass to give it a colour. */
const MIN_MASK_SAMPLES = 3;

export class BackgroundEstimator {
  private readonly frames: Uint8Array[] = [];
  private readonly covered: Uint8Array[] = [];
  private readonly masked: (Uint8Array | null)[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly margin: number,
  ) {}

  /** Adds one frame (RGB), its person envelope and, optionally, the person's own mask (LABEL
   * per pixel: what gt_imgs will replace by bc is that mask's background). */
  add(rgb: Uint8Array, envelope: Uint8Array, mask?: Uint8Array): void {
    this.frames.push(rgb);
    this.covered.push(dilatePerson(envelope, this.width, this.height, this.margin));
    this.masked.push(mask ? dilatePerson(mask, this.width, this.height, MASK_MARGIN) : null);
  }

  finish(): Background {
    const n = this.width * this.height;
    const rgb = new Uint8Array(n * 3);
    const known = new Uint8Array(n);
    const vals = new Uint8Array(this.frames.length);
    // First the frames whose grown envelope leaves the pixel uncovered; failing that, the frames
    // whose own (barely grown) person mask does, if enough of them do.
    const outsideEnvelope = (f: number, i: number) => !this.covered[f][i];
    const outsideMask = (f: number, i: number) => this.masked[f] !== null && !this.masked[f]![i];
    const minMaskSamples = Math.min(MIN_MASK_SAMPLES, this.frames.length);
    for (let i = 0; i < n; i++) {
      known[i] = this.median(i, outsideEnvelope, 1, vals, rgb) || this.median(i, outsideMask, minMaskSamples, vals, rgb) ? 1 : 0;
    }
    fillUnknown(rgb, known, this.width, this.height);
    return { rgb, known };
  }

  /**
   * Writes pixel i's per-channel median over the frames `use` picks into rgb, when at least
   * `min` frames are picked; returns whether it did. `vals` is scratch of one value a frame.
   */
  private median(i: number, use: (f: number, i: number) => boolean, min: number, vals: Uint8Array, rgb: Uint8Array): boolean {
    for (let c = 0; c < 3; c++) {
      let m = 0;
      for (let f = 0; f < this.frames.length; f++) if (use(f, i)) vals[m++] = this.frames[f][i * 3 + c];
      if (m < min) return false;
      rgb[i * 3 + c] = vals.subarray(0, m).sort()[m >> 1];
    }
    return true;
  }
}

/** Copies each unknown pixel's colour from its nearest known pixel (4-connected BFS). */
export function fillUnknown(rgb: Uint8Array, known: Uint8Array, w: number, h: number): void {
  const n = w * h;
  const queue = new Int32Array(n);
  const done = Uint8Array.from(known);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) if (done[i]) queue[tail++] = i;
  if (tail === 0) {
    rgb.fill(128);
    return;
  }
  while (head < tail) {
    const i = queue[head++];
    const x = i % w;
    const y = (i - x) / w;
    const next = [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1];
    for (const j of next) {
      if (j < 0 || done[j]) continue;
      done[j] = 1;
      rgb[j * 3] = rgb[i * 3];
      rgb[j * 3 + 1] = rgb[i * 3 + 1];
      rgb[j * 3 + 2] = rgb[i * 3 + 2];
      queue[tail++] = j;
    }
  }
}
