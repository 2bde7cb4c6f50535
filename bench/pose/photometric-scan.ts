/**
 * The photometric misfit of a texture's own refined poses (shell-lab.ts scans the head shell's
 * depth, refine-lab.ts the template's relief): refine every selected frame's pose on the texture,
 * then score them on one robust scale. The scale is set by the first texture scanned (Huber at
 * 1.345 x the median residual sigma) so that every variant is measured with the same yardstick.
 */
import { photometricCost, referenceValues, refinePosePhotometric, type FaceTexture, type GrayImage } from '../../worker/face/photometric.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';

type Intr = Parameters<typeof photometricCost>[3];

export function photometricScan(refLevels: GrayImage[], levels: Map<number, GrayImage[]>, sel: number[], k: Intr, start: (i: number) => HeadPose) {
  let scale = NaN;
  return (tex: FaceTexture): { cost: number; poses: HeadPose[] } => {
    const refValues = referenceValues(tex, refLevels);
    const fine = refValues.length - 1;
    const poses = sel.map((i) => refinePosePhotometric(tex, refValues, levels.get(i)!, k, start(i)).pose);
    if (Number.isNaN(scale)) {
      const sig = sel.map((i, j) => photometricCost(tex, refValues[fine], levels.get(i)![fine], k, poses[j], 1).sigma).sort((a, b) => a - b);
      scale = Math.max(1, 1.345 * sig[sig.length >> 1]);
    }
    const cost = sel.reduce((acc, i, j) => acc + photometricCost(tex, refValues[fine], levels.get(i)![fine], k, poses[j], scale).cost, 0) / sel.length;
    return { cost, poses };
  };
}
