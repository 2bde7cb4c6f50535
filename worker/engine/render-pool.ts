/**
 * The CPU fallback's render pool (issue 14, "a worker per core"): a fast-mode frame split into
 * vertical bands, each rendered by an independent fast renderer (worker/model/fast-renderer.ts)
 * on the camera cropped to its columns, in its own thread. Columns, not rows: a face is about
 * symmetric left to right, so the bands' shares of the head, and of the speech region that the
 * engine's partial frames re-render (most of its frames), come out about even. One message out and one back per band
 * and frame, no barrier between the renderer's image-wide passes, no SharedArrayBuffer (the
 * engine iframe of a meeting page is not cross-origin isolated).
 *
 * Same pixels as one thread, bit for bit (tested): a band renders its own columns plus a halo of
 * columns on either side in full frames (haloColumns), so the lattice interpolation of its own columns sees
 * the same neighbours (partial frames interpolate nothing and render its own columns only); its
 * columns start on a multiple of ALIGN, so its lattice falls on the same image columns; the
 * torso takes the whole image's coordinates (ImageWindow); and every band is given the whole
 * previous frame's surface points, so a ray whose reprojected guide comes from a neighbouring
 * band is guided as it is in one thread. Halo columns are thrown away.
 *
 * The pool's first band renders in the calling thread while the others render in workers, so
 * N threads take N - 1 workers. A worker that fails to start or dies ends the pool: the caller
 * (AvatarRenderer) renders in one thread from then on and says why.
 */
import type { Avatar, Tensor } from '../avatar/types.ts';
import { FastCpuRenderer, FILM_TOLERANCE_LARGE, FILM_TOLERANCE_SMALL, strideAt, type FastFrameStats, type FastModeOptions } from '../model/fast-renderer.ts';
import { surfacePoints } from '../model/fast-reproject.ts';
import { enableSimd } from '../model/simd-mlp.ts';
import { loadModelWeights } from '../model/weights.ts';

/** Band boundaries fall on multiples of this many columns (the fast renderer's lattice strides are at most 4). */
export const ALIGN = 8;

/** At most this many render threads (a 64 px frame has 8 bands of 8 columns; more would be mostly halo). */
export const MAX_THREADS = 8;

export interface Band {
  /** The columns this band delivers: own0 .. own1 - 1. */
  own0: number;
  own1: number;
  /** The columns it renders in a full frame: c0 .. c1 - 1 (its own columns and the halo). */
  c0: number;
  c1: number;
}

/**
 * Halo columns a band needs on each side for a lattice stride s, so that every interpolation
 * decision about its own columns sees what one thread sees (fast-refine.ts refineLevel): level s
 * (supports h = s/2 away) tests lines through its supports extended by 2h, so it reads pixels up
 * to 3h away; the next level's supports were decided that way in turn. Over the levels s, s/2,
 * .., 2: 3 (s/2 + s/4 + .. + 1) = 3s - 3 columns, rounded up to a multiple of s (the band's
 * first column stays on the lattice). 0 at stride 1 (nothing is interpolated), 4 at 2, 12 at 4.
 */
export function haloColumns(stride: number): number {
  return stride <= 1 ? 0 : stride * Math.ceil((3 * stride - 3) / stride);
}

/**
 * `count` bands of a `width`-column image: own columns split as evenly as ALIGN allows, each grown
 * by `halo` columns on both sides within the image. Fewer bands where the image has fewer
 * ALIGN-column blocks than `count`.
 */
export function planBands(width: number, count: number, halo: number): Band[] {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`bands: expected a positive integer width, got ${width}`);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`bands: expected a positive integer count, got ${count}`);
  if (!Number.isInteger(halo) || halo < 0) throw new RangeError(`bands: expected a whole number of halo columns, got ${halo}`);
  const blocks = Math.ceil(width / ALIGN);
  const n = Math.min(count, blocks);
  const out: Band[] = [];
  for (let k = 0; k < n; k++) {
    const own0 = Math.min(width, Math.round((k * blocks) / n) * ALIGN);
    const own1 = Math.min(width, Math.round(((k + 1) * blocks) / n) * ALIGN);
    out.push({ own0, own1, c0: Math.max(0, own0 - halo), c1: Math.min(width, own1 + halo) });
  }
  return out;
}

/** The avatar seen through columns c0 .. c1 - 1 of its camera: the camera's centre moved left by c0, the background cropped. */
export function cropAvatar(avatar: Avatar, c0: number, c1: number): Avatar {
  const cam = avatar.camera;
  if (!(Number.isInteger(c0) && Number.isInteger(c1) && c0 >= 0 && c1 > c0 && c1 <= cam.width)) throw new RangeError(`crop: expected columns 0 <= c0 < c1 <= ${cam.width}, got ${c0}..${c1}`);
  const bg = avatar.tensors.get('background');
  if (!bg || !(bg.data instanceof Uint8Array)) throw new RangeError('background: expected a uint8 tensor');
  const { width: W, height: H } = cam;
  const w = c1 - c0;
  const data = new Uint8Array(H * w * 3);
  for (let r = 0; r < H; r++) data.set(bg.data.subarray((r * W + c0) * 3, (r * W + c1) * 3), r * w * 3);
  const tensors = new Map(avatar.tensors);
  const background: Tensor = { name: 'background', dtype: 'uint8', shape: [H, w, 3], data };
  tensors.set('background', background);
  return { ...avatar, camera: { ...cam, cx: cam.cx - c0, width: w }, tensors };
}

/**
 * The options that make a band's renderer decide as a whole-image renderer does: the lattice
 * stride and the FiLM gate follow the image's size (strideAt, filmToleranceAt), and a band is
 * smaller than its image.
 */
export function bandOptions(width: number, height: number): Partial<FastModeOptions> {
  return { stride: strideAt({ stride: 'auto' }, width, height), filmTolerance: Math.min(width, height) >= 128 ? FILM_TOLERANCE_LARGE : FILM_TOLERANCE_SMALL };
}

/** What a band thread is told: build a band renderer, or render a frame with it. */
export type BandRequest =
  | { type: 'init'; gen: number; avatar: Avatar; band: Band; total: number; simd: boolean; region: Float32Array | null }
  | { type: 'frame'; gen: number; seq: number; frame: BandFrame };

export interface BandFrame {
  film1: Float32Array;
  film2: Float32Array;
  pose: Float32Array;
  eye: number;
  /** Forget the previous frame first (the next frame marches in full, as after FastCpuRenderer.reset()). */
  reset: boolean;
  /** The whole previous frame's surface points (3 floats a pixel), or null after a reset. */
  surface: Float32Array | null;
}

export type BandReply =
  | { type: 'ready'; gen: number; simd: boolean }
  | { type: 'frame'; gen: number; seq: number; out: BandOutput }
  | { type: 'error'; gen: number; seq: number | null; message: string };

export interface BandOutput {
  /** The band's own columns of the final image (H x own columns x 3). */
  image: Float32Array;
  /** The own columns' surface points (3 floats a pixel, NaN where none). */
  surface: Float32Array;
  stats: FastFrameStats;
  /** Wall time of the band's render, ms (where a pool's time goes: bands or messages). */
  ms: number;
}

/** One band's renderer: a fast renderer on the camera cropped to the band's columns. */
export class BandRenderer {
  private readonly fast: FastCpuRenderer;
  readonly simd: boolean;

  constructor(
    avatar: Avatar,
    readonly band: Band,
    total: number,
    simd: boolean,
    region: Float32Array | null,
  ) {
    const { width: W, height: H } = avatar.camera;
    if (W !== total) throw new RangeError(`band: expected the whole ${total}-column image's avatar, got ${W} columns`);
    const opts = bandOptions(W, H);
    const stride = opts.stride as number;
    if (band.c0 % stride !== 0) throw new RangeError(`band: its first column ${band.c0} is off the stride-${stride} lattice`);
    const crop = cropAvatar(avatar, band.c0, band.c1);
    const weights = loadModelWeights(crop);
    this.simd = simd && enableSimd(weights) !== null;
    this.fast = new FastCpuRenderer(weights, crop.camera, opts, { window: { x: band.c0, y: 0, totalWidth: W, totalHeight: H }, own0: band.own0 - band.c0, own1: band.own1 - band.c0 });
    this.fast.setSpeechRegion(region);
  }

  render(f: BandFrame): BandOutput {
    const t0 = performance.now();
    if (f.reset) this.fast.reset();
    if (f.surface) this.fast.setPreviousSurface(f.surface);
    const r = this.fast.render({ film1: f.film1, film2: f.film2, pose: f.pose, eye: f.eye });
    const { width: w, height: H } = r;
    const a = this.band.own0 - this.band.c0;
    const n = this.band.own1 - this.band.own0;
    const surface = surfacePoints(r.origins, r.directions, r.hitT);
    const image = new Float32Array(H * n * 3);
    const own = new Float32Array(H * n * 3);
    for (let row = 0; row < H; row++) {
      image.set(r.image.subarray((row * w + a) * 3, (row * w + a + n) * 3), row * n * 3);
      own.set(surface.subarray((row * w + a) * 3, (row * w + a + n) * 3), row * n * 3);
    }
    return { image, surface: own, stats: r.stats, ms: performance.now() - t0 };
  }
}

/** Answers a band thread's requests (the body of render-band-worker.ts and its Node twin). */
export function serveBand(post: (msg: BandReply, transfer: ArrayBuffer[]) => void): (req: BandRequest) => void {
  let renderer: BandRenderer | null = null;
  let gen = -1;
  return (req) => {
    try {
      if (req.type === 'init') {
        gen = req.gen;
        renderer = null;
        renderer = new BandRenderer(req.avatar, req.band, req.total, req.simd, req.region);
        post({ type: 'ready', gen, simd: renderer.simd }, []);
        return;
      }
      if (req.gen !== gen || !renderer) throw new Error(`frame ${req.seq} for renderer ${req.gen}, but renderer ${gen} is ${renderer ? 'built' : 'not built'}`);
      const out = renderer.render(req.frame);
      post({ type: 'frame', gen, seq: req.seq, out }, [out.image.buffer as ArrayBuffer, out.surface.buffer as ArrayBuffer]);
    } catch (e) {
      post({ type: 'error', gen: req.gen, seq: req.type === 'frame' ? req.seq : null, message: e instanceof Error ? e.message : String(e) }, []);
    }
  };
}

/** A band thread as the pool sees it (a browser Worker or a Node worker thread). */
export interface BandPort {
  post(req: BandRequest): void;
  /** Called with each reply. */
  onReply: ((r: BandReply) => void) | null;
  /** Called once if the thread fails to start, throws outside a request, or exits. */
  onFailure: ((why: string) => void) | null;
  terminate(): void;
}

/** Starts band threads: where the host has them (render-pool.node.ts, the render worker's spawner). */
export interface PoolHost {
  /** Logical cores of the machine (navigator.hardwareConcurrency, os.availableParallelism()). */
  cores: number;
  spawn(): BandPort;
}

/** A pooled fast frame: the whole image and what its bands evaluated. */
export interface PoolFrame {
  width: number;
  height: number;
  image: Float32Array;
  stats: FastFrameStats;
  /** Each band's render time, ms (band 0 rendered on the calling thread). */
  bandMs: number[];
}

/** A band thread that does not answer in this long is presumed hung. */
export const BAND_TIMEOUT_MS = 20_000;

/**
 * The pool for one image size: band 0 renders here, bands 1.. in threads. init() resolves once
 * every thread has built its renderer; render() renders one frame. Any failure rejects with an
 * Error that says which band failed and why, and the pool is then dead (`failed`).
 */
export class RenderPool {
  private readonly ports: BandPort[];
  private readonly local: BandRenderer;
  private readonly bands: Band[];
  private readonly waiting = new Map<number, { resolve: (o: BandOutput) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private surface: Float32Array | null = null;
  private resetNext = true;
  /** Why the pool stopped, or null while it works. */
  failed: string | null = null;
  /** The threads' band renderers all run the WebAssembly SIMD kernel. */
  simd = true;

  private constructor(
    private readonly avatar: Avatar,
    readonly threads: number,
    private readonly gen: number,
    host: PoolHost,
    simd: boolean,
    region: Float32Array | null,
  ) {
    const { width: W, height: H } = avatar.camera;
    this.bands = planBands(W, threads, haloColumns(strideAt({ stride: 'auto' }, W, H)));
    this.local = new BandRenderer(avatar, this.bands[0], W, simd, region);
    this.simd = this.local.simd;
    this.ports = [];
    for (let k = 1; k < this.bands.length; k++) {
      const port = host.spawn();
      port.onFailure = (why) => this.fail(`render thread ${k + 1} of ${this.bands.length} failed: ${why}`);
      this.ports.push(port);
    }
    this.threadsReady = Promise.all(
      this.ports.map(
        (port, i) =>
          new Promise<void>((resolve, reject) => {
            const k = i + 1;
            const timer = setTimeout(() => reject(new Error(`render thread ${k + 1} of ${this.bands.length} did not start within ${BAND_TIMEOUT_MS / 1000} s`)), BAND_TIMEOUT_MS);
            this.readyWaiters.set(k, (e) => {
              clearTimeout(timer);
              if (e) reject(e);
              else resolve();
            });
            port.onReply = (r) => this.reply(k, r);
            port.post({ type: 'init', gen, avatar: { ...avatar, generator: null }, band: this.bands[k], total: W, simd, region });
          }),
      ),
    ).then(() => undefined);
  }

  private readonly readyWaiters = new Map<number, (e: Error | null) => void>();
  private readonly threadsReady: Promise<void>;

  /** Builds a pool of `threads` render threads (bands) for `avatar` (already at its render size). */
  static async create(avatar: Avatar, threads: number, host: PoolHost, opts: { simd: boolean; region: Float32Array | null; gen?: number }): Promise<RenderPool> {
    if (!Number.isInteger(threads) || threads < 2 || threads > MAX_THREADS) throw new RangeError(`render threads: expected an integer in [2, ${MAX_THREADS}], got ${threads}`);
    const pool = new RenderPool(avatar, threads, opts.gen ?? 0, host, opts.simd, opts.region);
    try {
      await pool.threadsReady;
    } catch (e) {
      pool.fail(e instanceof Error ? e.message : String(e));
      throw new Error(pool.failed ?? String(e));
    }
    if (pool.failed) throw new Error(pool.failed);
    return pool;
  }

  /** Bands actually used (fewer than asked where the image has few columns). */
  get bandCount(): number {
    return this.bands.length;
  }

  private reply(k: number, r: BandReply): void {
    if (r.gen !== this.gen) return;
    if (r.type === 'ready') {
      if (!r.simd) this.simd = false;
      this.readyWaiters.get(k)?.(null);
      this.readyWaiters.delete(k);
      return;
    }
    if (r.type === 'error') {
      this.fail(`render thread ${k + 1} of ${this.bands.length}: ${r.message}`);
      return;
    }
    const w = this.waiting.get(r.seq * MAX_THREADS + k);
    this.waiting.delete(r.seq * MAX_THREADS + k);
    w?.resolve(r.out);
  }

  private fail(why: string): void {
    if (this.failed) return;
    this.failed = why;
    const e = new Error(why);
    for (const w of this.readyWaiters.values()) w(e);
    this.readyWaiters.clear();
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    for (const p of this.ports) p.terminate();
  }

  /** The next frame marches in full and is not guided by the last (as FastCpuRenderer.reset()). */
  reset(): void {
    this.resetNext = true;
    this.surface = null;
  }

  /** One fast frame: every band renders its columns; the result is the one-thread frame's pixels. */
  async render(frame: { film1: Float32Array; film2: Float32Array; pose: Float32Array; eye: number }): Promise<PoolFrame> {
    if (this.failed) throw new Error(this.failed);
    const seq = ++this.seq;
    const f: BandFrame = { ...frame, reset: this.resetNext, surface: this.surface };
    this.resetNext = false;
    const pending: Promise<BandOutput>[] = [];
    for (let i = 0; i < this.ports.length; i++) {
      const k = i + 1;
      pending.push(
        new Promise<BandOutput>((resolve, reject) => {
          const timer = setTimeout(() => this.fail(`render thread ${k + 1} of ${this.bands.length} did not answer within ${BAND_TIMEOUT_MS / 1000} s`), BAND_TIMEOUT_MS);
          this.waiting.set(seq * MAX_THREADS + k, {
            resolve: (o) => {
              clearTimeout(timer);
              resolve(o);
            },
            reject: (e) => {
              clearTimeout(timer);
              reject(e);
            },
          });
        }),
      );
      this.ports[i].post({ type: 'frame', gen: this.gen, seq, frame: f });
    }
    let outs: BandOutput[];
    try {
      // Band 0 renders here while the threads render theirs.
      const mine = this.local.render(f);
      outs = [mine, ...(await Promise.all(pending))];
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
      throw new Error(this.failed!);
    }
    const { width: W, height: H } = this.avatar.camera;
    const image = new Float32Array(W * H * 3);
    const surface = new Float32Array(W * H * 3);
    const stats = { ...outs[0].stats, sigmaEvalsBy: { ...outs[0].stats.sigmaEvalsBy } };
    for (let k = 0; k < outs.length; k++) {
      const b = this.bands[k];
      const n = b.own1 - b.own0;
      for (let row = 0; row < H; row++) {
        image.set(outs[k].image.subarray(row * n * 3, (row + 1) * n * 3), (row * W + b.own0) * 3);
        surface.set(outs[k].surface.subarray(row * n * 3, (row + 1) * n * 3), (row * W + b.own0) * 3);
      }
      if (k === 0) continue;
      const s = outs[k].stats;
      stats.sigmaEvals += s.sigmaEvals;
      stats.colourEvals += s.colourEvals;
      stats.torsoEvals += s.torsoEvals;
      stats.torsoMacs += s.torsoMacs;
      stats.marchedRays += s.marchedRays;
      stats.guidedRays += s.guidedRays;
      stats.replayedRays += s.replayedRays;
      stats.macs += s.macs;
      stats.partial &&= s.partial;
      for (const key of ['guided', 'unguided', 'replayed'] as const) stats.sigmaEvalsBy[key] += s.sigmaEvalsBy[key];
    }
    this.surface = surface;
    return { width: W, height: H, image, stats, bandMs: outs.map((o) => o.ms) };
  }

  /** Ends the threads; idempotent. */
  destroy(): void {
    this.fail('the render pool was closed');
  }
}

export type RenderEngine = 'pool' | 'one';

export interface ChooserOptions {
  /** Frames timed per engine for a comparison (after the first frame of a switch, a full march from nothing). */
  window: number;
  /** The first comparison comes after this many pool frames ... */
  firstAfter: number;
  /** ... and the next ones after this many frames of the engine kept. */
  keepFor: number;
  /** The other engine is taken when its mean frame time is below this fraction of the kept one's. */
  switchBelow: number;
}

export const CHOOSER_DEFAULTS: ChooserOptions = { window: 16, firstAfter: 32, keepFor: 400, switchBelow: 0.9 };

/**
 * Whether the pool or one thread renders the CPU path's fast frames, by measurement: the pool
 * pays a message round trip and a thread wake-up a frame, which on a box whose cores are busy
 * with other work can cost more than the split saves (this 2-core box, shared by five jobs:
 * partial frames whose bands took 2.5 ms came back after 15). The pool runs first; every
 * `keepFor` frames (`firstAfter` the first time) the other engine renders `window` + 1 frames,
 * and is kept when its mean time is under `switchBelow` of the kept engine's last `window`
 * frames, so the comparison costs two full frames every few hundred. Windows of 16 frames hold
 * the same mix of full and partial frames (two pose holds of 8).
 */
export class EngineChooser {
  private readonly o: ChooserOptions;
  private kept: RenderEngine = 'pool';
  private probing = false;
  private since = 0;
  private readonly keptMs: number[] = [];
  private readonly probeMs: number[] = [];
  private keepFor: number;
  /** The last comparison's means, ms (null before one). */
  poolMs: number | null = null;
  oneMs: number | null = null;

  constructor(o: Partial<ChooserOptions> = {}) {
    this.o = { ...CHOOSER_DEFAULTS, ...o };
    this.keepFor = this.o.firstAfter;
  }

  /** The engine of the next frame. */
  next(): RenderEngine {
    return this.probing ? other(this.kept) : this.kept;
  }

  /** The engine whose frames are kept between comparisons. */
  get engine(): RenderEngine {
    return this.kept;
  }

  /** A fast frame rendered by `engine` in `ms`. */
  record(engine: RenderEngine, ms: number): void {
    if (engine !== this.next()) return;
    this.since++;
    // The first frame after a switch marches in full from nothing: not the engine's own cost.
    if (this.since === 1) return;
    const list = this.probing ? this.probeMs : this.keptMs;
    list.push(ms);
    if (list.length > this.o.window) list.shift();
    if (!this.probing && this.since >= this.keepFor && this.keptMs.length === this.o.window) {
      this.probing = true;
      this.since = 0;
      this.probeMs.length = 0;
    } else if (this.probing && this.probeMs.length === this.o.window) {
      const kept = mean(this.keptMs);
      const probe = mean(this.probeMs);
      if (this.kept === 'pool') [this.poolMs, this.oneMs] = [kept, probe];
      else [this.oneMs, this.poolMs] = [kept, probe];
      if (probe < this.o.switchBelow * kept) {
        this.kept = other(this.kept);
        this.keptMs.splice(0, this.keptMs.length, ...this.probeMs);
        // already timed: the probe's frames count towards the next comparison
        this.since = this.o.window + 1;
      } else this.since = 0;
      this.probing = false;
      this.keepFor = this.o.keepFor;
    }
  }
}

const other = (e: RenderEngine): RenderEngine => (e === 'pool' ? 'one' : 'pool');
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
