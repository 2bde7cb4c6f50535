/**
 * One fixed square crop for the whole video (the camera is still, so the reference's NeRF
 * sees one image plane): centred on the face's median position, a little below it so the
 * shoulders are in, sized from the face's median width, resampled to `--size`.
 */
import { FormatError } from '../errors.ts';
import { resizeArea } from '../io/resize.ts';
import type { RgbFrame } from '../face/crop.ts';
import { MESH_POINTS } from '../face/mesh.ts';

/** Crop side in face widths: the reference's talking-head crops show head, neck and shoulders. */
const SIDE_IN_FACE_WIDTHS = 2.8;
/** The face centre sits this fraction of the side above the crop centre. */
const FACE_ABOVE_CENTRE = 0.12;

export interface CropBox {
  /** Top-left corner and side in source pixels (integers, inside the frame). */
  x: number;
  y: number;
  side: number;
  /** Output side in pixels. */
  size: number;
}

export interface FaceExtent {
  cx: number;
  cy: number;
  width: number;
  height: number;
}

export function faceExtent(mesh: Float32Array): FaceExtent {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < MESH_POINTS; i++) {
    x0 = Math.min(x0, mesh[i * 3]);
    x1 = Math.max(x1, mesh[i * 3]);
    y0 = Math.min(y0, mesh[i * 3 + 1]);
    y1 = Math.max(y1, mesh[i * 3 + 1]);
  }
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, width: x1 - x0, height: y1 - y0 };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The crop for a video from its faces' extents (source pixels). */
export function chooseCrop(extents: FaceExtent[], width: number, height: number, size: number): CropBox {
  if (extents.length === 0) throw FormatError.input('video', 'no face to frame');
  if (!Number.isInteger(size) || size < 64 || size > 2048 || size % 2 !== 0) throw FormatError.input('size', `expected an even integer in [64, 2048], got ${size}`);
  const fw = median(extents.map((e) => e.width));
  const cx = median(extents.map((e) => e.cx));
  const cy = median(extents.map((e) => e.cy));
  const side = Math.max(2, Math.min(width, height, Math.round(fw * SIDE_IN_FACE_WIDTHS)));
  const x = Math.round(Math.min(Math.max(cx - side / 2, 0), width - side));
  const y = Math.round(Math.min(Math.max(cy + FACE_ABOVE_CENTRE * side - side / 2, 0), height - side));
  return { x, y, side, size };
}

/** The crop of `frame`, resampled to size x size (area filter when shrinking). */
export function cropFrame(frame: RgbFrame, box: CropBox): RgbFrame {
  const { x, y, side, size } = box;
  if (x < 0 || y < 0 || x + side > frame.width || y + side > frame.height) {
    throw FormatError.input('frame', `crop ${side}x${side}+${x}+${y} does not fit a ${frame.width}x${frame.height} frame (frames must share one size)`);
  }
  const sq = new Uint8Array(side * side * 3);
  for (let r = 0; r < side; r++) sq.set(frame.rgb.subarray(((y + r) * frame.width + x) * 3, ((y + r) * frame.width + x + side) * 3), r * side * 3);
  return { width: size, height: size, rgb: resizeArea(sq, side, side, size, size, 3) };
}

/** A mesh in source pixels mapped into the crop's output pixels (z scaled alike). */
export function meshToCrop(mesh: Float32Array, box: CropBox): Float32Array {
  const k = box.size / box.side;
  const out = new Float32Array(mesh.length);
  for (let i = 0; i < mesh.length; i += 3) {
    out[i] = (mesh[i] - box.x) * k;
    out[i + 1] = (mesh[i + 1] - box.y) * k;
    out[i + 2] = mesh[i + 2] * k;
  }
  return out;
}
