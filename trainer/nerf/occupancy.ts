/**
 * Which occupancy cells a refresh probes (the reference's update_extra_state): every cell for
 * the first 16 refreshes, then a random quarter of the grid, each at a random point inside the
 * cell. The backend evaluates the density there, decays the running grid and thresholds it.
 */
import type { CameraConfig } from '../../worker/avatar/config.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { ConfigError } from '../../worker/errors.ts';
import { morton3D } from '../../worker/model/march.ts';
import type { OccupancyState } from './backend.ts';
import type { Rng } from './rng.ts';

export const FULL_REFRESHES = 16;

export function occupancyProbe(rng: Rng, resolution: number, refreshIndex: number): { cells: Uint32Array; points: Float32Array } {
  const R = resolution;
  const total = R * R * R;
  const full = refreshIndex < FULL_REFRESHES;
  const n = full ? total : Math.max(1, Math.floor(total / 4));
  const cells = new Uint32Array(n);
  const points = new Float32Array(n * 3);
  const put = (i: number, x: number, y: number, z: number) => {
    cells[i] = morton3D(x, y, z);
    points[3 * i] = ((x + rng.next()) / R) * 2 - 1;
    points[3 * i + 1] = ((y + rng.next()) / R) * 2 - 1;
    points[3 * i + 2] = ((z + rng.next()) / R) * 2 - 1;
  };
  if (full) {
    let i = 0;
    for (let z = 0; z < R; z++) for (let y = 0; y < R; y++) for (let x = 0; x < R; x++) put(i++, x, y, z);
  } else {
    for (let i = 0; i < n; i++) put(i, rng.int(R), rng.int(R), rng.int(R));
  }
  return { cells, points };
}

/**
 * Torso density grid coordinates: grid cell (y, x) of the res x res grid is read by the renderer
 * at (qRow, qCol) = (x, y) / (res - 1) * 2 - 1 (align corners, transposed: model/torso.ts).
 */
export function torsoGridCoords(res: number): Float32Array {
  const out = new Float32Array(res * res * 2);
  for (let y = 0; y < res; y++) {
    for (let x = 0; x < res; x++) {
      const i = y * res + x;
      out[2 * i] = (x / (res - 1)) * 2 - 1;
      out[2 * i + 1] = (y / (res - 1)) * 2 - 1;
    }
  }
  return out;
}

/**
 * The reference's mark_untrained_grid: cells no training camera sees get density -1, so they
 * are never refreshed, never counted occupied, and do not hold the mean (and so the threshold)
 * up with the random density they were initialised with. Without this, in-view cells whose
 * density falls early in training end up below a threshold set by unseen cells, the rays find
 * no occupied cell, and training stalls for good.
 *
 * A cell counts as seen when its centre projects into the image of one of up to `maxPoses`
 * poses (evenly spaced), widened by the cell's projected half-size, in front of the camera.
 */
export function untrainedOccupancy(camera: CameraConfig, resolution: number, poses: Float32Array, maxPoses = 64): OccupancyState {
  const R = resolution;
  const n = poses.length / 16;
  const use = Math.max(1, Math.min(n, maxPoses));
  const density = new Float32Array(R * R * R).fill(-1);
  const bitfield = new Uint8Array((R * R * R) / 8);
  const half = 1 / R; // half a cell in [-1, 1] units
  for (let k = 0; k < use; k++) {
    const p = Math.floor((k * n) / use) * 16;
    const ox = poses[p + 3];
    const oy = poses[p + 7];
    const oz = poses[p + 11];
    for (let z = 0; z < R; z++) {
      const wz = ((z + 0.5) / R) * 2 - 1 - oz;
      for (let y = 0; y < R; y++) {
        const wy = ((y + 0.5) / R) * 2 - 1 - oy;
        for (let x = 0; x < R; x++) {
          const cell = morton3D(x, y, z);
          if (density[cell] === 0) continue;
          const wx = ((x + 0.5) / R) * 2 - 1 - ox;
          // camera coordinates: R^T (p - o), columns of the pose's rotation are the camera axes
          const cx = poses[p] * wx + poses[p + 4] * wy + poses[p + 8] * wz;
          const cy = poses[p + 1] * wx + poses[p + 5] * wy + poses[p + 9] * wz;
          const cz = poses[p + 2] * wx + poses[p + 6] * wy + poses[p + 10] * wz;
          if (!(cz > 1e-6)) continue;
          const margin = (half * Math.SQRT2 * camera.fx) / cz;
          const u = (cx / cz) * camera.fx + camera.cx;
          const v = (cy / cz) * camera.fy + camera.cy;
          if (u >= -margin && u < camera.width + margin && v >= -margin && v < camera.height + margin) {
            density[cell] = 0;
            bitfield[cell >>> 3] |= 1 << (cell & 7);
          }
        }
      }
    }
  }
  return { density, bitfield };
}

/**
 * The occupancy a run starting from a prior begins with: the subject's seen cells (`seen`, from
 * untrainedOccupancy) that the prior's bitfield marks occupied start at twice the threshold cap,
 * so they stay occupied whatever the threshold, and fade (decay 0.95 a probe) unless the field's
 * own density keeps them up. Without it a short run marches through a grid measured by a few
 * refreshes (one random point a cell each), which misses much of a thin surface: the prior's face
 * renders pitted and its mouth is lost in it. The prior must have this grid's resolution.
 */
export function priorOccupancy(seen: OccupancyState, prior: Avatar, thresholdCap: number): OccupancyState {
  const bits = prior.tensors.get('density_bitfield');
  if (!bits || bits.dtype !== 'uint8' || bits.data.length !== seen.bitfield.length) {
    throw new ConfigError(`the prior avatar (${prior.name}): density_bitfield does not fit this preset's ${seen.density.length}-cell occupancy grid; start from an avatar of the same preset`);
  }
  const prior8 = bits.data as Uint8Array;
  const density = seen.density.slice();
  const bitfield = new Uint8Array(seen.bitfield.length);
  for (let cell = 0; cell < density.length; cell++) {
    if (density[cell] < 0) continue;
    if (prior8[cell >>> 3] & (1 << (cell & 7))) {
      density[cell] = 2 * thresholdCap;
      bitfield[cell >>> 3] |= 1 << (cell & 7);
    }
  }
  return { density, bitfield };
}
