// The head field (model-spec §5) over a batch of training samples, forward with every
// activation kept, and the element-wise steps of its backward; the linear layers' and FiLM's
// backward run in mlp-backward.wgsl / film-backward.wgsl, the grid's in grid-scatter.wgsl
// (trainer/nerf/gpu/head-net.ts sequences them). CPU reference: trainer/nerf/cpu/head-sample.ts.
// Parameters are read from the flat parameter buffer at the P_* offsets, activations and
// gradients live in [n, width] regions at the A_* / B_* offsets; consts come from the prelude.
override WG_HEAD: u32 = 64u;

struct HeadParams {
  num_samples: u32,
  eye: f32,
  active_levels: u32,
  num_chunks: u32,
}

@group(0) @binding(0) var<uniform> hp: HeadParams;
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
// Positions in [-1, 1]^3 at [0, MAX_N), view directions at [MAX_N, 2 MAX_N).
@group(0) @binding(3) var<storage, read> samples: array<vec4f>;
// Forward activations; also the frame's FiLM vectors (film1 [a | b] at A_FILM, film2 at
// A_FILM + FILM_STRIDE), written by the conditioning stage.
@group(0) @binding(4) var<storage, read_write> acts: array<f32>;
// Backward gradients in two buffers used alternately, layer by layer: a WebGPU dispatch may not
// read a buffer through one binding while writing it through another, and the linear
// backward reads dL/dy where it writes dL/dx.
@group(0) @binding(5) var<storage, read_write> back1: array<f32>;
@group(0) @binding(6) var<storage, read_write> back2: array<f32>;
@group(0) @binding(7) var<storage, read_write> field: array<vec4f>; // rgb, sigma out
@group(0) @binding(8) var<storage, read> d_field: array<vec4f>; // dL/drgb, dL/dsigma in
@group(0) @binding(9) var<storage, read_write> grads: array<f32>;

// IND may be 0 (no individual code): keeps the index arithmetic free of a division by zero.
const IND1: u32 = max(IND, 1u);
const TRUNC_EXP_MAX: f32 = 15.0;

fn items(width: u32) -> u32 {
  return hp.num_samples * width;
}

// Grid features of one level (zero for levels not yet released and outside the unit cube),
// plus the eye value and the encoder input u, which the grid backward reads.
@compute @workgroup_size(WG_HEAD)
fn hf_features(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var k = flat_index(wg, nwg, lid, WG_HEAD); k < items(GRID_LEVELS); k += total) {
    let n = k / GRID_LEVELS;
    let l = k % GRID_LEVELS;
    let x = samples[n].xyz;
    var u: array<f32, 3>;
    for (var d = 0u; d < 3u; d++) {
      u[d] = (x[d] + 1.0) * 0.5;
    }
    if (l == 0u) {
      acts[A_U + 4u * n] = u[0];
      acts[A_U + 4u * n + 1u] = u[1];
      acts[A_U + 4u * n + 2u] = u[2];
      acts[A_U + 4u * n + 3u] = 0.0;
      if (EYE) {
        acts[A_FEAT + n * IN_DIM + GRID_LEVELS * GRID_FEATS] = hp.eye;
      }
    }
    let f = grid_level_params(u, l, hp.active_levels, P_GRID);
    for (var ch = 0u; ch < GRID_FEATS; ch++) {
      acts[A_FEAT + n * IN_DIM + l * GRID_FEATS + ch] = f[ch];
    }
  }
}

// y = W x for one output of one sample; W [OUT, IN] at `w`, x at `x` (row of IN values).
fn dot_row(w: u32, x: u32, len: u32) -> f32 {
  var s = 0.0;
  for (var i = 0u; i < len; i++) {
    s += params[w + i] * acts[x + i];
  }
  return s;
}

// Sigma layers 0 and 1: linear -> FiLM (film vector `which`) -> ReLU, pre-FiLM value kept.
fn film_layer(k: u32, w: u32, x: u32, in_dim: u32, pre: u32, post: u32, which: u32) {
  let n = k / HIDDEN;
  let o = k % HIDDEN;
  let p = dot_row(w + o * in_dim, x + n * in_dim, in_dim);
  acts[pre + k] = p;
  let f = A_FILM + which * FILM_STRIDE;
  let v = p * (1.0 + acts[f + HIDDEN + o]) + acts[f + o];
  acts[post + k] = max(v, 0.0);
}

@compute @workgroup_size(WG_HEAD)
fn hf_sigma0(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var k = flat_index(wg, nwg, lid, WG_HEAD); k < items(HIDDEN); k += total) {
    film_layer(k, P_S0, A_FEAT, IN_DIM, A_H1PRE, A_H1, 0u);
  }
}

@compute @workgroup_size(WG_HEAD)
fn hf_sigma1(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var k = flat_index(wg, nwg, lid, WG_HEAD); k < items(HIDDEN); k += total) {
    film_layer(k, P_S1, A_H1, HIDDEN, A_H2PRE, A_H2, 1u);
  }
}

// Sigma layer 2: [density logit, geo features]; the geo features also go into the colour input.
@compute @workgroup_size(WG_HEAD)
fn hf_sigma2(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var k = flat_index(wg, nwg, lid, WG_HEAD); k < items(SOUT); k += total) {
    let n = k / SOUT;
    let o = k % SOUT;
    let v = dot_row(P_S2 + o * HIDDEN, A_H2 + n * HIDDEN, HIDDEN);
    acts[A_SOUT + k] = v;
    if (o > 0u) {
      acts[A_CIN + n * CIN + SH_DIM + o - 1u] = v;
    }
  }
}

// Colour input [SH(dir) | geo features (hf_sigma2) | individual code].
@compute @workgroup_size(WG_HEAD)
fn hf_color_in(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var n = flat_index(wg, nwg, lid, WG_HEAD); n < hp.num_samples; n += total) {
    let sh = sh_encode(samples[MAX_N + n].xyz);
    for (var i = 0u; i < SH_DIM; i++) {
      acts[A_CIN + n * CIN + i] = sh[i];
    }
    for (var i = 0u; i < IND; i++) {
      acts[A_CIN + n * CIN + SH_DIM + GEO + i] = params[P_IND + i];
    }
  }
}

@compute @workgroup_size(WG_HEAD)
fn hf_color0(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var k = flat_index(wg, nwg, lid, WG_HEAD); k < items(CHID); k += total) {
    let n = k / CHID;
    let o = k % CHID;
    acts[A_CH + k] = max(dot_row(P_C0 + o * CIN, A_CIN + n * CIN, CIN), 0.0);
  }
}

// Colour logits -> sigmoid, density logit -> exp: the field the compositor reads.
@compute @workgroup_size(WG_HEAD)
fn hf_output(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var n = flat_index(wg, nwg, lid, WG_HEAD); n < hp.num_samples; n += total) {
    var rgb: vec3f;
    for (var k = 0u; k < 3u; k++) {
      rgb[k] = 1.0 / (1.0 + exp(-dot_row(P_C1 + k * CHID, A_CH + n * CHID, CHID)));
    }
    field[n] = vec4f(rgb, exp(acts[A_SOUT + n * SOUT]));
  }
}

// Backward through the sigmoid: dL/dlogit = dL/drgb * rgb * (1 - rgb).
@compute @workgroup_size(WG_HEAD)
fn hb_logits(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var n = flat_index(wg, nwg, lid, WG_HEAD); n < hp.num_samples; n += total) {
    let rgb = field[n].xyz;
    let d = d_field[n].xyz * rgb * (vec3f(1.0) - rgb);
    back1[B_DLOG + 3u * n] = d.x;
    back1[B_DLOG + 3u * n + 1u] = d.y;
    back1[B_DLOG + 3u * n + 2u] = d.z;
  }
}

// dL/d sigma-net output: the density through trunc_exp (exp with its derivative's exponent
// capped at 15, as the reference), the geo features from the colour input's gradient.
@compute @workgroup_size(WG_HEAD)
fn hb_sigma_out(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var k = flat_index(wg, nwg, lid, WG_HEAD); k < items(SOUT); k += total) {
    let n = k / SOUT;
    let o = k % SOUT;
    if (o == 0u) {
      back2[B_DSOUT + k] = d_field[n].w * exp(min(acts[A_SOUT + k], TRUNC_EXP_MAX));
    } else {
      back2[B_DSOUT + k] = back1[B_DCIN + n * CIN + SH_DIM + o - 1u];
    }
  }
}

// dL/d individual code = sum over samples of the colour input's gradient there: per-chunk
// partial sums, then a reduce in chunk order (deterministic, like the weight gradients).
@compute @workgroup_size(WG_HEAD)
fn hb_individual_partial(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_HEAD;
  for (var k = flat_index(wg, nwg, lid, WG_HEAD); k < hp.num_chunks * IND; k += total) {
    let c = k / IND1;
    let i = k % IND1;
    let end = min(hp.num_samples, (c + 1u) * CHUNK);
    var s = 0.0;
    for (var n = c * CHUNK; n < end; n++) {
      s += back1[B_DCIN + n * CIN + SH_DIM + GEO + i];
    }
    acts[A_PART + k] = s;
  }
}

@compute @workgroup_size(WG_HEAD)
fn hb_individual_reduce(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_HEAD);
  if (i >= IND) {
    return;
  }
  var s = 0.0;
  for (var c = 0u; c < hp.num_chunks; c++) {
    s += acts[A_PART + c * IND1 + i];
  }
  grads[G_IND + i] = s;
}
