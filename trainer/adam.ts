/** Adam (Kingma & Ba) with bias correction and global-norm gradient clipping. */
export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** clip the global gradient norm to this (0 = off) */
  clipNorm: number;
}

export const ADAM_DEFAULTS: AdamOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 1 };

/** The optimiser's moments and step count, for checkpoints. */
export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private step = 0;
  readonly options: AdamOptions;

  constructor(
    private readonly params: Float32Array[],
    options: Partial<AdamOptions> = {},
  ) {
    this.options = { ...ADAM_DEFAULTS, ...options };
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  /** Applies one update from `grads` (same order and sizes as the parameters). Returns the pre-clip norm. */
  update(grads: Float32Array[], lr = this.options.lr): number {
    const { beta1, beta2, eps, clipNorm } = this.options;
    let sq = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
    const norm = Math.sqrt(sq);
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    this.step++;
    const c1 = 1 - Math.pow(beta1, this.step);
    const c2 = 1 - Math.pow(beta2, this.step);
    for (let p = 0; p < this.params.length; p++) {
      const w = this.params[p];
      const g = grads[p];
      const m = this.m[p];
      const v = this.v[p];
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] * scale;
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    }
    return norm;
  }

  state(): AdamState {
    return { step: this.step, m: this.m.map((a) => a.slice()), v: this.v.map((a) => a.slice()) };
  }

  /** Continues from `s`, which must have this optimiser's parameter shapes. */
  restore(s: AdamState): void {
    const fits = (a: Float32Array[]) => a.length === this.params.length && a.every((x, i) => x.length === this.params[i].length);
    if (!fits(s.m) || !fits(s.v) || !Number.isInteger(s.step) || s.step < 0) throw new RangeError('adam state: expected the optimiser\'s parameter shapes and a step count');
    this.step = s.step;
    s.m.forEach((a, i) => this.m[i].set(a));
    s.v.forEach((a, i) => this.v[i].set(a));
  }
}
