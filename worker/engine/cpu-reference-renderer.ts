/**
 * Camera downscaling for the CPU reference renderer (worker/model/cpu-renderer.ts): the engine
 * renders on the CPU at a reduced camera (64x64 in the extension) so that it gets several real
 * renders a second, and the session scales the picture up. (AvatarRenderer does the rendering.)
 */
import type { Avatar, Tensor } from '../avatar/types.ts';

/** Shrinks an avatar's camera and background by an integer factor (box filter). */
export function downscaleAvatar(avatar: Avatar, factor: number): Avatar {
  if (!Number.isInteger(factor) || factor < 1 || factor > 16) throw new RangeError(`factor: expected an integer in [1, 16], got ${factor}`);
  const cam = avatar.camera;
  if (cam.width % factor !== 0 || cam.height % factor !== 0) throw new RangeError(`factor: ${factor} does not divide ${cam.width}x${cam.height}`);
  const bg = avatar.tensors.get('background');
  if (!bg || !(bg.data instanceof Uint8Array)) throw new RangeError('background: expected a uint8 tensor');
  const w = cam.width / factor;
  const h = cam.height / factor;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) sum += bg.data[((y * factor + dy) * cam.width + x * factor + dx) * 3 + k];
        out[(y * w + x) * 3 + k] = Math.round(sum / (factor * factor));
      }
    }
  }
  const tensors = new Map(avatar.tensors);
  const background: Tensor = { name: 'background', dtype: 'uint8', shape: [h, w, 3], data: out };
  tensors.set('background', background);
  return {
    ...avatar,
    camera: { fx: cam.fx / factor, fy: cam.fy / factor, cx: cam.cx / factor, cy: cam.cy / factor, width: w, height: h },
    tensors,
  };
}
