// Adam (Kingma & Ba, bias-corrected, as torch.optim.Adam without weight decay) over every
// parameter group at once: params, grads and both moments are flat arrays holding the groups
// back to back; `segs` gives each group's range, learning rate and bias corrections. A frozen
// group's entries keep their value and their moments. CPU reference: trainer/adam.ts and
// trainer/nerf/cpu/backend.ts adam().
override WG_ADAM: u32 = 64u;

struct AdamGlobals {
  total: u32, // floats in the flat arrays
  num_segs: u32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32, // computed on the host in float64, like the CPU reference's (1 - beta)
  one_minus_beta2: f32,
  eps: f32,
  _p0: u32,
}

struct Seg {
  start: u32,
  end: u32,
  on: u32, // 0: frozen this step
  _p0: u32,
  lr: f32,
  c1: f32, // 1 - beta1^t for this group's own update count t
  c2: f32,
  _p1: f32,
}

@group(0) @binding(0) var<uniform> ag: AdamGlobals;
@group(0) @binding(1) var<storage, read> segs: array<Seg>;
@group(0) @binding(2) var<storage, read_write> params: array<f32>;
@group(0) @binding(3) var<storage, read> grads: array<f32>;
@group(0) @binding(4) var<storage, read_write> mom1: array<f32>;
@group(0) @binding(5) var<storage, read_write> mom2: array<f32>;

// The segment holding flat index i (segments are sorted and contiguous from 0).
fn seg_of(i: u32) -> u32 {
  var lo = 0u;
  var hi = ag.num_segs;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (segs[mid].start <= i) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

@compute @workgroup_size(WG_ADAM)
fn adam_step(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_ADAM;
  for (var i = flat_index(wg, nwg, lid, WG_ADAM); i < ag.total; i += total) {
    let s = segs[seg_of(i)];
    // Entries between groups (alignment padding) and frozen groups are left alone.
    if (s.on == 0u || i >= s.end) {
      continue;
    }
    let g = grads[i];
    let m = ag.beta1 * mom1[i] + ag.one_minus_beta1 * g;
    let v = ag.beta2 * mom2[i] + ag.one_minus_beta2 * g * g;
    mom1[i] = m;
    mom2[i] = v;
    params[i] -= (s.lr * (m / s.c1)) / (sqrt(v / s.c2) + ag.eps);
  }
}
