/**
 * The CPU TrainerBackend: readable TypeScript, the reference the WebGPU backend is checked
 * against, and a usable trainer for the tiny preset on machines without a GPU.
 *
 * Memory: the forward keeps only what the compositing backward needs per sample (position,
 * dt, sigma, rgb); the backward recomputes each sample's network activations (gradient
 * checkpointing), so a step's memory is O(samples * 8) floats rather than every activation.
 */
import type { CameraConfig, ModelConfig } from '../../../worker/avatar/config.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { marchRay, stepBounds } from '../../../worker/model/march.ts';
import type {
  AdamMoments,
  AdamStep,
  BackendInit,
  HeadForwardInput,
  HeadForwardResult,
  OccupancyState,
  OccupancyStats,
  OccupancyUpdate,
  ParamGroupSpec,
  ParamSet,
  TorsoForwardInput,
  TorsoForwardResult,
  TrainerBackend,
} from '../backend.ts';
import { compositeBackward, compositeForward, type CompositeResult } from './composite.ts';
import { conditionBackward, conditionForward, createConditionGrads, type ConditionCache, type ConditionGrads } from './conditioning.ts';
import { createHeadGrads, createHeadSampleCache, headSampleBackward, headSampleForward, type HeadGrads, type HeadSampleCache } from './head-sample.ts';
import { headNet, torsoNet, type HeadNet, type TorsoNet } from './network.ts';
import { createTorsoGrads, createTorsoSampleCache, torsoSampleBackward, torsoSampleForward, torsoSetPose, type TorsoGrads, type TorsoSampleCache } from './torso-sample.ts';

interface HeadKept {
  input: HeadForwardInput;
  cond: ConditionCache;
  /** per ray: first sample slot and samples used */
  start: Uint32Array;
  used: Uint32Array;
  xyz: Float32Array;
  dt: Float32Array;
  sigma: Float64Array;
  rgb: Float64Array;
  results: CompositeResult[];
}

interface TorsoKept {
  input: TorsoForwardInput;
}

export class CpuTrainerBackend implements TrainerBackend {
  readonly name = 'cpu' as const;
  private config!: ModelConfig;
  private groups: ParamGroupSpec[] = [];
  private params: ParamSet = new Map();
  private moments = new Map<string, AdamMoments>();
  private head!: HeadNet;
  private torso: TorsoNet | null = null;
  private headGrads!: HeadGrads;
  private condGrads!: ConditionGrads;
  private torsoGrads: TorsoGrads | null = null;
  private headCache!: HeadSampleCache;
  private torsoCache: TorsoSampleCache | null = null;
  private density!: Float32Array;
  private bitfield!: Uint8Array;
  private kept: HeadKept | null = null;
  private torsoKept: TorsoKept | null = null;
  private disposed = false;
  private lastTorso64: Float64Array | null = null;
  private last64: { rgb: Float64Array; weightSum: Float64Array } | null = null;

  async init(init: BackendInit): Promise<void> {
    this.config = init.config;
    this.groups = init.groups;
    for (const g of init.groups) {
      const p = init.params.get(g.name);
      if (!(p instanceof Float32Array) || p.length !== g.length) throw new ConfigError(`backend.init: group ${g.name} expects ${g.length} float32 values, got ${p?.length}`);
      this.params.set(g.name, p.slice());
      this.moments.set(g.name, { m: new Float32Array(g.length), v: new Float32Array(g.length), step: 0 });
    }
    this.head = headNet(this.config, this.params);
    this.headGrads = createHeadGrads(this.head);
    this.condGrads = createConditionGrads(this.head);
    this.headCache = createHeadSampleCache(this.head);
    if (this.config.torso) {
      this.torso = torsoNet(this.config, this.params);
      this.torsoGrads = createTorsoGrads(this.torso);
      this.torsoCache = createTorsoSampleCache(this.torso);
    }
    const R = this.config.march.gridResolution;
    this.density = new Float32Array(R * R * R);
    // Until the first refresh every cell counts as occupied, so the first rays see the whole box.
    this.bitfield = new Uint8Array((R * R * R) / 8).fill(0xff);
    void (init.camera as CameraConfig);
  }

  private live(): void {
    if (this.disposed) throw new ConfigError('backend: used after dispose()');
  }

  async headForward(input: HeadForwardInput, keep: boolean): Promise<HeadForwardResult> {
    this.live();
    const { rays, condition, activeLevels } = input;
    const N = rays.count;
    const march = this.config.march;
    const S = march.maxSteps;
    const cond = conditionForward(this.head, condition.points, activeLevels.condition);
    const [film1, film2] = cond.film;
    const { dtMin, dtMax } = stepBounds(march);
    const start = new Uint32Array(N);
    const usedArr = new Uint32Array(N);
    const xyz = new Float32Array(N * S * 3);
    const dts = new Float32Array(N * S);
    const ts = new Float32Array(S);
    const sigma = new Float64Array(N * S);
    const rgbS = new Float64Array(N * S * 3);
    const results: CompositeResult[] = [];
    const outRgb = new Float32Array(N * 3);
    const outWs = new Float32Array(N);
    const rgb64 = new Float64Array(N * 3);
    const ws64 = new Float64Array(N);
    const o = new Float32Array(3);
    const d = new Float32Array(3);
    const c = this.headCache;
    let samples = 0;
    for (let r = 0; r < N; r++) {
      for (let k = 0; k < 3; k++) {
        o[k] = rays.origins[3 * r + k];
        d[k] = rays.directions[3 * r + k];
      }
      const near = rays.nears[r];
      const base = r * S;
      start[r] = base;
      let n = 0;
      if (Number.isFinite(near)) {
        // The reference's perturbed start: near + noise * dt(near).
        const dt0 = Math.min(dtMax, Math.max(dtMin, Math.fround(near * march.dtGamma)));
        const t0 = Math.fround(near + rays.jitter[r] * dt0);
        n = marchRay(o, d, t0, rays.fars[r], S, this.bitfield, march, xyz.subarray(base * 3, (base + S) * 3), ts, dts.subarray(base, base + S));
      }
      for (let i = 0; i < n; i++) {
        const j = base + i;
        headSampleForward(this.head, film1, film2, condition.eye, activeLevels.head, xyz.subarray(j * 3, j * 3 + 3), d, c);
        sigma[j] = c.sigma;
        rgbS[3 * j] = c.rgb[0];
        rgbS[3 * j + 1] = c.rgb[1];
        rgbS[3 * j + 2] = c.rgb[2];
      }
      const res: CompositeResult = { used: 0, r: 0, g: 0, b: 0, weightSum: 0 };
      compositeForward(sigma.subarray(base, base + n), rgbS.subarray(base * 3, (base + n) * 3), dts.subarray(base, base + n), n, march.tThreshold, res);
      usedArr[r] = res.used;
      samples += n;
      results.push(res);
      outRgb[3 * r] = res.r;
      outRgb[3 * r + 1] = res.g;
      outRgb[3 * r + 2] = res.b;
      outWs[r] = res.weightSum;
      rgb64[3 * r] = res.r;
      rgb64[3 * r + 1] = res.g;
      rgb64[3 * r + 2] = res.b;
      ws64[r] = res.weightSum;
    }
    this.last64 = { rgb: rgb64, weightSum: ws64 };
    this.kept = keep ? { input, cond, start, used: usedArr, xyz, dt: dts, sigma, rgb: rgbS, results } : null;
    return { rgb: outRgb, weightSum: outWs, samples };
  }

  /**
   * The last headForward's colours and weight sums before their float32 rounding (the gradient
   * checks difference losses, where that rounding would dominate). CPU backend only.
   */
  lastHeadOutputs64(): { rgb: Float64Array; weightSum: Float64Array } {
    if (!this.last64) throw new ConfigError('lastHeadOutputs64: no headForward yet');
    return this.last64;
  }

  /** The last torsoForward's (alpha, r, g, b) per ray before float32 rounding. CPU backend only. */
  lastTorsoOutputs64(): Float64Array {
    if (!this.lastTorso64) throw new ConfigError('lastTorsoOutputs64: no torsoForward yet');
    return this.lastTorso64;
  }

  async headBackward(dRgb: Float32Array, dWeightSum: Float32Array): Promise<void> {
    this.live();
    const k = this.kept;
    if (!k) throw new ConfigError('headBackward: no kept forward (call headForward with keep = true first)');
    const N = k.input.rays.count;
    if (dRgb.length !== N * 3 || dWeightSum.length !== N) throw new ConfigError(`headBackward: expected ${N * 3} and ${N} gradient values, got ${dRgb.length} and ${dWeightSum.length}`);
    this.zeroHeadGrads();
    const S = this.config.march.maxSteps;
    const dSigma = new Float64Array(S);
    const dRgbS = new Float64Array(S * 3);
    const dOut = new Float64Array(3);
    const d = new Float32Array(3);
    const [film1, film2] = k.cond.film;
    const { condition, activeLevels, rays } = k.input;
    const c = this.headCache;
    for (let r = 0; r < N; r++) {
      const n = k.used[r];
      if (n === 0) continue;
      const base = k.start[r];
      dOut[0] = dRgb[3 * r];
      dOut[1] = dRgb[3 * r + 1];
      dOut[2] = dRgb[3 * r + 2];
      compositeBackward(k.sigma.subarray(base, base + n), k.rgb.subarray(base * 3, (base + n) * 3), k.dt.subarray(base, base + n), k.results[r], dOut, dWeightSum[r], dSigma, dRgbS);
      for (let q = 0; q < 3; q++) d[q] = rays.directions[3 * r + q];
      for (let i = 0; i < n; i++) {
        if (dSigma[i] === 0 && dRgbS[3 * i] === 0 && dRgbS[3 * i + 1] === 0 && dRgbS[3 * i + 2] === 0) continue;
        const j = base + i;
        // Recompute the activations this sample had in the forward (checkpointing).
        headSampleForward(this.head, film1, film2, condition.eye, activeLevels.head, k.xyz.subarray(j * 3, j * 3 + 3), d, c);
        headSampleBackward(this.head, film1, film2, activeLevels.head, dSigma[i], dRgbS.subarray(3 * i, 3 * i + 3), c, this.headGrads);
      }
    }
    conditionBackward(this.head, k.cond, this.headGrads.film, this.condGrads);
    this.kept = null;
  }

  private zeroHeadGrads(): void {
    const g = this.headGrads;
    g.headTable.fill(0);
    for (const a of [...g.sigma, ...g.color, g.individual, ...g.film]) a.fill(0);
    this.condGrads.lmTable.fill(0);
    for (const m of this.condGrads.film) for (const a of m) a.fill(0);
  }

  async torsoForward(input: TorsoForwardInput, keep: boolean): Promise<TorsoForwardResult> {
    this.live();
    const net = this.torso;
    const c = this.torsoCache;
    if (!net || !c) throw new ConfigError('torsoForward: the model config has no torso');
    const N = input.coords.length / 2;
    if (!Number.isInteger(N)) throw new ConfigError(`torsoForward.coords: expected 2 values per ray, got ${input.coords.length}`);
    torsoSetPose(net, input.pose, c);
    const colors = new Float32Array(N * 3);
    const alpha = new Float32Array(N);
    const out64 = new Float64Array(N * 4);
    for (let r = 0; r < N; r++) {
      torsoSampleForward(net, input.coords[2 * r], input.coords[2 * r + 1], input.activeLevels.torso, c);
      out64.set(c.out, 4 * r);
      alpha[r] = c.out[0];
      colors[3 * r] = c.out[1];
      colors[3 * r + 1] = c.out[2];
      colors[3 * r + 2] = c.out[3];
    }
    this.torsoKept = keep ? { input } : null;
    this.lastTorso64 = out64;
    return { colors, alpha };
  }

  async torsoBackward(dColor: Float32Array, dAlpha: Float32Array): Promise<void> {
    this.live();
    const k = this.torsoKept;
    const net = this.torso;
    const c = this.torsoCache;
    const g = this.torsoGrads;
    if (!k || !net || !c || !g) throw new ConfigError('torsoBackward: no kept torso forward (call torsoForward with keep = true first)');
    const N = k.input.coords.length / 2;
    if (dColor.length !== N * 3 || dAlpha.length !== N) throw new ConfigError(`torsoBackward: expected ${N * 3} and ${N} gradient values, got ${dColor.length} and ${dAlpha.length}`);
    g.table.fill(0);
    for (const a of [...g.deform, ...g.net, g.individual]) a.fill(0);
    torsoSetPose(net, k.input.pose, c);
    for (let r = 0; r < N; r++) {
      if (dAlpha[r] === 0 && dColor[3 * r] === 0 && dColor[3 * r + 1] === 0 && dColor[3 * r + 2] === 0) continue;
      torsoSampleForward(net, k.input.coords[2 * r], k.input.coords[2 * r + 1], k.input.activeLevels.torso, c);
      torsoSampleBackward(net, k.input.activeLevels.torso, dAlpha[r], dColor.subarray(3 * r, 3 * r + 3), c, g);
    }
    this.torsoKept = null;
  }

  /** Gradient array of each group, by avatar tensor name. */
  private gradArrays(): Map<string, Float32Array | Float64Array> {
    const g = this.headGrads;
    const m = new Map<string, Float32Array | Float64Array>([
      ['encoder.embeddings', g.headTable],
      ['encoder_idexp_lm3d.embeddings', this.condGrads.lmTable],
      ['sigma_net.net.0.weight', g.sigma[0]],
      ['sigma_net.net.1.weight', g.sigma[1]],
      ['sigma_net.net.2.weight', g.sigma[2]],
      ['color_net.net.0.weight', g.color[0]],
      ['color_net.net.1.weight', g.color[1]],
      ['individual_code', g.individual],
    ]);
    for (const k of [0, 1] as const) for (const l of [0, 1, 2] as const) m.set(`mlp_lms_style_${k + 1}.net.${l}.weight`, this.condGrads.film[k][l]);
    const t = this.torsoGrads;
    if (t) {
      m.set('torso_encoder.embeddings', t.table);
      for (const l of [0, 1, 2] as const) {
        m.set(`torso_deform_net.net.${l}.weight`, t.deform[l]);
        m.set(`torso_net.net.${l}.weight`, t.net[l]);
      }
      m.set('individual_code_torso', t.individual);
    }
    return m;
  }

  async adam(step: AdamStep): Promise<void> {
    this.live();
    const grads = this.gradArrays();
    const { beta1, beta2, eps } = step;
    for (const [name, lr] of step.lr) {
      const p = this.params.get(name);
      const g = grads.get(name);
      const mo = this.moments.get(name);
      if (!p || !g || !mo) throw new ConfigError(`adam: unknown group ${name}`);
      mo.step++;
      const c1 = 1 - Math.pow(beta1, mo.step);
      const c2 = 1 - Math.pow(beta2, mo.step);
      const { m, v } = mo;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    }
  }

  async updateOccupancy(update: OccupancyUpdate): Promise<OccupancyStats> {
    this.live();
    const n = update.cells.length;
    if (update.points.length !== n * 3) throw new ConfigError(`updateOccupancy.points: expected ${n * 3} values, got ${update.points.length}`);
    const cells = this.density.length;
    const cond = conditionForward(this.head, update.condition.points, update.activeLevels.condition);
    const c = this.headCache;
    const dir = [0, 0, 1];
    for (let i = 0; i < n; i++) {
      const cell = update.cells[i];
      if (!(cell < cells)) throw new ConfigError(`updateOccupancy.cells[${i}]: ${cell} is outside the ${cells}-cell grid`);
      if (this.density[cell] < 0) continue; // a cell no camera sees stays untrained
      headSampleForward(this.head, cond.film[0], cond.film[1], update.condition.eye, update.activeLevels.head, update.points.subarray(3 * i, 3 * i + 3), dir, c);
      this.density[cell] = Math.max(this.density[cell] * update.decay, c.sigma);
    }
    let sum = 0;
    for (let i = 0; i < cells; i++) sum += Math.max(0, this.density[i]);
    const mean = sum / cells;
    const threshold = Math.min(mean, update.thresholdCap);
    this.bitfield.fill(0);
    let occupied = 0;
    for (let i = 0; i < cells; i++) {
      if (this.density[i] > threshold) {
        this.bitfield[i >>> 3] |= 1 << (i & 7);
        occupied++;
      }
    }
    return { meanDensity: mean, threshold, occupiedFraction: occupied / cells };
  }

  async readParams(): Promise<ParamSet> {
    return new Map([...this.params].map(([k, v]) => [k, v.slice()]));
  }

  async writeParams(params: ParamSet): Promise<void> {
    for (const [name, v] of params) {
      const p = this.params.get(name);
      if (!p || v.length !== p.length) throw new ConfigError(`writeParams: group ${name} expects ${p?.length ?? 0} values, got ${v.length}`);
      p.set(v);
    }
  }

  async readGrads(): Promise<ParamSet> {
    const out: ParamSet = new Map();
    for (const [k, v] of this.gradArrays()) out.set(k, Float32Array.from(v));
    return out;
  }

  async readMoments(): Promise<Map<string, AdamMoments>> {
    return new Map([...this.moments].map(([k, v]) => [k, { m: v.m.slice(), v: v.v.slice(), step: v.step }]));
  }

  async writeMoments(moments: Map<string, AdamMoments>): Promise<void> {
    for (const [name, mo] of moments) {
      const cur = this.moments.get(name);
      if (!cur || mo.m.length !== cur.m.length || mo.v.length !== cur.v.length) throw new ConfigError(`writeMoments: group ${name} does not match this model`);
      cur.m.set(mo.m);
      cur.v.set(mo.v);
      cur.step = mo.step;
    }
  }

  async readOccupancy(): Promise<OccupancyState> {
    return { density: this.density.slice(), bitfield: this.bitfield.slice() };
  }

  async writeOccupancy(state: OccupancyState): Promise<void> {
    if (state.density.length !== this.density.length || state.bitfield.length !== this.bitfield.length) throw new ConfigError('writeOccupancy: state does not match the occupancy grid size');
    this.density.set(state.density);
    this.bitfield.set(state.bitfield);
  }

  /** The group specs this backend was initialised with. */
  groupSpecs(): ParamGroupSpec[] {
    return this.groups;
  }

  dispose(): void {
    this.disposed = true;
    this.kept = null;
    this.torsoKept = null;
  }
}
