/**
 * MediaPipe's face mesh: 468 3-D points from a rotated square crop around the face. The crop
 * (region of interest) comes from a detection for the first frame and from the previous
 * frame's mesh afterwards, as MediaPipe's own tracking graph does: eye line horizontal, the
 * face's extent enlarged 1.5x.
 */
import { cropToFrame, sampleCrop, type CropRect, type RgbFrame } from './crop.ts';
import type { FaceDetection } from './detector.ts';
import { runGraphModel, type GraphModel } from './graph-model.ts';

export const MESH_INPUT = 192;
export const MESH_POINTS = 468;
/** Region of interest around the face, relative to the face's extent (MediaPipe's value). */
const ROI_SCALE = 1.5;
/** Outer eye corners in the 468 mesh (subject's right, subject's left): set the crop angle. */
export const EYE_CORNERS = [33, 263] as const;

export interface FaceMesh {
  /** 468 x (x, y, z) in frame pixels; z is depth relative to the face centre, same scale as x,
   * positive away from the camera. */
  points: Float32Array;
  /** The model's face-presence score in [0,1]. */
  score: number;
  roi: CropRect;
}

function roiAround(points: [number, number][], angle: number, scale: number): CropRect {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  // Extent measured along the face's own axes so a tilted head does not inflate the crop.
  for (const [x, y] of points) {
    const u = c * x + s * y;
    const v = -s * x + c * y;
    x0 = Math.min(x0, u);
    x1 = Math.max(x1, u);
    y0 = Math.min(y0, v);
    y1 = Math.max(y1, v);
  }
  const u = (x0 + x1) / 2;
  const v = (y0 + y1) / 2;
  return { cx: c * u - s * v, cy: s * u + c * v, size: Math.max(x1 - x0, y1 - y0) * scale, angle };
}

/** The crop for the first frame, from a BlazeFace detection. */
export function roiFromDetection(d: FaceDetection): CropRect {
  const [re, le] = d.keypoints;
  const angle = Math.atan2(le[1] - re[1], le[0] - re[0]);
  // The detector's box is upright: its side sets the crop size, the eye line the angle.
  const cx = (d.x0 + d.x1) / 2;
  const cy = (d.y0 + d.y1) / 2;
  const size = Math.max(d.x1 - d.x0, d.y1 - d.y0) * ROI_SCALE;
  return { cx, cy, size, angle };
}

/** The crop for the next frame, from this frame's mesh. */
export function roiFromMesh(points: Float32Array): CropRect {
  const [a, b] = EYE_CORNERS;
  const angle = Math.atan2(points[b * 3 + 1] - points[a * 3 + 1], points[b * 3] - points[a * 3]);
  const xy: [number, number][] = [];
  for (let i = 0; i < MESH_POINTS; i++) xy.push([points[i * 3], points[i * 3 + 1]]);
  return roiAround(xy, angle, ROI_SCALE);
}

/** Runs the mesh model on `roi` of `frame`. */
export function runFaceMesh(model: GraphModel, frame: RgbFrame, roi: CropRect): FaceMesh {
  const input = sampleCrop(frame, roi, MESH_INPUT, 0, 1);
  const outs = runGraphModel(model, input, [1, MESH_INPUT, MESH_INPUT, 3]);
  let raw: Float32Array | undefined;
  let flag: Float32Array | undefined;
  for (const v of outs.values()) {
    if (v.length === MESH_POINTS * 3) raw = v;
    else if (v.length === 1) flag = v;
  }
  if (!raw || !flag) throw new Error(`face mesh graph: unexpected outputs ${[...outs.values()].map((v) => v.length).join(',')}`);
  const points = new Float32Array(MESH_POINTS * 3);
  const zScale = roi.size / MESH_INPUT;
  for (let i = 0; i < MESH_POINTS; i++) {
    const [x, y] = cropToFrame(roi, MESH_INPUT, raw[i * 3], raw[i * 3 + 1]);
    points[i * 3] = x;
    points[i * 3 + 1] = y;
    points[i * 3 + 2] = raw[i * 3 + 2] * zScale;
  }
  // The converted graph's flag is a logit on some exports and a probability on others.
  const f = flag[0];
  const score = f >= 0 && f <= 1 ? f : 1 / (1 + Math.exp(-f));
  return { points, score, roi };
}
