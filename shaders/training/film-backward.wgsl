// Backward of FiLM h' = h * (1 + b) + a over a batch of N samples sharing one frame's
// g = [a | b] (FILM_DIM values each; model-spec §5), CPU reference
// trainer/nerf/cpu/mlp-backward.ts filmBackward:
//   film_partial: per chunk c, partial[c, j] = sum dh'[n, j], partial[c, H + j] = sum dh'[n, j] h[n, j]
//   film_reduce:  dg[j] = sum over chunks, in chunk order (deterministic, no atomics)
//   film_dh:      dh[n, j] = dh'[n, j] * (1 + b[j]), in place, after film_partial read dh'.
// Consts FILM_DIM, CHUNK from the prelude.
override WG_FILM_BW: u32 = 64u;

struct FilmParams {
  num_samples: u32,
  num_chunks: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> fp: FilmParams;
@group(0) @binding(1) var<storage, read> h: array<f32>; // pre-FiLM values [N, FILM_DIM]
@group(0) @binding(2) var<storage, read> g: array<f32>; // [a | b], 2 * FILM_DIM
@group(0) @binding(3) var<storage, read_write> dh: array<f32>; // dL/dh' in, dL/dh out
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;
@group(0) @binding(5) var<storage, read_write> dg: array<f32>;

@compute @workgroup_size(WG_FILM_BW)
fn film_partial(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_FILM_BW;
  for (var k = flat_index(wg, nwg, lid, WG_FILM_BW); k < fp.num_chunks * FILM_DIM; k += total) {
    let c = k / FILM_DIM;
    let j = k % FILM_DIM;
    let end = min(fp.num_samples, (c + 1u) * CHUNK);
    var sa = 0.0;
    var sb = 0.0;
    for (var n = c * CHUNK; n < end; n++) {
      let d = dh[n * FILM_DIM + j];
      sa += d;
      sb += d * h[n * FILM_DIM + j];
    }
    partial[c * 2u * FILM_DIM + j] = sa;
    partial[c * 2u * FILM_DIM + FILM_DIM + j] = sb;
  }
}

@compute @workgroup_size(WG_FILM_BW)
fn film_reduce(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_FILM_BW;
  for (var k = flat_index(wg, nwg, lid, WG_FILM_BW); k < 2u * FILM_DIM; k += total) {
    var s = 0.0;
    for (var c = 0u; c < fp.num_chunks; c++) {
      s += partial[c * 2u * FILM_DIM + k];
    }
    dg[k] = s;
  }
}

@compute @workgroup_size(WG_FILM_BW)
fn film_dh(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_FILM_BW;
  for (var k = flat_index(wg, nwg, lid, WG_FILM_BW); k < fp.num_samples * FILM_DIM; k += total) {
    dh[k] = dh[k] * (1.0 + g[FILM_DIM + k % FILM_DIM]);
  }
}
