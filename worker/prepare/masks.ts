/**
 * Head / neck / torso / background. The person comes from the selfie segmentation model
 * (worker/face/segmenter.ts); the face mesh divides it: the head outline (the mesh hull widened
 * for the ears, raised for the hair) and everything above the mouth is head; below the chin the
 * person is neck down to the row where it widens into the shoulders, plus skin of the neck's
 * colour continuing into an open collar; the rest is torso. `envelope` is the geometric guess
 * without segmentation, used to keep the person out of the background estimate.
 */
import { MESH_POINTS } from '../face/mesh.ts';
import { convexHull, fillPolygon, type Pt } from '../util/polygon.ts';

/** Proportions, in face widths (W) and heights (H) of the mesh's extent. */
const SHAPE = {
  earWiden: 1.12, // head hull widened about the face centre for the ears
  hairRaise: 0.32, // and raised by this many face heights for the hair
  shoulderBelowChin: 0.55, // shoulder line below the chin, face heights
  neckHalfWidth: 0.3, // neck half width, face widths
  shoulderHalfWidth: 0.95, // torso half width at the shoulder line, face widths
  bottomHalfWidth: 1.9, // torso half width at the frame's bottom edge, face widths
} as const;

export const LABEL = { background: 0, head: 1, neck: 2, torso: 3 } as const;

/** The head's generous outline from the mesh (hull widened for the ears, raised for the hair) and the face's extent. */
function headOutline(mesh: Float32Array): { head: Pt[]; fw: number; fh: number } {
  const pts: Pt[] = [];
  for (let i = 0; i < MESH_POINTS; i++) pts.push([mesh[i * 3], mesh[i * 3 + 1]]);
  const hull = convexHull(pts);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
  const fw = Math.max(...xs) - Math.min(...xs);
  const fh = Math.max(...ys) - Math.min(...ys);
  const widened = hull.map(([x, y]) => [cx + (x - cx) * SHAPE.earWiden, y] as Pt);
  return { head: convexHull([...widened, ...widened.map(([x, y]) => [x, y - SHAPE.hairRaise * fh] as Pt)]), fw, fh };
}

/**
 * The person envelope of one frame: LABEL per pixel from the mesh (crop pixels) and the 68
 * landmarks' jaw (points 0-16). Head first so it wins where shapes overlap.
 */
export function envelope(mesh: Float32Array, lms: Float32Array, w: number, h: number): Uint8Array {
  const { head, fw, fh } = headOutline(mesh);
  const mask = new Uint8Array(w * h);
  fillPolygon(mask, w, h, head, LABEL.head);
  const chinY = lms[8 * 2 + 1];
  const shoulderY = chinY + SHAPE.shoulderBelowChin * fh;
  const jaw: Pt[] = [];
  for (let i = 3; i <= 13; i++) jaw.push([lms[i * 2], lms[i * 2 + 1]]);
  const jx = lms[8 * 2];
  const neck: Pt[] = [...jaw, [jx + SHAPE.neckHalfWidth * fw, shoulderY + 0.15 * fh], [jx - SHAPE.neckHalfWidth * fw, shoulderY + 0.15 * fh]];
  // Jaw from the subject's right to left, then down and back: a simple polygon.
  fillPolygon(mask, w, h, neck, LABEL.neck);
  const torso: Pt[] = [
    [jx - SHAPE.shoulderHalfWidth * fw, shoulderY],
    [jx + SHAPE.shoulderHalfWidth * fw, shoulderY],
    [jx + SHAPE.bottomHalfWidth * fw, h + 1],
    [jx - SHAPE.bottomHalfWidth * fw, h + 1],
  ];
  fillPolygon(mask, w, h, torso, LABEL.torso);
  return mask;
}

/** Parsing PNG pixels in the reference colours. */
export function parsingImage(mask: Uint8Array): Uint8Array {
  // Reference colours per label (background white, head blue, neck green, torso red), packed.
  const r = Uint8Array.of(255, 0, 0, 255);
  const g = Uint8Array.of(255, 0, 255, 0);
  const b = Uint8Array.of(255, 255, 0, 0);
  const out = new Uint8Array(mask.length * 3);
  for (let i = 0, o = 0; i < mask.length; i++, o += 3) {
    const m = mask[i];
    out[o] = r[m];
    out[o + 1] = g[m];
    out[o + 2] = b[m];
  }
  return out;
}

/**
 * The frame with background pixels replaced by bc (the reference's gt_imgs), except where `keep`
 * is set: the pipeline keeps the frame's own pixels in a thin band around the person mask
 * (GT_EDGE_SHARE), where the mask's edge is uncertain by a pixel or two and the silhouette is
 * anti-aliased. There the frame is right whichever side of the edge a pixel lies on, and bc is
 * wrong wherever the mask cut into the person. The replacement exists to take background noise
 * and changes out of the training target; a static background in that band is bc plus noise
 * anyway. Measured on the training proof's subject (seed 1): 89% of the squared difference
 * between prepared gt_imgs and the frames lay within 2 px of the true silhouette (25.9 dB on its
 * background side, 29.5 dB on the person side); keeping the band gives 45.5 and 40.1 dB there.
 */
export function groundTruthImage(frame: Uint8Array, mask: Uint8Array, bc: Uint8Array, keep?: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame); // a copy (also for a Node Buffer, whose slice() is a view)
  for (let i = 0, o = 0; i < mask.length; i++, o += 3) {
    if (mask[i] !== LABEL.background || keep?.[i]) continue;
    out[o] = bc[o];
    out[o + 1] = bc[o + 1];
    out[o + 2] = bc[o + 2];
  }
  return out;
}

/** Rows under the jaw, as a share of the image height, whose neck pixels are replaced by the
 * neck's colour (the jaw's shadow falls there; the reference pushes down 4 px at 512). */
const NECK_SHADOW = 0.015;

/**
 * torso_imgs: neck and torso with alpha 255, the rest transparent. Like the reference, the neck
 * is continued upward behind the head so the torso model never learns a hole where the head
 * used to be: each neck column, through the head's pixels, up to the nose base, in the median
 * colour of that column's neck, from a few rows below the neck's top (those are the chin's
 * shadow: copying the topmost pixel, as this did before, drew a dark band under the jaw that the head model then had to paint over; on the
 * training proof's subject the true torso image is a plain neck column up to mid-face).
 */
export function torsoImage(frame: Uint8Array, mask: Uint8Array, w: number, h: number, lms: Float32Array): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    if (mask[i] === LABEL.neck || mask[i] === LABEL.torso) {
      out.set(frame.subarray(i * 3, i * 3 + 3), i * 4);
      out[i * 4 + 3] = 255;
    }
  }
  const stopY = Math.max(0, Math.floor(lms[33 * 2 + 1]));
  const push = Math.max(1, Math.round(h * NECK_SHADOW));
  const channel = [new Float64Array(h), new Float64Array(h), new Float64Array(h)];
  const colour = [0, 0, 0];
  for (let x = 0; x < w; x++) {
    let top = -1;
    let n = 0;
    for (let y = 0; y < h; y++) {
      const i = y * w + x;
      if (mask[i] !== LABEL.neck) continue;
      if (top < 0) top = y;
      for (let c = 0; c < 3; c++) channel[c][n] = frame[i * 3 + c];
      n++;
    }
    if (top <= stopY) continue;
    for (let c = 0; c < 3; c++) {
      const v = channel[c].subarray(0, n).sort();
      colour[c] = v[n >> 1];
    }
    // The neck's first rows under the jaw are its shadow: the column starts a little below them.
    for (let y = Math.min(h - 1, top + push - 1); y >= stopY && (y >= top || mask[y * w + x] === LABEL.head); y--) {
      if (y >= top && mask[y * w + x] !== LABEL.neck) continue;
      const o = (y * w + x) * 4;
      out[o] = colour[0];
      out[o + 1] = colour[1];
      out[o + 2] = colour[2];
      out[o + 3] = 255;
    }
  }
  return out;
}

/** Person pixels: segmentation probability at least this. */
const PERSON_P = 0.5;
/** Below the chin, the neck ends at the first row where the person is this many face widths wide (the shoulders). */
const SHOULDER_RUN = 1.3;
/** Rows whose run through the chin's column is at most this times the narrowest are pure neck:
 * their pixels seed the neck and give its colour. */
const PURE_NECK_RUN = 1.2;

/**
 * Labels from the person segmentation (which pixels are the person at all) and the face mesh
 * (which part of the person): inside the head outline, or beside it above the mouth (hair,
 * ears), is head; below the chin the neck is the narrow run of person pixels down to the row
 * where the person widens into the shoulders, continued by the pixels connected to it that
 * have its colour rather than the clothes' (the collar line, an open neckline); the rest is
 * torso.
 */
export function labelPerson(person: Float32Array, rgb: Uint8Array, mesh: Float32Array, lms: Float32Array, w: number, h: number): Uint8Array {
  if (rgb.length !== w * h * 3) throw new Error(`labelPerson: expected ${w * h * 3} RGB bytes, got ${rgb.length}`);
  if (person.length !== w * h) throw new Error(`labelPerson: expected ${w * h} probabilities, got ${person.length}`);
  const { head, fw, fh } = headOutline(mesh);
  const headMask = new Uint8Array(w * h);
  fillPolygon(headMask, w, h, head, 1);
  const chinY = lms[8 * 2 + 1];
  const mouthY = (lms[51 * 2 + 1] + lms[57 * 2 + 1]) / 2;
  const jx = Math.min(w - 1, Math.max(0, Math.round(lms[8 * 2])));
  const jaw = jawEdge(rgb, lms, w, h, fh);
  const isPerson = (i: number): boolean => person[i] >= PERSON_P;
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!isPerson(i)) continue;
      // Under the jaw the chin ends at the edge found in the image; beside it, at the chin's row.
      const headBelowMouth = Number.isNaN(jaw[x]) ? headMask[i] && y <= chinY : y <= jaw[x];
      mask[i] = headBelowMouth || y < mouthY ? LABEL.head : LABEL.torso;
    }
  }
  // The shoulder row: the run of person pixels through the chin's column, scanned downwards.
  const runs: [number, number, number][] = [];
  let shoulderY = h;
  for (let y = Math.max(0, Math.ceil(chinY)); y < h; y++) {
    if (mask[y * w + jx] !== LABEL.torso) continue;
    let a = jx;
    let b = jx;
    while (a > 0 && mask[y * w + a - 1] === LABEL.torso) a--;
    while (b < w - 1 && mask[y * w + b + 1] === LABEL.torso) b++;
    if (b - a + 1 >= SHOULDER_RUN * fw) {
      shoulderY = y;
      break;
    }
    runs.push([y, a, b]);
  }
  const narrowest = Math.min(...runs.map(([, a, b]) => b - a + 1));
  const seeds: number[] = [];
  for (const [y, a, b] of runs) {
    if (b - a + 1 > PURE_NECK_RUN * narrowest) continue;
    for (let x = a; x <= b; x++) seeds.push(y * w + x);
  }
  const limit = Math.min(h, Math.ceil(shoulderY + NECK_GROW * fw));
  if (seeds.length === 0 || !growNeck(mask, rgb, w, h, seeds, shoulderY, limit, jx, narrowest)) {
    // No pure neck rows, or clothes of the skin's colour: the neck is the band under the chin.
    const neckHalf = Number.isFinite(narrowest) ? 0.6 * narrowest : SHAPE.neckHalfWidth * fw;
    for (let y = Math.max(0, Math.ceil(chinY)); y < Math.min(h, shoulderY); y++) {
      for (let x = 0; x < w; x++) if (mask[y * w + x] === LABEL.torso && Math.abs(x + 0.5 - lms[8 * 2]) <= neckHalf) mask[y * w + x] = LABEL.neck;
    }
  }
  return mask;
}

/** The jaw edge is searched from this far above the tracked jaw line to this far below it, in
 * face heights: a tracker's chin lags an opening jaw (measured on the synthetic subject at 256 px:
 * up to 2.6 px behind a 7.9 px drop) and the chin's underside shows below the landmark (1.5 px). */
const JAW_SEARCH_UP = 0.04;
const JAW_SEARCH_DOWN = 0.08;
/** Rows averaged either side of a candidate edge, in face heights (at least one). */
const JAW_EDGE_ROWS = 0.02;
/** Weaker edges than this (mean RGB levels) are not the chin's: the tracked jaw line is kept. */
const JAW_MIN_EDGE = 4;
/** Columns of the median that keeps the edge one curve rather than per-column noise. */
const JAW_MEDIAN = 5;

/**
 * The last head row of each column under the lower jaw (landmarks 4-12), NaN elsewhere. The
 * tracked jaw line is where the search starts, not the answer: the chin's outline against the
 * neck is the strongest colour step (either sign: a shadowed neck under a lit chin, or a lit
 * neck under a chin turned from the light) within a few pixels of it, so a mouth opened wider
 * than the tracker follows still keeps its chin in the head.
 */
function jawEdge(rgb: Uint8Array, lms: Float32Array, w: number, h: number, fh: number): Float32Array {
  const out = new Float32Array(w).fill(NaN);
  const pts: Pt[] = [];
  for (let i = 4; i <= 12; i++) pts.push([lms[i * 2], lms[i * 2 + 1]]);
  pts.sort((a, b) => a[0] - b[0]);
  const x0 = Math.max(1, Math.ceil(pts[0][0]));
  const x1 = Math.min(w - 2, Math.floor(pts[pts.length - 1][0]));
  if (!(fh > 0) || x1 - x0 < 2) return out;
  const span = Math.max(1, Math.round(JAW_EDGE_ROWS * fh));
  const rows = new Float32Array(w).fill(NaN);
  // Mean of three columns' RGB over rows [a, b): the edge of the chin, not of one noisy pixel.
  const mean = (x: number, a: number, b: number, c: number): number => {
    let s = 0;
    for (let y = a; y < b; y++) for (let dx = -1; dx <= 1; dx++) s += rgb[(y * w + x + dx) * 3 + c];
    return s / (3 * (b - a));
  };
  let k = 0;
  for (let x = x0; x <= x1; x++) {
    while (k < pts.length - 2 && pts[k + 1][0] < x) k++;
    const [ax, ay] = pts[k];
    const [bx, by] = pts[k + 1];
    const line = bx > ax ? ay + ((x - ax) / (bx - ax)) * (by - ay) : Math.max(ay, by);
    const lo = Math.max(span, Math.floor(line - JAW_SEARCH_UP * fh));
    const hi = Math.min(h - span - 1, Math.ceil(line + JAW_SEARCH_DOWN * fh));
    let best = -1;
    let bestAt = line;
    for (let r = lo; r <= hi; r++) {
      // Edge between row r (last head row) and r + 1.
      let d = 0;
      for (let c = 0; c < 3; c++) d += Math.abs(mean(x, r + 1 - span, r + 1, c) - mean(x, r + 1, r + 1 + span, c));
      if (d / 3 > best) {
        best = d / 3;
        bestAt = r;
      }
    }
    rows[x] = best >= JAW_MIN_EDGE ? bestAt : line;
  }
  const half = JAW_MEDIAN >> 1;
  const win: number[] = [];
  for (let x = x0; x <= x1; x++) {
    win.length = 0;
    for (let j = Math.max(x0, x - half); j <= Math.min(x1, x + half); j++) win.push(rows[j]);
    win.sort((a, b) => a - b);
    out[x] = win[win.length >> 1];
  }
  return out;
}

/** How far below the shoulder row skin may continue the neck (an open collar), in face widths. */
const NECK_GROW = 0.8;
/** Chromaticity distance between the neck's and the clothes' means below which colour cannot
 * tell them apart. Chromaticity leaves brightness out: the neck is shaded under the chin while
 * the skin of a collar is lit. */
const NECK_CHROMA = 0.035;

/**
 * The neck from its seed pixels: every torso pixel above row `limit` connected to them whose
 * chromaticity is nearer the neck's mean (from the seeds) than the clothes' (the torso from the
 * shoulder row down, more than `clear` pixels either side of column `cx`, where an open collar
 * would be). Returns false, changing nothing, without clothes in view or when the two colours
 * are too alike.
 */
function growNeck(mask: Uint8Array, rgb: Uint8Array, w: number, h: number, seeds: number[], shoulderY: number, limit: number, cx: number, clear: number): boolean {
  const chroma = (i: number): [number, number] => {
    const sum = rgb[i * 3] + rgb[i * 3 + 1] + rgb[i * 3 + 2] + 1;
    return [(rgb[i * 3] - rgb[i * 3 + 1]) / sum, (rgb[i * 3 + 1] - rgb[i * 3 + 2]) / sum];
  };
  const meanOf = (idx: Iterable<number>): [number, number] | null => {
    let n = 0;
    const m: [number, number] = [0, 0];
    for (const i of idx) {
      const c = chroma(i);
      m[0] += c[0];
      m[1] += c[1];
      n++;
    }
    return n > 0 ? [m[0] / n, m[1] / n] : null;
  };
  const neck = meanOf(seeds)!;
  const clothes = meanOf(
    (function* () {
      for (let y = shoulderY; y < h; y++) {
        for (let x = 0; x < w; x++) if (Math.abs(x - cx) > clear && mask[y * w + x] === LABEL.torso) yield y * w + x;
      }
    })(),
  );
  if (!clothes || Math.hypot(neck[0] - clothes[0], neck[1] - clothes[1]) < NECK_CHROMA) return false;
  const isNeck = (i: number): boolean => {
    const c = chroma(i);
    return Math.hypot(c[0] - neck[0], c[1] - neck[1]) < Math.hypot(c[0] - clothes[0], c[1] - clothes[1]);
  };
  const stack: number[] = [];
  for (const i of seeds) {
    mask[i] = LABEL.neck;
    stack.push(i);
  }
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % w;
    const y = (i - x) / w;
    for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y + 1 < limit ? i + w : -1, y > 0 ? i - w : -1]) {
      if (j >= 0 && mask[j] === LABEL.torso && isNeck(j)) {
        mask[j] = LABEL.neck;
        stack.push(j);
      }
    }
  }
  return true;
}
