/**
 * Chooses the frame source and landmark source for the engine. The only place that knows
 * which concrete renderer exists: plug the WebGPU renderer / CPU reference renderer in here.
 */
import type { EngineOptions } from '../protocol/bridge-engine.ts';
import type { FrameRenderer, LandmarkSource } from './interfaces.ts';
import { LevelOnlyLandmarkSource, PlaceholderRenderer } from './placeholder-source.ts';
import { RemoteRenderer } from './remote-renderer.ts';

export interface Sources {
  renderer: FrameRenderer;
  landmarks: LandmarkSource;
  /** Shown to the user when the sources are degraded (e.g. placeholder, no GPU). */
  problem: string | null;
}

export async function createSources(_options: EngineOptions): Promise<Sources> {
  // TODO(issue 5): load the chosen avatar from IndexedDB (options.avatarId) and prefer the
  // WebGPU renderer (worker/render/); the audio -> landmarks pipeline (worker/landmarks/)
  // replaces the level-only source. Until then: the CPU reference renderer of the built-in
  // demo head, its mouth driven by the mic level.
  const landmarks = new LevelOnlyLandmarkSource();
  try {
    const renderer = await RemoteRenderer.start('cpu-reference', new URL('render-worker.js', self.location.href));
    return { renderer, landmarks, problem: 'Showing the built-in demo head (CPU reference renderer); imported avatars and the WebGPU renderer are not connected yet.' };
  } catch (e) {
    return {
      renderer: new PlaceholderRenderer(),
      landmarks,
      problem: `The avatar renderer could not start (${e instanceof Error ? e.message : String(e)}): showing a placeholder test card.`,
    };
  }
}
