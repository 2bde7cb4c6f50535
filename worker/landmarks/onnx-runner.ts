/**
 * Runs an exported generator with onnxruntime-web. The runtime module is injected (the
 * caller imports `onnxruntime-web` and sets `env.wasm` options), so this file stays
 * platform-free and tests can pass the Node build.
 *
 * Execution providers are tried in order: e.g. ['webgpu', 'wasm'] in a browser with
 * WebGPU; a provider that fails to start falls through to the next.
 */
import type * as Ort from 'onnxruntime-web';
import { ConfigError, R2TalkerError } from '../errors.ts';
import { MEL } from '../audio/mel.ts';
import { LANDMARK_DIM } from './model.ts';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx-export.ts';

export type OrtModule = typeof Ort;

export class OnnxGenerator {
  private constructor(
    private readonly ort: OrtModule,
    private session: Ort.InferenceSession | null,
    readonly executionProvider: string,
  ) {}

  static async create(ort: OrtModule, model: Uint8Array, providers: string[] = ['wasm']): Promise<OnnxGenerator> {
    let lastError: unknown = null;
    for (const ep of providers) {
      try {
        const session = await ort.InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'all' });
        return new OnnxGenerator(ort, session, ep);
      } catch (e) {
        lastError = e;
      }
    }
    throw new R2TalkerError('INTERNAL', `generator: no execution provider of [${providers.join(', ')}] could load the model`, { cause: lastError });
  }

  /** mel [nMel][80] -> landmarks [T][204]. */
  async run(mel: Float32Array, nMel: number): Promise<{ frames: number; landmarks: Float32Array }> {
    if (!this.session) throw new ConfigError('generator: session released');
    if (mel.length < nMel * MEL.bins) throw new ConfigError(`generator.input: expected ${nMel * MEL.bins} values, got ${mel.length}`);
    const input = new this.ort.Tensor('float32', mel.slice(0, nMel * MEL.bins), [1, nMel, MEL.bins]);
    const out = await this.session.run({ [ONNX_INPUT]: input });
    const y = out[ONNX_OUTPUT];
    const data = y.data as Float32Array;
    const frames = data.length / LANDMARK_DIM;
    return { frames, landmarks: new Float32Array(data) };
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.release();
  }
}
