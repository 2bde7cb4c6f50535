// Per-ray state and the wavefront control block shared by the marching and field kernels.
struct Ray {
  dir: vec3f,
  t: f32,
  rgb: vec3f,
  wsum: f32,
  near: f32,
  far: f32,
  nsamp: u32,
  t_next: f32, // t after the march's last sample: where a ray that survives its pass resumes
}

// Written by the schedule kernel, read by the pass's march/field/composite kernels.
struct Ctrl {
  count: array<atomic<u32>, 2>, // alive rays in list 0 / list 1
  cur: u32,                     // which list the running pass reads
  step: u32,                    // global step counter of the image-wide schedule
  n_alive: u32,
  n_step: u32,
  pass_index: u32,
  total_samples: atomic<u32>,
  n_samples: atomic<u32>,       // entries of the running sample list (from list_off)
  list_off: u32,                // stepwise compositing: which half of sample_list is current (0 or num_rays)
  n_next: atomic<u32>,          // stepwise compositing: entries appended to the other half
  n_colour: atomic<u32>,        // fast mode's colour gate: samples of the sub-round whose colour shows
  total_colour: atomic<u32>,    // ... summed over the round (colour-net evaluations)
  sub: u32,                     // fast mode's stepwise slots: sub-round of the running pass
  n_steps: array<u32, MAX_PASSES>, // n_step of every pass, for parity checks
}

struct Indirect {
  march: vec3u,
  _p0: u32,
  field: vec3u, // one invocation per sample slot (loop kernels)
  _p1: u32,
  fused: vec3u, // one invocation per occupied sample (fused kernel)
  _p2: u32,
  step: vec3u,  // stepwise compositing: one invocation per entry of the current list
  _p3: u32,
}
