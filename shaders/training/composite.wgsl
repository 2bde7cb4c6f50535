// Volume compositing of training rays, forward and backward, one invocation per ray over its
// samples (contiguous in the sample arrays). CPU reference: trainer/nerf/cpu/composite.ts,
// where the backward's formula is derived:
//   dL/dc_i     = w_i dL/drgb
//   dL/dsigma_i = dt_i [ dL/drgb . (T_{i+1} c_i - S_i) + dL/dweightSum (1 - weightSum) ]
// S_i, the colour the samples after i add, is the forward's total minus the running sum, so the
// backward replays the forward once instead of keeping per-sample transmittances.
override WG_COMP: u32 = 64u;

struct CompParams {
  num_rays: u32,
  t_threshold: f32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> cp: CompParams;
@group(0) @binding(1) var<storage, read> rays: array<vec2u>; // first sample, sample count
@group(0) @binding(2) var<storage, read> field: array<vec4f>; // rgb (sigmoid outputs), sigma
@group(0) @binding(3) var<storage, read> dts: array<f32>;
@group(0) @binding(4) var<storage, read_write> ray_out: array<vec4f>; // rgb premultiplied, weight sum
@group(0) @binding(5) var<storage, read_write> used: array<u32>; // samples that contributed
@group(0) @binding(6) var<storage, read> d_ray: array<vec4f>; // dL/drgb, dL/dweightSum
@group(0) @binding(7) var<storage, read_write> d_field: array<vec4f>; // dL/drgb, dL/dsigma per sample

@compute @workgroup_size(WG_COMP)
fn composite_forward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_COMP;
  for (var r = flat_index(wg, nwg, lid, WG_COMP); r < cp.num_rays; r += total) {
    let span = rays[r];
    var t = 1.0;
    var acc = vec4f(0.0);
    var n = 0u;
    for (var i = 0u; i < span.y; i++) {
      let f = field[span.x + i];
      let alpha = 1.0 - exp(-f.w * dts[span.x + i]);
      let w = alpha * t;
      acc += vec4f(w * f.xyz, w);
      t *= 1.0 - alpha;
      n += 1u;
      if (t < cp.t_threshold) {
        break;
      }
    }
    ray_out[r] = acc;
    used[r] = n;
  }
}

@compute @workgroup_size(WG_COMP)
fn composite_backward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_COMP;
  for (var r = flat_index(wg, nwg, lid, WG_COMP); r < cp.num_rays; r += total) {
    let span = rays[r];
    let res = ray_out[r];
    let dr = d_ray[r];
    let ws_term = dr.w * (1.0 - res.w);
    let n = used[r];
    var t = 1.0;
    var acc = vec3f(0.0);
    for (var i = 0u; i < span.y; i++) {
      let k = span.x + i;
      if (i >= n) {
        // Cut off by the transmittance threshold: no gradient reaches these samples.
        d_field[k] = vec4f(0.0);
        continue;
      }
      let f = field[k];
      let dt = dts[k];
      let alpha = 1.0 - exp(-f.w * dt);
      let w = alpha * t;
      acc += w * f.xyz;
      t *= 1.0 - alpha;
      let d_sigma = dt * (dot(dr.xyz, t * f.xyz - (res.xyz - acc)) + ws_term);
      d_field[k] = vec4f(w * dr.xyz, d_sigma);
    }
  }
}
