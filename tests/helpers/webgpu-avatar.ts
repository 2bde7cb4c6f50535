/**
 * A full-size official-config avatar (officialConfig(): 1M-row grids, 10880-wide conditioning
 * MLPs, torso) with seeded random weights scaled so fields stay in a useful range, a head-shaped
 * occupancy bitfield (so rays get samples) and a small camera for SwiftShader-speed tests.
 */
import { expectedTensors, officialConfig, type CameraConfig, type ModelConfig } from '../../worker/avatar/config.ts';
import type { Avatar, Tensor } from '../../worker/avatar/types.ts';
import { morton3D } from '../../worker/model/march.ts';
import { mulberry32, tinyAvatar, type TinyAvatarOptions } from './tiny-avatar.ts';

export interface OfficialAvatarOptions {
  size?: number; // square image side, default 64
  seed?: number;
  torso?: boolean;
  eyeInput?: boolean;
}

/** Camera at z = -3 looking along +z (renderer convention), the aabb filling most of the image. */
export function frontPose(yaw = 0): Float32Array {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return Float32Array.from([c, 0, s, 3 * -s, 0, 1, 0, 0.02, -s, 0, c, -3 * c, 0, 0, 0, 1]);
}

/** Occupied cells: an ellipsoid head with a few holes, as a trained bitfield roughly looks. */
export function headBitfield(res: number, rand: () => number): Uint8Array {
  const bits = new Uint8Array((res * res * res) / 8);
  for (let z = 0; z < res; z++) {
    for (let y = 0; y < res; y++) {
      for (let x = 0; x < res; x++) {
        const p = [x, y, z].map((v) => ((v + 0.5) / res) * 2 - 1);
        const e = (p[0] / 0.55) ** 2 + (p[1] / 0.42) ** 2 + (p[2] / 0.55) ** 2;
        if (e < 1 && rand() > 0.05) {
          const i = morton3D(x, y, z);
          bits[i >>> 3] |= 1 << (i & 7);
        }
      }
    }
  }
  return bits;
}

export function officialAvatar(opts: OfficialAvatarOptions = {}): Avatar {
  const size = opts.size ?? 64;
  const rand = mulberry32(opts.seed ?? 7);
  const config = officialConfig({ torso: opts.torso ?? true, eyeInput: opts.eyeInput ?? true });
  const camera: CameraConfig = { fx: size * 1.25, fy: size * 1.25, cx: size / 2, cy: size / 2, width: size, height: size };
  const tensors = new Map<string, Tensor>();
  const gauss = () => (rand() + rand() + rand() - 1.5) * 2;
  for (const spec of expectedTensors(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.name === 'density_bitfield') {
      tensors.set(spec.name, { name: spec.name, dtype: 'uint8', shape: spec.shape, data: headBitfield(config.march.gridResolution, rand) });
      continue;
    }
    const data = new Float32Array(n);
    if (spec.name === 'density_grid_torso') {
      const r = config.torso!.densityResolution;
      for (let i = 0; i < n; i++) data[i] = Math.floor(i / r) > r * 0.6 ? 0.5 : 0.001;
    } else if (spec.name.endsWith('embeddings')) {
      for (let i = 0; i < n; i++) data[i] = gauss() * 0.5;
    } else {
      const fanIn = spec.shape[spec.shape.length - 1];
      const scale = spec.shape.length === 2 ? 1.6 / Math.sqrt(fanIn) : 0.5;
      for (let i = 0; i < n; i++) data[i] = gauss() * scale;
      // Denser heads: a larger sigma output row makes rays saturate and terminate early.
      if (spec.name === 'sigma_net.net.2.weight') for (let i = 0; i < spec.shape[1]; i++) data[i] = Math.abs(data[i]) * 3;
    }
    tensors.set(spec.name, { name: spec.name, dtype: 'float32', shape: spec.shape, data });
  }
  const bg = new Uint8Array(size * size * 3);
  for (let i = 0; i < bg.length; i++) bg[i] = (i * 37) % 251;
  tensors.set('background', { name: 'background', dtype: 'uint8', shape: [size, size, 3], data: bg });
  tensors.set('poses', { name: 'poses', dtype: 'float32', shape: [1, 4, 4], data: frontPose() });
  return { name: 'official-random', config, camera, tensors, landmarkStats: null, generator: null, provenance: { source: 'synthetic' } };
}

/** A deterministic landmark window (window*68*3 values in roughly the model's range). */
export function windowPointsFor(count: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const pts = new Float32Array(count * 3);
  for (let i = 0; i < pts.length; i++) pts[i] = (rand() - 0.5) * 1.2;
  return pts;
}

export interface FeatureAvatarOptions extends TinyAvatarOptions {
  /** Features per level of the head grid (1..8). */
  headFeatures: number;
  /** Features per level of the torso grid (default: tinyConfig's 2). */
  torsoFeatures?: number;
  /** Head MLP widths (default: tinyConfig's 8 each); widths that are not multiples of 4 pad blocks. */
  headWidths?: { hidden: number; geo: number; color: number };
}

/**
 * tinyAvatar() with other grid widths: the tensors whose shapes change are drawn again, and
 * the head/torso tables with values around +-1 (tinyAvatar's are ~1e-4), so that every grid
 * feature visibly moves sigma and colour and a feature read from the wrong lane fails parity.
 */
export function tinyFeatureAvatar(opts: FeatureAvatarOptions): Avatar {
  const base = tinyAvatar(opts);
  const cfg = base.config;
  const config: ModelConfig = {
    ...cfg,
    head: {
      ...cfg.head,
      grid: { ...cfg.head.grid, featuresPerLevel: opts.headFeatures },
      ...(opts.headWidths ? { hiddenDim: opts.headWidths.hidden, geoFeatDim: opts.headWidths.geo, colorHiddenDim: opts.headWidths.color } : {}),
    },
    torso: cfg.torso && opts.torsoFeatures ? { ...cfg.torso, grid: { ...cfg.torso.grid, featuresPerLevel: opts.torsoFeatures } } : cfg.torso,
  };
  const rand = mulberry32((opts.seed ?? 1) + 1000);
  const tensors = new Map(base.tensors);
  for (const spec of expectedTensors(config)) {
    const old = tensors.get(spec.name);
    // Loud grids, the landmark grid included: at tinyAvatar's 2e-4 the FiLM vectors are ~1e-5 and
    // a kernel that misread them would still match the CPU reference.
    const loud = spec.name === 'encoder.embeddings' || spec.name === 'torso_encoder.embeddings' || spec.name === 'encoder_idexp_lm3d.embeddings';
    if (old && !loud && old.shape.length === spec.shape.length && old.shape.every((v, i) => v === spec.shape[i])) continue;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const scale = loud ? 1 : 0.5;
    const data = Float32Array.from({ length: n }, () => (rand() - 0.5) * 2 * scale);
    tensors.set(spec.name, { name: spec.name, dtype: 'float32', shape: spec.shape, data });
  }
  return { ...base, name: `tiny-f${opts.headFeatures}`, config, tensors };
}
