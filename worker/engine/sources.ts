/**
 * Chooses the frame source and landmark source for the engine: the chosen avatar (bytes
 * handed in by the engine page, or the built-in avatar, builtin.r2t) rendered in the render worker,
 * driven by the speech path (mic -> features -> the avatar's own landmark generator, or the
 * bundled default one). Every degradation is named in `problem` for the popup.
 */
import { generatorFromOnnx } from '../landmarks/onnx-export.ts';
import type { LandmarkGenerator } from '../landmarks/model.ts';
import type { AvatarPayload, EngineOptions } from './protocol/engine-worker.ts';
import type { FrameRenderer, LandmarkSource } from './interfaces.ts';
import type { Clock } from './pacer.ts';
import { LevelOnlyLandmarkSource, PlaceholderRenderer } from './placeholder-source.ts';
import { RemoteRenderer } from './remote-renderer.ts';
import { unpackGenerator } from './generator-pack.ts';
import { SpeechLandmarkSource } from './speech-landmarks.ts';

export interface Sources {
  renderer: FrameRenderer;
  landmarks: LandmarkSource;
  /** Shown to the user when the sources are degraded (missing avatar, no generator, placeholder). */
  problem: string | null;
  avatarName: string;
  /** e.g. "SwiftShader (software)"; null on the CPU path. */
  adapter: string | null;
  /** Why WebGPU is not used, or null. */
  gpuProblem: string | null;
}

/** The CPU reference renders a few frames a second at 64x64 on one core; larger is a slideshow. */
const CPU_MAX_SIDE = 64;
/**
 * Without a GPU the fallback halves its side down to this while renders stay slower than 8 a
 * second (resolution-ladder.ts): a small face that follows speech beats a sharp still one.
 */
const CPU_MIN_SIDE = 32;
/** The default generator is 0.9 MB; a much larger file is not ours. */
const MAX_GENERATOR_BYTES = 64 * 1024 * 1024;

let defaultGenerator: Promise<LandmarkGenerator> | null = null;

function loadDefaultGenerator(): Promise<LandmarkGenerator> {
  defaultGenerator ??= (async () => {
    const res = await fetch(new URL('default-generator.bin', self.location.href));
    if (!res.ok) throw new Error(`default-generator.bin: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_GENERATOR_BYTES) throw new Error(`default-generator.bin: ${bytes.length} bytes, expected at most ${MAX_GENERATOR_BYTES}`);
    return unpackGenerator(bytes);
  })();
  defaultGenerator.catch(() => {
    defaultGenerator = null;
  });
  return defaultGenerator;
}

async function pickGenerator(own: Uint8Array | null, problems: string[]): Promise<LandmarkGenerator | null> {
  if (own) {
    try {
      // The ONNX codec is eval-free (worker/io/onnx-proto-codec.ts), so this runs under the extension's CSP; a damaged model falls back.
      return generatorFromOnnx(own, 'avatar.generator');
    } catch (e) {
      problems.push(`The avatar's own landmark generator is unusable (${e instanceof Error ? e.message : String(e)}); using the default one.`);
    }
  }
  try {
    return await loadDefaultGenerator();
  } catch (e) {
    problems.push(`No landmark generator could be loaded (${e instanceof Error ? e.message : String(e)}): the mouth follows the voice level only.`);
    return null;
  }
}

export async function createSources(options: EngineOptions, avatar: AvatarPayload, clock: Clock): Promise<Sources> {
  const problems: string[] = [];
  if (avatar.problem) problems.push(avatar.problem);
  let renderer: RemoteRenderer;
  try {
    renderer = await RemoteRenderer.start(
      { avatarBytes: avatar.bytes, choice: { backend: options.backend, maxSide: options.renderMaxSide, cpuMaxSide: CPU_MAX_SIDE, cpuMinSide: CPU_MIN_SIDE, quality: options.quality, cpuThreads: options.cpuThreads } },
      new URL('render-worker.js', self.location.href),
    );
  } catch (e) {
    problems.push(`The avatar renderer could not start (${e instanceof Error ? e.message : String(e)}): showing a placeholder test card.`);
    return { renderer: new PlaceholderRenderer(), landmarks: new LevelOnlyLandmarkSource(), problem: problems.join(' '), avatarName: 'placeholder', adapter: null, gpuProblem: null };
  }
  const init = renderer.init;
  if (init.avatarProblem) problems.push(init.avatarProblem);
  const generator = await pickGenerator(init.generator, problems);
  const landmarks: LandmarkSource = generator
    ? new SpeechLandmarkSource({ generator, stats: init.info.stats, window: init.info.window, numbers: init.info.numbers, clock })
    : new LevelOnlyLandmarkSource();
  return {
    renderer,
    landmarks,
    problem: problems.length > 0 ? problems.join(' ') : null,
    avatarName: avatar.bytes && avatar.name && !init.avatarProblem ? avatar.name : init.info.name,
    adapter: init.info.adapter,
    gpuProblem: init.info.gpuProblem,
  };
}
