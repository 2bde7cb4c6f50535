// Ray marching of a batch of training rays through the occupancy bitfield, one invocation per
// ray (the reference's kernel_march_rays_train; CPU reference worker/model/march.ts marchRay,
// with the perturbed start the CPU backend uses: t0 = near + jitter * dt(near)). Ray r's
// samples fill slots [r * MAX_STEPS, r * MAX_STEPS + n); the rest of its slots get a point
// outside the unit cube (zero grid features) and dt 0, and its span is (r * MAX_STEPS, n), so
// the field and compositing kernels need no compaction and the host no readback to size them.
override WG_TMARCH: u32 = 64u;

struct TrainMarch {
  num_rays: u32,
  grid_res: u32,
  capacity: u32, // slots in `samples`; directions start here
  _p0: u32,
  dt_min: f32,
  dt_max: f32,
  dt_gamma: f32,
  _p1: f32,
}

@group(0) @binding(0) var<uniform> tm: TrainMarch;
// Per ray: (origin, near), (direction, far), (jitter, -, -, -).
@group(0) @binding(1) var<storage, read> rays_in: array<vec4f>;
@group(0) @binding(2) var<storage, read> bitfield: array<u32>;
@group(0) @binding(3) var<storage, read_write> samples: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dts: array<f32>;
@group(0) @binding(5) var<storage, read_write> spans: array<vec2u>;

fn tm_expand_bits(v0: u32) -> u32 {
  var v = (v0 * 0x00010001u) & 0xFF0000FFu;
  v = (v * 0x00000101u) & 0x0F00F00Fu;
  v = (v * 0x00000011u) & 0xC30C30C3u;
  v = (v * 0x00000005u) & 0x49249249u;
  return v;
}

fn tm_dt(t: f32) -> f32 {
  return clamp(t * tm.dt_gamma, tm.dt_min, tm.dt_max);
}

fn tm_sign(v: f32) -> f32 {
  return select(-1.0, 1.0, v >= 0.0);
}

@compute @workgroup_size(WG_TMARCH)
fn train_march(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TMARCH;
  for (var r = flat_index(wg, nwg, lid, WG_TMARCH); r < tm.num_rays; r += total) {
    let a = rays_in[3u * r];
    let b = rays_in[3u * r + 1u];
    let jitter = rays_in[3u * r + 2u].x;
    let o = a.xyz;
    let d = b.xyz;
    let near = a.w;
    let far = b.w;
    let base = r * MAX_STEPS;
    let res = f32(tm.grid_res);
    let r_h = 1.0 / res;
    let rd = 1.0 / d;
    var step = 0u;
    // A miss carries near = +inf: no samples.
    if (near < 3.0e38) {
      var t = fma(jitter, tm_dt(near), near);
      // Each ray crosses at most ~3 * grid_res cells: the cap only guards NaN directions.
      for (var guard = 0u; guard < 16u * tm.grid_res + MAX_STEPS && t < far && step < MAX_STEPS; guard++) {
        let x = clamp(o + t * d, vec3f(-1.0), vec3f(1.0));
        let dt = tm_dt(t);
        let c = vec3u(clamp((x + 1.0) * 0.5 * res, vec3f(0.0), vec3f(res - 1.0)));
        let idx = tm_expand_bits(c.x) | (tm_expand_bits(c.y) << 1u) | (tm_expand_bits(c.z) << 2u);
        if ((bitfield[idx >> 5u] & (1u << (idx & 31u))) != 0u) {
          samples[base + step] = vec4f(x, 0.0);
          samples[tm.capacity + base + step] = vec4f(d, 0.0);
          dts[base + step] = dt;
          t += dt;
          step += 1u;
        } else {
          // Jump to the next cell boundary, then advance on the dt lattice until past it.
          var tb = vec3f(1e30);
          for (var k = 0u; k < 3u; k++) {
            // An axis the ray runs parallel to never bounds the jump (the CPU's NaN-ignoring min).
            if (d[k] != 0.0) {
              tb[k] = (((f32(c[k]) + 0.5 + 0.5 * tm_sign(d[k])) * r_h * 2.0 - 1.0) - x[k]) * rd[k];
            }
          }
          let tt = t + max(0.0, min(tb.x, min(tb.y, tb.z)));
          for (var s = 0u; s < 65536u; s++) {
            t += tm_dt(t);
            if (!(t < tt && t < far)) {
              break;
            }
          }
        }
      }
    }
    for (var s = step; s < MAX_STEPS; s++) {
      samples[base + s] = vec4f(2.0, 2.0, 2.0, 0.0);
      samples[tm.capacity + base + s] = vec4f(0.0, 0.0, 1.0, 0.0);
      dts[base + s] = 0.0;
    }
    spans[r] = vec2u(base, step);
  }
}
