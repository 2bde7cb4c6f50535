/**
 * The live landmark service: PCM chunks in, timestamped 25 fps landmark frames out, the
 * generator running in onnxruntime-web. Platform-free: the ORT module is injected (the
 * browser worker passes the bundled ESM build, Node the Node build), so the same class runs
 * in generator-worker.ts, in Node and in the extension's engine worker.
 *
 * Each push runs the session once over exactly the mel frames its newly complete landmark
 * frames depend on (the valid-convolution window, see model.ts): no state inside the model,
 * so the frames equal the offline `predictLandmarks` track whatever the chunking (up to the
 * runtime's float rounding, <= 1e-4). The mel frames that later frames still need are kept.
 *
 * Providers are tried in order; a provider is given up when its session fails to start, to
 * run a warm-up window, or later to run (then the next one retries the same window), and
 * every attempt is reported by `info()`. Calls are serialised in arrival order, so pushes
 * that a caller does not await (comlink) still see the audio in order.
 */
import type * as Ort from 'onnxruntime-web';
import type { LandmarkStats } from '../avatar/types.ts';
import { ConfigError, R2TalkerError } from '../errors.ts';
import { AudioFeatureStream } from '../audio/features.ts';
import { MEL } from '../audio/mel.ts';
import type { GeneratorLoadOptions, GeneratorServiceInfo, LiveLandmarkFrame, ProviderAttempt } from './generator-protocol.ts';
import { LANDMARK_DIM, LANDMARK_FPS, MEL_PER_FRAME, melFramesFor, melStart, receptiveField, type LandmarkGenerator } from './model.ts';
import { generatorFromOnnx, ONNX_INPUT, ONNX_OUTPUT } from './onnx-export.ts';
import type { OrtModule } from './onnx-runner.ts';
import { retargetFrames } from './retarget.ts';
import { framesForSamples } from './stream.ts';

export type { OrtModule };

/** Bound on the model bytes accepted (the budget is 4 MB; leave room for larger experiments). */
export const MAX_GENERATOR_BYTES = 64 * 1024 * 1024;
const KNOWN_PROVIDERS = ['webgpu', 'wasm', 'cpu', 'webnn', 'webgl'];

interface Loaded {
  g: LandmarkGenerator;
  bytes: Uint8Array;
  stats: LandmarkStats | null;
  providers: string[];
  session: Ort.InferenceSession;
  providerIndex: number;
}

function checkProviders(providers: unknown): string[] {
  if (!Array.isArray(providers) || providers.length === 0 || providers.length > KNOWN_PROVIDERS.length) {
    throw new ConfigError(`generator.providers: expected 1..${KNOWN_PROVIDERS.length} execution provider names, got ${JSON.stringify(providers)}`);
  }
  for (const p of providers) {
    if (typeof p !== 'string' || !KNOWN_PROVIDERS.includes(p)) throw new ConfigError(`generator.providers: expected one of ${KNOWN_PROVIDERS.join(', ')}, got ${JSON.stringify(p)}`);
  }
  return providers as string[];
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class GeneratorService {
  private loaded: Loaded | null = null;
  private attempts: ProviderAttempt[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private audio: AudioFeatureStream | null = null;
  /** mel frames kept (from absolute frame `melBase`, counted from the stream's first) */
  private mel = new Float32Array(0);
  private melLen = 0;
  private melBase = 0;
  private emitted = 0;
  private pushedSeconds = 0;
  private finished = false;
  private runs = 0;

  constructor(
    private readonly ort: OrtModule,
    private readonly defaultProviders: string[] = ['wasm'],
  ) {
    checkProviders(defaultProviders);
  }

  /** Parses and validates the generator, starts a session on the first provider that works. */
  load(bytes: Uint8Array, options: GeneratorLoadOptions = {}): Promise<GeneratorServiceInfo> {
    return this.serial(async () => {
      if (!(bytes instanceof Uint8Array)) throw new ConfigError('generator.bytes: expected a Uint8Array');
      if (bytes.length === 0 || bytes.length > MAX_GENERATOR_BYTES) throw new ConfigError(`generator.bytes: expected 1..${MAX_GENERATOR_BYTES} bytes, got ${bytes.length}`);
      const providers = checkProviders(options.providers ?? this.defaultProviders);
      const g = generatorFromOnnx(bytes);
      const stats = options.stats ?? null;
      // Fails now rather than on the first frame if the statistics do not fit.
      retargetFrames(g, new Float32Array(LANDMARK_DIM), stats);
      this.attempts = [];
      const own = bytes.slice();
      // The previous generator keeps its session until the new one runs.
      const { session, index } = await this.startSession(own, receptiveField(g), providers, 0);
      await this.release();
      this.loaded = { g, bytes: own, stats, providers, session, providerIndex: index };
      this.runs = 0;
      this.resetStream();
      return this.snapshot();
    });
  }

  /** Frames completed by this chunk (PCM at any supported rate, fixed per stream). */
  push(pcm: Float32Array, sampleRate: number): Promise<LiveLandmarkFrame[]> {
    return this.serial(async () => {
      const l = this.need('push');
      if (this.finished) throw new ConfigError('generator.push: the stream is finished (reset() starts a new one)');
      const audio = this.audio!;
      const mel = audio.push(pcm, sampleRate);
      this.pushedSeconds += pcm.length / sampleRate;
      this.append(mel);
      return this.emit(l, Infinity);
    });
  }

  /** Ends the stream: the last frames, their look-ahead filled with silence. */
  finish(): Promise<LiveLandmarkFrame[]> {
    return this.serial(async () => {
      const l = this.need('finish');
      if (this.finished) return [];
      this.finished = true;
      const audio = this.audio!;
      const mel = audio.finish((n16k) => melStart(l.g) + melFramesFor(l.g, framesForSamples(n16k)));
      this.append(mel);
      return this.emit(l, framesForSamples(audio.resampledLength));
    });
  }

  /** A new stream: times restart at 0, the sample rate may change. */
  reset(): Promise<void> {
    return this.serial(async () => {
      this.resetStream();
    });
  }

  info(): GeneratorServiceInfo {
    return this.snapshot();
  }

  dispose(): Promise<void> {
    return this.serial(() => this.release());
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private need(what: string): Loaded {
    if (!this.loaded) throw new ConfigError(`generator.${what}: no generator loaded (call load() first)`);
    return this.loaded;
  }

  private resetStream(): void {
    this.audio = this.loaded ? new AudioFeatureStream(melStart(this.loaded.g), this.loaded.g.featureNorm) : null;
    this.mel = new Float32Array(0);
    this.melLen = 0;
    this.melBase = 0;
    this.emitted = 0;
    this.pushedSeconds = 0;
    this.finished = false;
  }

  private async release(): Promise<void> {
    const l = this.loaded;
    this.loaded = null;
    this.resetStream();
    if (l) await l.session.release();
  }

  private async startSession(bytes: Uint8Array, rf: number, providers: string[], from: number): Promise<{ session: Ort.InferenceSession; index: number }> {
    for (let i = from; i < providers.length; i++) {
      const provider = providers[i];
      let session: Ort.InferenceSession | null = null;
      try {
        session = await this.ort.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: 'all' });
        // A provider can start and still fail on the first run (shader compilation, an
        // unsupported kernel): warm it up on one window of silence-level features.
        const out = await this.runOn(session, new Float32Array(rf * MEL.bins).fill(Math.log(MEL.floor)), rf);
        if (out.length !== LANDMARK_DIM) throw new R2TalkerError('INTERNAL', `generator.output: expected ${LANDMARK_DIM} values for one frame, got ${out.length}`);
        this.attempts.push({ provider, error: null });
        return { session, index: i };
      } catch (e) {
        this.attempts.push({ provider, error: messageOf(e) });
        if (session) await session.release().catch(() => undefined);
      }
    }
    const why = this.attempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
    throw new R2TalkerError('INTERNAL', `generator: no execution provider of [${providers.join(', ')}] could run the model (${why})`);
  }

  private async runOn(session: Ort.InferenceSession, mel: Float32Array, nMel: number): Promise<Float32Array> {
    const input = new this.ort.Tensor('float32', mel, [1, nMel, MEL.bins]);
    const out = await session.run({ [ONNX_INPUT]: input });
    const y = out[ONNX_OUTPUT];
    if (!y || y.type !== 'float32') throw new R2TalkerError('INTERNAL', `generator.output: expected a float32 tensor "${ONNX_OUTPUT}", got ${y ? y.type : 'none'}`);
    const data = new Float32Array(y.data as Float32Array);
    y.dispose();
    return data;
  }

  /** Runs a window; on failure gives the provider up and retries on the next one. */
  private async run(l: Loaded, mel: Float32Array, nMel: number): Promise<Float32Array> {
    for (;;) {
      try {
        const out = await this.runOn(l.session, mel, nMel);
        this.runs++;
        return out;
      } catch (e) {
        const current = this.attempts.findLast((a) => a.provider === l.providers[l.providerIndex] && a.error === null);
        if (current) current.error = `failed while running: ${messageOf(e)}`;
        await l.session.release().catch(() => undefined);
        if (l.providerIndex + 1 >= l.providers.length) {
          this.loaded = null;
          throw new R2TalkerError('INTERNAL', `generator: the ${l.providers[l.providerIndex]} session failed and no provider is left`, { cause: e });
        }
        const next = await this.startSession(l.bytes, receptiveField(l.g), l.providers, l.providerIndex + 1);
        l.session = next.session;
        l.providerIndex = next.index;
      }
    }
  }

  private append(mel: Float32Array): void {
    const n = mel.length / MEL.bins;
    if (n === 0) return;
    if ((this.melLen + n) * MEL.bins > this.mel.length) {
      const grown = new Float32Array(Math.max(2 * this.mel.length, (this.melLen + n) * MEL.bins));
      grown.set(this.mel.subarray(0, this.melLen * MEL.bins));
      this.mel = grown;
    }
    this.mel.set(mel, this.melLen * MEL.bins);
    this.melLen += n;
  }

  /** Runs every frame whose window is complete (at most up to frame `limit`) and emits it. */
  private async emit(l: Loaded, limit: number): Promise<LiveLandmarkFrame[]> {
    const rf = receptiveField(l.g);
    const have = this.melBase + this.melLen;
    const complete = have >= rf ? Math.floor((have - rf) / MEL_PER_FRAME) + 1 : 0;
    const n = Math.min(complete, limit) - this.emitted;
    if (n <= 0) return [];
    const from = this.emitted * MEL_PER_FRAME - this.melBase;
    const nMel = melFramesFor(l.g, n);
    const y = await this.run(l, this.mel.slice(from * MEL.bins, (from + nMel) * MEL.bins), nMel);
    if (y.length !== n * LANDMARK_DIM) throw new R2TalkerError('INTERNAL', `generator.output: expected ${n * LANDMARK_DIM} values for ${n} frames, got ${y.length}`);
    const data = retargetFrames(l.g, y, l.stats);
    const out: LiveLandmarkFrame[] = [];
    for (let i = 0; i < n; i++) {
      const index = this.emitted + i;
      out.push({ index, time: index / LANDMARK_FPS, emittedAt: this.pushedSeconds, landmarks: data.slice(i * LANDMARK_DIM, (i + 1) * LANDMARK_DIM) });
    }
    this.emitted += n;
    // Keep only the mel frames the next frame's window starts at.
    const drop = this.emitted * MEL_PER_FRAME - this.melBase;
    if (drop > 0) {
      const d = Math.min(drop, this.melLen);
      this.mel.copyWithin(0, d * MEL.bins, this.melLen * MEL.bins);
      this.melLen -= d;
      this.melBase += d;
    }
    return out;
  }

  private snapshot(): GeneratorServiceInfo {
    const l = this.loaded;
    return {
      loaded: l !== null,
      executionProvider: l ? l.providers[l.providerIndex] : null,
      attempts: this.attempts.map((a) => ({ ...a })),
      space: l ? l.g.space : null,
      retargeted: l !== null && l.g.space === 'template' && l.stats !== null,
      fps: LANDMARK_FPS,
      lookAheadFrames: l ? l.g.lookAhead : 0,
      modelBytes: l ? l.bytes.length : 0,
      sampleRate: this.audio?.sampleRate ?? null,
      framesEmitted: this.emitted,
      runs: this.runs,
    };
  }
}
