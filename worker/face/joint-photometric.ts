/**
 * Photometric bundle adjustment of a reference frame's pose together with the poses of the frames
 * aligned to it. photometric.ts holds the reference pose fixed: its texture is lifted from the
 * reference's tracked points, and the tracker's few pixels of error there decide where the focal
 * search's minimum lands (docs/prepare.md "Focal: one reference frame is not enough"). Here the
 * texture is a fixed set of template surface points; the reference's pixels are read where its
 * pose projects them, so that pose is a parameter like the others, pinned by every frame's pixels.
 */
import { solveSpd } from './linalg.ts';
import { gainOffset, HUBER, ITERATIONS, MIN_USED, seeSample, select, STEP_ROT, STEP_T, type GrayImage, type SurfaceSamples } from './photometric.ts';
import { applyPoseStep, type HeadPose, type Intrinsics } from './pose-solver.ts';

export interface JointAdjustment {
  ref: HeadPose;
  poses: HeadPose[];
  /** Frames that saw too few samples at some level (their pose is left where it was). */
  lost: number;
}

/** The template's points (n x 3, head cm) projected through `pose`: frame pixels, n x 2. */
export function projectPoints(points: ArrayLike<number>, pose: HeadPose, k: Intrinsics): Float64Array {
  const n = points.length / 3;
  const { R, t } = pose;
  const xy = new Float64Array(n * 2);
  for (let v = 0; v < n; v++) {
    const [X, Y, Z] = [points[v * 3], points[v * 3 + 1], points[v * 3 + 2]];
    const z = R[6] * X + R[7] * Y + R[8] * Z + t[2];
    xy[v * 2] = (k.f * (R[0] * X + R[1] * Y + R[2] * Z + t[0])) / z + k.cx;
    xy[v * 2 + 1] = (k.f * (R[3] * X + R[4] * Y + R[5] * Z + t[1])) / z + k.cy;
  }
  return xy;
}

/** x = A^-1 b for a 6 x 6 SPD `a` (not modified); null when singular. */
function solve6(a: Float64Array, b: ArrayLike<number>): Float64Array | null {
  const x = Float64Array.from(b);
  return solveSpd(Float64Array.from(a), x, 6) ? x : null;
}

/**
 * Robust Gauss-Newton, coarse to fine, on the reference pose and every frame's pose at once: each
 * residual is a frame's grey value of a surface sample minus the reference's (after the frame's
 * gain and offset), and depends on both poses. The frames' blocks are eliminated (Schur
 * complement), so each step solves one 6 x 6 system for the reference and then one per frame.
 * `refLevels` and each `levels[j]` are pyramids with the same radii.
 */
export function adjustJointPhotometric(tex: SurfaceSamples, refLevels: GrayImage[], levels: GrayImage[][], k: Intrinsics, refInit: HeadPose, starts: HeadPose[]): JointAdjustment {
  const n = tex.points.length / 3;
  const m = starts.length;
  let ref = refInit;
  let poses = starts.slice();
  const refRows = new Float64Array(n * 6);
  const refVals = new Float64Array(n);
  const rows = new Float64Array(n * 6);
  const seenAt = new Int32Array(n);
  const obs = new Float64Array(n);
  const refs = new Float64Array(n);
  const res = new Float64Array(n);
  const absRes = new Float64Array(n);
  const lostFrames = new Set<number>();
  for (let level = 0; level < refLevels.length; level++) {
    for (let it = 0; it < ITERATIONS; it++) {
      for (let s = 0; s < n; s++) refVals[s] = seeSample(tex, s, ref.R, ref.t, refLevels[level], k, refRows, s * 6);
      const Hrr = new Float64Array(36);
      const gr = new Float64Array(6);
      const blocks: { Hjj: Float64Array; Hjr: Float64Array; gj: Float64Array }[] = [];
      for (let j = 0; j < m; j++) {
        let used = 0;
        for (let s = 0; s < n; s++) {
          if (Number.isNaN(refVals[s])) continue;
          const v = seeSample(tex, s, poses[j].R, poses[j].t, levels[j][level], k, rows, used * 6);
          if (Number.isNaN(v)) continue;
          seenAt[used] = s;
          obs[used] = v;
          refs[used] = refVals[s];
          used++;
        }
        const Hjj = new Float64Array(36);
        const Hjr = new Float64Array(36);
        const gj = new Float64Array(6);
        blocks.push({ Hjj, Hjr, gj });
        if (used < MIN_USED) {
          lostFrames.add(j);
          continue;
        }
        const { gain, off } = gainOffset(refs, obs, used);
        for (let u = 0; u < used; u++) res[u] = obs[u] - gain * refs[u] - off;
        for (let u = 0; u < used; u++) absRes[u] = Math.abs(res[u]);
        const thr = HUBER * Math.max(1, 1.4826 * select(absRes, used, used >> 1));
        for (let u = 0; u < used; u++) {
          const e = res[u];
          const w = Math.abs(e) <= thr ? 1 : thr / Math.abs(e);
          const a = u * 6;
          const r = seenAt[u] * 6;
          for (let p = 0; p < 6; p++) {
            const jp = rows[a + p];
            const rp = -gain * refRows[r + p];
            gj[p] += w * jp * e;
            gr[p] += w * rp * e;
            for (let q = 0; q < 6; q++) {
              Hjj[p * 6 + q] += w * jp * rows[a + q];
              Hjr[p * 6 + q] += w * jp * -gain * refRows[r + q];
              Hrr[p * 6 + q] += w * rp * -gain * refRows[r + q];
            }
          }
        }
        for (let p = 0; p < 6; p++) Hjj[p * 7] *= 1.001;
      }
      for (let p = 0; p < 6; p++) Hrr[p * 7] *= 1.001;
      // Eliminate the frames: S = Hrr - sum Hjr^T Hjj^-1 Hjr, b = gr - sum Hjr^T Hjj^-1 gj.
      const S = Float64Array.from(Hrr);
      const b = Float64Array.from(gr);
      const inv: (Float64Array | null)[] = [];
      for (let j = 0; j < m; j++) {
        const { Hjj, Hjr, gj } = blocks[j];
        if (lostFrames.has(j)) {
          inv.push(null);
          continue;
        }
        // Columns of Hjj^-1 Hjr, then Hjj^-1 gj.
        const cols: Float64Array[] = [];
        for (let q = 0; q < 6; q++) {
          const c = solve6(Hjj, Array.from({ length: 6 }, (_, p) => Hjr[p * 6 + q]));
          if (!c) break;
          cols.push(c);
        }
        const y = solve6(Hjj, gj);
        if (cols.length < 6 || !y) {
          inv.push(null);
          continue;
        }
        inv.push(y);
        for (let p = 0; p < 6; p++) {
          for (let q = 0; q < 6; q++) {
            let acc = 0;
            for (let r = 0; r < 6; r++) acc += Hjr[r * 6 + p] * cols[q][r];
            S[p * 6 + q] -= acc;
          }
          let acc = 0;
          for (let r = 0; r < 6; r++) acc += Hjr[r * 6 + p] * y[r];
          b[p] -= acc;
        }
      }
      const dr = solve6(S, b);
      if (!dr) break;
      for (let p = 0; p < 6; p++) dr[p] = -dr[p];
      let moved = Math.hypot(dr[0], dr[1], dr[2]) >= STEP_ROT || Math.hypot(dr[3], dr[4], dr[5]) >= STEP_T;
      ref = applyPoseStep(ref, dr);
      poses = poses.map((p, j) => {
        if (!inv[j]) return p;
        // Hjj dj = -(gj + Hjr dr)
        const rhs = Array.from({ length: 6 }, (_, q) => {
          let acc = blocks[j].gj[q];
          for (let r = 0; r < 6; r++) acc += blocks[j].Hjr[q * 6 + r] * dr[r];
          return -acc;
        });
        const dj = solve6(blocks[j].Hjj, rhs);
        if (!dj) return p;
        if (Math.hypot(dj[0], dj[1], dj[2]) >= STEP_ROT || Math.hypot(dj[3], dj[4], dj[5]) >= STEP_T) moved = true;
        return applyPoseStep(p, dj);
      });
      if (!moved) break;
    }
  }
  return { ref, poses, lost: lostFrames.size };
}
