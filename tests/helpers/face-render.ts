/**
 * A tiny perspective rasteriser for test videos with known ground truth: a triangle mesh
 * (MediaPipe's canonical face) textured from a photograph, drawn by a pinhole camera at a
 * given head pose over a static background. Perspective-correct texture coordinates, a
 * z-buffer, bilinear texture reads. Test-only: it exists to make frames whose camera and
 * head poses are exactly known.
 */
import type { RgbFrame } from '../../worker/face/crop.ts';
import type { HeadPose } from '../../worker/face/pose-solver.ts';

export interface TexturedMesh {
  /** n x 3, centimetres, template axes. */
  vertices: Float32Array;
  triangles: Uint32Array;
  /** n x 2 texture pixel coordinates. */
  uv: Float32Array;
  texture: RgbFrame;
}

function sample(tex: RgbFrame, x: number, y: number, out: number[]): void {
  const fx = Math.min(Math.max(x - 0.5, 0), tex.width - 1.001);
  const fy = Math.min(Math.max(y - 0.5, 0), tex.height - 1.001);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const ax = fx - x0;
  const ay = fy - y0;
  for (let c = 0; c < 3; c++) {
    const p = (yy: number, xx: number): number => tex.rgb[(yy * tex.width + xx) * 3 + c];
    out[c] = (1 - ay) * ((1 - ax) * p(y0, x0) + ax * p(y0, x0 + 1)) + ay * ((1 - ax) * p(y0 + 1, x0) + ax * p(y0 + 1, x0 + 1));
  }
}

/** Draws `mesh` at `pose` (template -> OpenCV camera, cm) with focal `f` over `background`. */
export function renderHead(mesh: TexturedMesh, pose: HeadPose, f: number, background: RgbFrame, vertices = mesh.vertices): RgbFrame {
  const { width: W, height: H } = background;
  const rgb = Uint8Array.from(background.rgb);
  const zbuf = new Float32Array(W * H).fill(Infinity);
  const n = vertices.length / 3;
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  const sz = new Float64Array(n);
  const { R, t } = pose;
  for (let i = 0; i < n; i++) {
    const X = vertices[i * 3];
    const Y = vertices[i * 3 + 1];
    const Z = vertices[i * 3 + 2];
    const x = R[0] * X + R[1] * Y + R[2] * Z + t[0];
    const y = R[3] * X + R[4] * Y + R[5] * Z + t[1];
    const z = R[6] * X + R[7] * Y + R[8] * Z + t[2];
    sx[i] = (f * x) / z + W / 2;
    sy[i] = (f * y) / z + H / 2;
    sz[i] = z;
  }
  const col = [0, 0, 0];
  for (let k = 0; k < mesh.triangles.length; k += 3) {
    const a = mesh.triangles[k];
    const b = mesh.triangles[k + 1];
    const c = mesh.triangles[k + 2];
    const area = (sx[b] - sx[a]) * (sy[c] - sy[a]) - (sx[c] - sx[a]) * (sy[b] - sy[a]);
    if (Math.abs(area) < 1e-9) continue;
    const x0 = Math.max(0, Math.floor(Math.min(sx[a], sx[b], sx[c])));
    const x1 = Math.min(W - 1, Math.ceil(Math.max(sx[a], sx[b], sx[c])));
    const y0 = Math.max(0, Math.floor(Math.min(sy[a], sy[b], sy[c])));
    const y1 = Math.min(H - 1, Math.ceil(Math.max(sy[a], sy[b], sy[c])));
    for (let py = y0; py <= y1; py++) {
      for (let px = x0; px <= x1; px++) {
        const qx = px + 0.5;
        const qy = py + 0.5;
        const wa = ((sx[b] - qx) * (sy[c] - qy) - (sx[c] - qx) * (sy[b] - qy)) / area;
        const wb = ((sx[c] - qx) * (sy[a] - qy) - (sx[a] - qx) * (sy[c] - qy)) / area;
        const wc = 1 - wa - wb;
        if (wa < 0 || wb < 0 || wc < 0) continue;
        // Perspective-correct: interpolate attribute/z and 1/z linearly in screen space.
        const iz = wa / sz[a] + wb / sz[b] + wc / sz[c];
        const z = 1 / iz;
        const o = py * W + px;
        if (z >= zbuf[o]) continue;
        zbuf[o] = z;
        const u = (wa * mesh.uv[a * 2] / sz[a] + wb * mesh.uv[b * 2] / sz[b] + wc * mesh.uv[c * 2] / sz[c]) * z;
        const v = (wa * mesh.uv[a * 2 + 1] / sz[a] + wb * mesh.uv[b * 2 + 1] / sz[b] + wc * mesh.uv[c * 2 + 1] / sz[c]) * z;
        sample(mesh.texture, u, v, col);
        rgb[o * 3] = col[0];
        rgb[o * 3 + 1] = col[1];
        rgb[o * 3 + 2] = col[2];
      }
    }
  }
  return { width: W, height: H, rgb };
}

/** A static, face-free background: smooth colour gradients and a few soft stripes. */
export function testBackground(W: number, H: number): RgbFrame {
  const rgb = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      const stripe = 20 * Math.sin((x + 2 * y) / 23);
      rgb[o] = 70 + (90 * x) / W + stripe;
      rgb[o + 1] = 90 + (60 * y) / H;
      rgb[o + 2] = 120 + stripe;
    }
  }
  return { width: W, height: H, rgb };
}
