/**
 * A small CPU ray caster for the synthetic scene. Per pixel it averages 2x2 sub-pixel rays
 * (anti-aliasing) and casts one ray through the pixel centre for the crisp class labels. The
 * head (skull with a jaw-stretched lower half, nose, ears, hair cap) is intersected in the
 * head frame; the neck and shoulders stay still in the world, in front of a static
 * background. A second pass without the head gives the torso image (neck and torso with
 * alpha, the neck continuing behind the head as the reference's inpainting intends).
 */
import { applyT, apply, headRotation, type Mat3, type SynthCamera, type Vec3 } from './camera.ts';
import { lowerSkull, type Ellipsoid, type FaceIdentity } from './face.ts';
import type { FaceFeatures } from './features.ts';
import type { HeadMotion } from './motion.ts';
import { GT_CLASS, isHair, paintFace, paintHair, paintNeck, paintTorso, type Paint } from './paint.ts';
import { hitEllipsoid, type Hit } from './shapes.ts';

export interface RenderedFrame {
  /** The frame over the background, RGB. */
  rgb: Uint8Array;
  /** GT_CLASS per pixel (pixel-centre ray). */
  labels: Uint8Array;
  /** Neck + torso without the head, RGBA (straight alpha = sub-pixel coverage). */
  torso: Uint8Array;
}

/** The still body: a neck cylinder and shoulders, in world units. */
const NECK = { cx: 0, cz: -0.012, r: 0.034, yMin: -0.2, yMax: 0.0 };
const SHOULDERS: Ellipsoid = { c: [0, -0.262, -0.03], r: [0.2, 0.135, 0.085] };
const LIGHT: Vec3 = (() => {
  const l: Vec3 = [-0.35, 0.45, 0.82];
  const n = Math.hypot(...l);
  return [l[0] / n, l[1] / n, l[2] / n];
})();

interface SceneHit {
  t: number;
  paint: Paint;
  /** World-frame normal. */
  n: Vec3;
}

function hitNeck(o: Vec3, d: Vec3): Hit | null {
  const ox = o[0] - NECK.cx;
  const oz = o[2] - NECK.cz;
  const a = d[0] * d[0] + d[2] * d[2];
  if (a < 1e-12) return null;
  const b = ox * d[0] + oz * d[2];
  const c = ox * ox + oz * oz - NECK.r * NECK.r;
  const disc = b * b - a * c;
  if (disc < 0) return null;
  const t = (-b - Math.sqrt(disc)) / a;
  const y = o[1] + t * d[1];
  if (t <= 0 || y < NECK.yMin || y > NECK.yMax) return null;
  const p: Vec3 = [o[0] + t * d[0], y, o[2] + t * d[2]];
  return { t, p, n: [(p[0] - NECK.cx) / NECK.r, 0, (p[2] - NECK.cz) / NECK.r] };
}

export class FrameRenderer {
  private readonly R: Mat3;
  private readonly oHead: Vec3;
  private readonly lowSkull: Ellipsoid;
  private readonly chinY: number;
  private readonly boundR2: number;

  constructor(
    private readonly cam: SynthCamera,
    private readonly id: FaceIdentity,
    private readonly head: HeadMotion,
    private readonly features: FaceFeatures,
    private readonly background: Float32Array,
    private readonly seed: number,
  ) {
    this.R = headRotation(head);
    this.oHead = applyT(this.R, [cam.centre[0] - head.tx, cam.centre[1] - head.ty, cam.centre[2] - head.tz]);
    this.lowSkull = lowerSkull(id, features.expression.open);
    this.chinY = id.skull.c[1] - this.lowSkull.r[1] + head.ty;
    // Every head part lies within 1.5x the hair cap's largest radius of the skull centre (ears stick out ~0.1 rx).
    this.boundR2 = (1.5 * Math.max(...id.hair.r, ...this.lowSkull.r)) ** 2;
  }

  /**
   * A lower-skull hit shaded as the closed jaw's surface at the same (x, y): the stretched
   * ellipsoid's own normal faces the light more as the jaw drops, which would brighten the whole
   * lower face with every syllable (a real opening jaw does not light the cheeks up), so only the
   * mouth and the chin's outline change with speech. Below the closed chin the normal is the
   * closed rim's: the dropped chin stays in shadow.
   */
  private jawNormal(h: Hit): Hit {
    const s = this.id.skull;
    const dx = (h.p[0] - s.c[0]) / s.r[0];
    const dy = (h.p[1] - s.c[1]) / s.r[1];
    const q = Math.max(0, 1 - dx * dx - dy * dy);
    const scaleXY = q > 0 ? 1 : 1 / Math.hypot(dx, dy);
    const nx = (dx * scaleXY) / s.r[0];
    const ny = (dy * scaleXY) / s.r[1];
    const nz = Math.sqrt(q) / s.r[2];
    const len = Math.hypot(nx, ny, nz);
    return { t: h.t, p: h.p, n: [nx / len, ny / len, nz / len] };
  }

  /** Nearest head surface along a head-frame ray. */
  private hitHead(d: Vec3): SceneHit | null {
    const o = this.oHead;
    const id = this.id;
    // Most rays miss the head: reject them with one bounding-sphere test.
    const bc = id.skull.c;
    const ox = o[0] - bc[0];
    const oy = o[1] - bc[1];
    const oz = o[2] - bc[2];
    const b = ox * d[0] + oy * d[1] + oz * d[2];
    if (b * b - (ox * ox + oy * oy + oz * oz - this.boundR2) < 0) return null;
    const candidates: [Hit | null, 'skull' | 'hair' | 'ear'][] = [];
    const cap = hitEllipsoid(id.hair, o, d, false);
    if (cap && isHair(id, cap.p[0], cap.p[1], cap.p[2])) candidates.push([cap, 'hair']);
    const up = hitEllipsoid(id.skull, o, d, false);
    if (up && up.p[1] >= id.skull.c[1]) candidates.push([up, 'skull']);
    const low = hitEllipsoid(this.lowSkull, o, d, false);
    if (low && low.p[1] < id.skull.c[1]) candidates.push([this.jawNormal(low), 'skull']);
    candidates.push([hitEllipsoid(id.nose, o, d, false), 'skull']);
    for (const ala of id.alae) candidates.push([hitEllipsoid(ala, o, d, false), 'skull']);
    for (const ear of id.ears) candidates.push([hitEllipsoid(ear, o, d, false), 'ear']);
    let best: Hit | null = null;
    let kind: 'skull' | 'hair' | 'ear' = 'skull';
    for (const [h, k] of candidates) {
      if (h && (!best || h.t < best.t)) {
        best = h;
        kind = k;
      }
    }
    // A ray that grazes the hair cap's rim but misses the skull passes through hair.
    if (!best && cap) {
      best = cap;
      kind = 'hair';
    }
    if (!best) return null;
    const h = best;
    let paint: Paint;
    if (kind === 'hair') paint = paintHair(id, h.p[0], h.p[1], h.p[2], this.seed);
    else paint = paintFace(id, this.features, h.p[0], h.p[1], this.seed, kind === 'skull' && h.n[2] > 0.15);
    return { t: h.t, paint, n: apply(this.R, h.n) };
  }

  private hitBody(o: Vec3, d: Vec3): SceneHit | null {
    const neck = hitNeck(o, d);
    const torso = hitEllipsoid(SHOULDERS, o, d, false);
    if (torso && (!neck || torso.t < neck.t)) return { t: torso.t, paint: paintTorso(this.id, torso.p[0], torso.p[1], torso.p[2], this.seed), n: torso.n };
    if (neck) return { t: neck.t, paint: paintNeck(this.id, neck.p[1], this.chinY), n: neck.n as Vec3 };
    return null;
  }

  private shade(h: SceneHit): [number, number, number] {
    const ndl = Math.max(0, h.n[0] * LIGHT[0] + h.n[1] * LIGHT[1] + h.n[2] * LIGHT[2]);
    // Half vector with the viewer along +z.
    const hx = LIGHT[0];
    const hy = LIGHT[1];
    const hz = LIGHT[2] + 1;
    const hn = Math.hypot(hx, hy, hz);
    const ndh = Math.max(0, (h.n[0] * hx + h.n[1] * hy + h.n[2] * hz) / hn);
    const light = (0.36 + 0.64 * ndl) * (h.paint.ao ?? 1);
    const spec = h.paint.spec * ndh ** 24;
    // Skin scatters light: its shadows turn warmer instead of plain grey.
    const cls = h.paint.cls;
    const warm = cls === GT_CLASS.skin || cls === GT_CLASS.neck || cls === GT_CLASS.lips ? 1 - ndl : 0;
    return [h.paint.rgb[0] * light + spec, h.paint.rgb[1] * light * (1 - 0.06 * warm) + spec, h.paint.rgb[2] * light * (1 - 0.1 * warm) + spec];
  }

  /** Casts one world ray: the nearest hit with the head, and the body hit alone (the torso pass). */
  private cast(dx: number, dy: number): { all: SceneHit | null; body: SceneHit | null } {
    const n = Math.hypot(dx, dy, 1);
    const d: Vec3 = [dx / n, dy / n, -1 / n];
    const body = this.hitBody(this.cam.centre, d);
    const head = this.hitHead(applyT(this.R, d));
    return { all: head && (!body || head.t < body.t) ? head : body, body };
  }

  render(): RenderedFrame {
    const { width: W, height: H, focal: f, cx, cy } = this.cam;
    const rgb = new Uint8Array(W * H * 3);
    const labels = new Uint8Array(W * H);
    const torso = new Uint8Array(W * H * 4);
    const subs = [0.25, 0.75];
    for (let row = 0; row < H; row++) {
      for (let col = 0; col < W; col++) {
        const i = row * W + col;
        let r = 0;
        let g = 0;
        let b = 0;
        let tr = 0;
        let tg = 0;
        let tb = 0;
        let cover = 0;
        for (const sy of subs) {
          for (const sx of subs) {
            const dx = (col + sx - cx) / f;
            const dy = -(row + sy - cy) / f;
            const { all: hit, body } = this.cast(dx, dy);
            if (hit) {
              const c = this.shade(hit);
              r += c[0];
              g += c[1];
              b += c[2];
            } else {
              r += this.background[i * 3];
              g += this.background[i * 3 + 1];
              b += this.background[i * 3 + 2];
            }
            if (body) {
              const c = this.shade(body);
              tr += c[0];
              tg += c[1];
              tb += c[2];
              cover++;
            }
          }
        }
        const q = (v: number): number => Math.max(0, Math.min(255, Math.round(v * 255)));
        rgb[i * 3] = q(r / 4);
        rgb[i * 3 + 1] = q(g / 4);
        rgb[i * 3 + 2] = q(b / 4);
        if (cover > 0) {
          torso[i * 4] = q(tr / cover);
          torso[i * 4 + 1] = q(tg / cover);
          torso[i * 4 + 2] = q(tb / cover);
          torso[i * 4 + 3] = q(cover / 4);
        }
        const centre = this.cast((col + 0.5 - cx) / f, -(row + 0.5 - cy) / f).all;
        labels[i] = centre ? centre.paint.cls : GT_CLASS.background;
      }
    }
    return { rgb, labels, torso };
  }
}
