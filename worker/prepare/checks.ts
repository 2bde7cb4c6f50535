/**
 * Per-frame usability checks and the whole-video ones (camera moved / cut), with the reasons
 * that end up in prepare.json and in refusal messages.
 */
import type { RgbFrame } from '../face/crop.ts';
import type { FaceDetection } from '../face/detector.ts';
import type { FaceExtent } from './framing.ts';

export type DropReason = 'no face' | 'several faces' | 'face too small' | 'face cut off' | 'too dark' | 'camera moved or cut' | 'face leaves the crop';

export const LIMITS = {
  /** Face width (source pixels) under which landmarks are too coarse to train on. */
  minFaceWidth: 60,
  /** Mean luma (0-255) of the face box under which the frame is too dark. */
  minFaceLuma: 40,
  /** A second face at least this fraction of the main face's area counts as another person. */
  secondFaceArea: 0.25,
  /** Share of checked frames with several faces above which the whole video is refused. */
  severalFacesShare: 0.2,
  /** Mean absolute luma difference (0-255) of the background from the video's usual one. */
  backgroundChange: 14,
} as const;

export const THUMB = 32;

/** Mean luma of the face's box (every other pixel). */
export function faceLuma(frame: RgbFrame, e: FaceExtent): number {
  const x0 = Math.max(0, Math.floor(e.cx - e.width / 2));
  const x1 = Math.min(frame.width - 1, Math.ceil(e.cx + e.width / 2));
  const y0 = Math.max(0, Math.floor(e.cy - e.height / 2));
  const y1 = Math.min(frame.height - 1, Math.ceil(e.cy + e.height / 2));
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y += 2) {
    for (let x = x0; x <= x1; x += 2) {
      const o = (y * frame.width + x) * 3;
      sum += 0.299 * frame.rgb[o] + 0.587 * frame.rgb[o + 1] + 0.114 * frame.rgb[o + 2];
      n++;
    }
  }
  return n ? sum / n : 0;
}

/** Whether some of the face lies outside the frame (by more than 2% of its width). */
export function faceCutOff(mesh: Float32Array, frame: RgbFrame, e: FaceExtent): boolean {
  const m = 0.02 * e.width;
  for (let i = 0; i < mesh.length; i += 3) {
    if (mesh[i] < -m || mesh[i + 1] < -m || mesh[i] > frame.width + m || mesh[i + 1] > frame.height + m) return true;
  }
  return false;
}

/** Whether the detections show another person besides the biggest face. */
export function severalFaces(dets: FaceDetection[]): boolean {
  if (dets.length < 2) return false;
  const areas = dets.map((d) => (d.x1 - d.x0) * (d.y1 - d.y0)).sort((a, b) => b - a);
  return areas[1] >= LIMITS.secondFaceArea * areas[0];
}

/** A THUMB x THUMB luma thumbnail (box means). */
export function thumbnail(frame: RgbFrame): Float32Array {
  const out = new Float32Array(THUMB * THUMB);
  const cnt = new Float32Array(THUMB * THUMB);
  for (let y = 0; y < frame.height; y += 2) {
    const ty = Math.min(THUMB - 1, Math.floor((y * THUMB) / frame.height));
    for (let x = 0; x < frame.width; x += 2) {
      const tx = Math.min(THUMB - 1, Math.floor((x * THUMB) / frame.width));
      const o = (y * frame.width + x) * 3;
      out[ty * THUMB + tx] += 0.299 * frame.rgb[o] + 0.587 * frame.rgb[o + 1] + 0.114 * frame.rgb[o + 2];
      cnt[ty * THUMB + tx]++;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= Math.max(1, cnt[i]);
  return out;
}

/**
 * Frames whose background differs from the video's usual background (per-cell median of all
 * thumbnails): a cut, or the camera moving. Only cells away from the person count: left and
 * right of the face by more than one face width, and above the hair.
 */
export function backgroundChanged(thumbs: (Float32Array | null)[], faces: (FaceExtent | null)[], width: number, height: number): boolean[] {
  const have = thumbs.flatMap((t, i) => (t && faces[i] ? [i] : []));
  const out = thumbs.map(() => false);
  if (have.length < 3) return out;
  const med = new Float32Array(THUMB * THUMB);
  const col = new Float32Array(have.length);
  for (let c = 0; c < med.length; c++) {
    have.forEach((i, k) => (col[k] = thumbs[i]![c]));
    med[c] = col.sort()[have.length >> 1];
  }
  for (const i of have) {
    const e = faces[i]!;
    let sum = 0;
    let n = 0;
    for (let ty = 0; ty < THUMB; ty++) {
      for (let tx = 0; tx < THUMB; tx++) {
        const x = ((tx + 0.5) * width) / THUMB;
        const y = ((ty + 0.5) * height) / THUMB;
        const beside = Math.abs(x - e.cx) > 1.5 * e.width;
        const above = y < e.cy - 1.2 * e.height;
        if (!beside && !above) continue;
        sum += Math.abs(thumbs[i]![ty * THUMB + tx] - med[ty * THUMB + tx]);
        n++;
      }
    }
    out[i] = n >= 8 && sum / n > LIMITS.backgroundChange;
  }
  return out;
}
