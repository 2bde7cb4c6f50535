// Fast mode's per-ray and per-sample state (worker/render/fast-wavefront-pass.ts), one u32 array
// so the compositing kernel stays within 8 storage buffers per stage:
//   ray j (the j-th listed pixel): FR words from FR * j: t_start (f32; NO_START = evaluate every
//   sample), hit_t (f32; < 0 = no surface), sensitivity (f32), flags (u32), pixel (u32),
//   pending (f32: weight waiting for a colour), coloured (f32: weight that has one),
//   colour gate (COLOUR_GATE): the weight the sub-round's sample is coloured with (f32), then the
//   ray's colour so far (3 f32; the colour kernel adds to it);
//   sample slot k: its ray parameter t at FAST_SLOT_T + k, its FiLM sensitivity at FAST_SLOT_SENS + k;
//   colour gate: the sub-round's list of samples to colour from FAST_SLOT_COL, and each ray's
//   geometry features (GEO words) from FAST_RAY_GEO + GEO * j.
// Consts FAST_SLOT_T, FAST_SLOT_SENS, FAST_SLOT_COL come from the prelude.
const FR: u32 = 12u;
const NO_START: f32 = -3.0e38;
const FLAG_STARTED: u32 = 1u; // a guided ray evaluated its first sample (the validity test ran)
const FLAG_SKIPPED: u32 = 2u; // ... after passing over at least one sample
const FLAG_REPLAYED: u32 = 4u; // the validity test failed: the ray restarted with every sample

@group(3) @binding(0) var<storage, read_write> fast: array<u32>;
