/**
 * Training presets: the model sizes and the schedule, scaled together.
 * `official` is the reference (model-spec §3-§9: 16-level 2^16 grids, widths 64/128, 65,536
 * rays a step, 200k head + 50k lips + 200k torso steps). `small` and `tiny` shrink tables,
 * levels, widths, rays and steps so a CPU (tiny) or a laptop GPU (small) trains in minutes;
 * the architecture and every rule of the model stay the same, so the renderer plays them all.
 *
 * Learning rates: the smaller presets raise the grid rate (1e-2; their tables are small and
 * see many more updates per entry than the reference's). `small` keeps the reference's network
 * rate 5e-4 (an early version collapsed its density at 2e-3: every background ray asks for less
 * density before the grid can tell head from background; and on the 32x32 test subject, 400
 * head steps, seed 1, raising it buys landmark response only by losing fit: 5e-4 -> 37.3 dB,
 * mouth swap 5% of the ground truth; 2e-3 -> 35.7 dB, 9%; 1e-2 -> 35.2 dB, 13%; its own 20k-step
 * budget is unmeasured, so it stays at the reference's rate). `tiny` raises it to 1e-2: at 5e-4 its
 * 2000 steps learn the average mouth and barely the landmarks' effect on it (head stage, same
 * seed: on a held-out closed-mouth frame, the widest-open frame's landmarks darken the mouth by
 * 3% of the ground truth's difference after 400 steps on the 32x32 test subject; 52% at 1e-2,
 * with +3.5 dB held-out PSNR; on a 128x128 synthetic subject, 2000 steps: 34.5 -> 35.9 dB),
 * and no collapse was seen with the head-mask term and EMA of today. The 2-D torso networks
 * need a raised rate too (tiny 3e-3: +2.5 dB full-frame PSNR in 100 steps on the test subject,
 * where 5e-4 loses 1.5 dB against no torso at all).
 *
 * `official-t13` is the official networks (levels, features, resolutions, widths: the official
 * multiply-adds per sample) with hash tables of 2^13 rows a level instead of 2^16 (table size
 * changes memory and detail, not multiply-adds; a float16 file of 8 MB instead of 21 MB) and a
 * short CPU schedule of tiny's kind (raised rates, head mask, torso rays on the torso; head 600,
 * lips 150, torso 300 steps of 256 rays: ~40 min on a loaded 2-core box). It makes
 * the trained bench avatar fast mode is measured on (scripts/make-bench-avatar.sh,
 * assets/bench/).
 */
import { defaultOffsets, officialConfig, type GridConfig, type ModelConfig } from '../../worker/avatar/config.ts';
import { ConfigError } from '../../worker/errors.ts';

export type PresetName = 'tiny' | 'small' | 'official' | 'official-t13';
export const PRESET_NAMES: PresetName[] = ['tiny', 'small', 'official', 'official-t13'];

export interface Schedule {
  /** rays per step (head and torso stages; the lips stage uses patches of lipsPatch^2 rays) */
  rays: number;
  headIters: number;
  lipsIters: number;
  torsoIters: number;
  /** grid and MLP learning rates, decayed by 0.1^(it/iters) within a stage */
  lrGrid: number;
  lrNet: number;
  /** learning rate of the torso's networks (deform net, torso net, torso code) */
  lrTorsoNet: number;
  /** occupancy refresh: every N steps, decay, threshold cap */
  occupancyEvery: number;
  occupancyDecay: number;
  occupancyThresholdCap: number;
  /** EMA of the weights: decay, applied every N steps */
  emaDecay: number;
  emaEvery: number;
  entropyWeight: number;
  /** side of the square lips patch (rays = side^2) */
  lipsPatch: number;
  /** weight of the structural (SSIM) term on lips patches */
  lipsStructureWeight: number;
  /**
   * weight of the parsing-mask term on the head's weight sum (losses.ts maskLoss; 0 = off, as
   * in the reference). The reference relies on 200k steps of colour loss to close the head over
   * the inpainted neck; short schedules need the mask, or the lower face stays see-through.
   */
  maskWeight: number;
  /**
   * fraction of the torso stage's rays drawn from the pixels parsing labels neck or torso (the
   * rest: whole frame). The neck is a few percent of the frame, and half of it lies under the
   * frozen head, which passes it no gradient; uniform rays leave it unlearned in short schedules.
   */
  torsoFraction: number;
  /** fraction of the head stage's rays drawn inside the face rectangle (the rest: whole frame) */
  faceFraction: number;
}

export interface Preset {
  name: PresetName;
  config: (opts: { eyeInput: boolean; torso: boolean }) => ModelConfig;
  schedule: Schedule;
}

function grid(inputDim: 2 | 3, levels: number, features: number, base: number, finest: number, log2T: number): GridConfig {
  return { inputDim, levels, featuresPerLevel: features, baseResolution: base, finestResolution: finest, gridType: 'tiled', offsets: defaultOffsets(inputDim, levels, base, finest, log2T) };
}

interface Sizes {
  head: GridConfig;
  cond: GridConfig;
  torso: GridConfig;
  hidden: number;
  condHidden: number;
  deformHidden: number;
  torsoHidden: number;
  occupancy: number;
  torsoDensity: number;
}

function scaledConfig(s: Sizes, opts: { eyeInput: boolean; torso: boolean }): ModelConfig {
  const base = officialConfig({ eyeInput: opts.eyeInput, torso: opts.torso });
  return {
    ...base,
    head: { ...base.head, grid: s.head, hiddenDim: s.hidden, geoFeatDim: s.hidden, colorHiddenDim: s.hidden },
    condition: { ...base.condition, grid: s.cond, hiddenDim: s.condHidden },
    torso: base.torso ? { ...base.torso, grid: s.torso, deformHiddenDim: s.deformHidden, netHiddenDim: s.torsoHidden, densityResolution: s.torsoDensity } : null,
    march: { ...base.march, gridResolution: s.occupancy },
  };
}

const REFERENCE: Schedule = {
  rays: 65536,
  headIters: 200_000,
  lipsIters: 50_000,
  torsoIters: 200_000,
  lrGrid: 5e-3,
  lrNet: 5e-4,
  lrTorsoNet: 5e-4,
  occupancyEvery: 16,
  occupancyDecay: 0.95,
  occupancyThresholdCap: 10,
  emaDecay: 0.95,
  emaEvery: 1000,
  entropyWeight: 1e-4,
  lipsPatch: 32,
  lipsStructureWeight: 0.01,
  faceFraction: 0.5,
  maskWeight: 0,
  torsoFraction: 0,
};

export const PRESETS: Record<PresetName, Preset> = {
  official: { name: 'official', config: (o) => officialConfig(o), schedule: REFERENCE },
  'official-t13': {
    name: 'official-t13',
    config: (o) => {
      const c = officialConfig(o);
      const t = (g: GridConfig): GridConfig => ({ ...g, offsets: defaultOffsets(g.inputDim, g.levels, g.baseResolution, g.finestResolution, 13) });
      return { ...c, head: { ...c.head, grid: t(c.head.grid) }, condition: { ...c.condition, grid: t(c.condition.grid) }, torso: c.torso ? { ...c.torso, grid: t(c.torso.grid) } : null };
    },
    // A full 128^3 occupancy refresh of these networks costs ~50 s on a loaded 2-core box (each
    // step ~1.5 s at 256 rays), so it refreshes every 100 steps, not 16.
    schedule: { ...REFERENCE, rays: 256, headIters: 600, lipsIters: 150, torsoIters: 300, occupancyEvery: 100, emaEvery: 50, emaDecay: 0.9, lipsPatch: 16, lrGrid: 1e-2, lrNet: 5e-3, lrTorsoNet: 3e-3, maskWeight: 0.1, torsoFraction: 0.5 },
  },
  small: {
    name: 'small',
    config: (o) =>
      scaledConfig(
        { head: grid(3, 12, 4, 16, 512, 15), cond: grid(3, 8, 2, 16, 256, 12), torso: grid(2, 12, 2, 16, 1024, 14), hidden: 32, condHidden: 64, deformHidden: 32, torsoHidden: 16, occupancy: 64, torsoDensity: 64 },
        o,
      ),
    schedule: { ...REFERENCE, rays: 4096, headIters: 20_000, lipsIters: 5_000, torsoIters: 10_000, emaEvery: 100, lipsPatch: 24, lrGrid: 1e-2, lrNet: 5e-4, lrTorsoNet: 2e-3, maskWeight: 0.1, torsoFraction: 0.5 },
  },
  tiny: {
    name: 'tiny',
    config: (o) =>
      scaledConfig(
        { head: grid(3, 6, 2, 8, 64, 12), cond: grid(3, 4, 2, 8, 32, 10), torso: grid(2, 6, 2, 8, 128, 10), hidden: 16, condHidden: 16, deformHidden: 16, torsoHidden: 16, occupancy: 32, torsoDensity: 32 },
        o,
      ),
    schedule: { ...REFERENCE, rays: 512, headIters: 2000, lipsIters: 500, torsoIters: 1500, emaEvery: 50, emaDecay: 0.9, lipsPatch: 16, lrGrid: 1e-2, lrNet: 1e-2, lrTorsoNet: 3e-3, maskWeight: 0.1, torsoFraction: 0.5 },
  },
};

export function getPreset(name: string): Preset {
  if (!PRESET_NAMES.includes(name as PresetName)) throw new ConfigError(`--preset: expected one of ${PRESET_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  return PRESETS[name as PresetName];
}
