// The image-wide marching schedule of model-spec §7b.1 as a GPU wavefront: every pass runs
// schedule (1 invocation) -> march -> field -> composite, with the last three dispatched
// indirectly so a finished schedule turns the remaining encoded passes into empty dispatches.
override WG_MARCH: u32 = 64u;
override WG_FIELD: u32 = 64u; // samples per field workgroup (fused: invocations x SPI)
// Stepwise compositing (fused kernels): a pass evaluates the field for sample k of the rays still
// alive after sample k-1 (sub-rounds k = 0..n_step-1) instead of all n_step marched samples at
// once. Same samples, same order, same pixels; the look-ahead samples behind an opaque surface
// are never evaluated (the CPU reference skips them the same way).
override STEPWISE: bool = false;

struct MarchParams {
  origin: vec4f,
  num_rays: u32,
  max_steps: u32,
  max_per_pass: u32,
  grid_res: u32,
  dt_min: f32,
  dt_max: f32,
  dt_gamma: f32,
  t_thresh: f32,
  trace_cap: u32, // samples recorded per ray for parity checks; 0 = off
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> mp: MarchParams;
@group(0) @binding(1) var<storage, read_write> ctrl: Ctrl;
@group(0) @binding(2) var<storage, read_write> rays: array<Ray>;
// [alive list 0 | alive list 1 | sample list 0 | sample list 1], num_rays entries each: one
// binding keeps every pipeline within WebGPU's default 8 storage buffers per stage.
@group(0) @binding(3) var<storage, read_write> alive: array<u32>;
@group(0) @binding(4) var<storage, read> bitfield: array<u32>;
@group(0) @binding(5) var<storage, read_write> samples: array<vec4f>; // xyz, dt (0 = empty slot)
// Only the schedule kernel binds the indirect buffer: a dispatch may not read its own
// indirect arguments while they are bound writable.
@group(2) @binding(0) var<storage, read_write> ind: Indirect;
@group(1) @binding(0) var<storage, read> field_out: array<vec4f>; // rgb, sigma
@group(1) @binding(1) var<storage, read_write> trace: array<vec4f>;

// Index of entry i of the current sample list (occupied slots of the pass) in `alive`.
fn list_at(i: u32) -> u32 {
  return 2u * mp.num_rays + ctrl.list_off + i;
}
fn split_groups(groups: u32) -> vec3u {
  if (groups == 0u) {
    return vec3u(0u, 1u, 1u);
  }
  let x = min(groups, 32768u);
  return vec3u(x, (groups + x - 1u) / x, 1u);
}

// The start of a pass: swaps the ray lists, picks this pass's samples per ray and clears the
// counters; returns the samples per ray (0 when marching is over). Fast mode's stepwise slots
// start their passes with it too.
fn begin_pass() -> u32 {
  let first = ctrl.pass_index == 0u;
  if (!first) {
    ctrl.cur = 1u - ctrl.cur;
  }
  let cur = ctrl.cur;
  let n_alive = atomicLoad(&ctrl.count[cur]);
  var n_step = 0u;
  if (ctrl.step < mp.max_steps && n_alive > 0u) {
    n_step = max(min(mp.num_rays / n_alive, mp.max_per_pass), 1u);
    ctrl.step += n_step;
    ctrl.n_alive = n_alive;
  } else {
    ctrl.n_alive = 0u;
  }
  ctrl.n_step = n_step;
  if (ctrl.pass_index < MAX_PASSES) {
    ctrl.n_steps[ctrl.pass_index] = n_step;
  }
  ctrl.pass_index += 1u;
  atomicStore(&ctrl.count[1u - cur], 0u);
  atomicStore(&ctrl.n_samples, 0u);
  atomicStore(&ctrl.n_next, 0u);
  ctrl.list_off = 0u;
  return n_step;
}

@compute @workgroup_size(1)
fn schedule() {
  let n_step = begin_pass();
  let rays_groups = select(0u, (ctrl.n_alive + WG_MARCH - 1u) / WG_MARCH, n_step > 0u);
  ind.march = split_groups(rays_groups);
  ind.field = split_groups((ctrl.n_alive * n_step + WG_FIELD - 1u) / WG_FIELD);
}

fn expand_bits(v0: u32) -> u32 {
  var v = (v0 * 0x00010001u) & 0xFF0000FFu;
  v = (v * 0x00000101u) & 0x0F00F00Fu;
  v = (v * 0x00000011u) & 0xC30C30C3u;
  v = (v * 0x00000005u) & 0x49249249u;
  return v;
}

fn occupied(x: vec3f, res: f32) -> vec3i {
  return vec3i(clamp(0.5 * (x + 1.0) * res, vec3f(0.0), vec3f(res - 1.0)));
}

fn step_dt(t: f32) -> f32 {
  return clamp(t * mp.dt_gamma, mp.dt_min, mp.dt_max);
}

fn sign1(v: f32) -> f32 {
  return select(-1.0, 1.0, v >= 0.0);
}

@compute @workgroup_size(WG_MARCH)
fn march(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_MARCH);
  let n_step = ctrl.n_step;
  if (i >= ctrl.n_alive || n_step == 0u) {
    return;
  }
  let id = alive[ctrl.cur * mp.num_rays + i];
  var r = rays[id];
  let d = r.dir;
  let rd = 1.0 / d;
  let res = f32(mp.grid_res);
  let r_h = 1.0 / res;
  let far = r.far;
  var t = r.t;
  var step = 0u;
  let base = i * n_step;
  // Each ray visits at most ~3*grid_res cells; the cap only guards against NaN directions.
  for (var guard = 0u; guard < 16u * mp.grid_res && t < far && step < n_step; guard++) {
    let x = clamp(mp.origin.xyz + t * d, vec3f(-1.0), vec3f(1.0));
    let dt = step_dt(t);
    let c = occupied(x, res);
    let idx = expand_bits(u32(c.x)) | (expand_bits(u32(c.y)) << 1u) | (expand_bits(u32(c.z)) << 2u);
    if ((bitfield[idx >> 5u] & (1u << (idx & 31u))) != 0u) {
      samples[base + step] = vec4f(x, dt);
      t += dt;
      // Rays alive at a pass composited every sample so far, so nsamp + step is this sample's rank.
      if (r.nsamp + step < mp.trace_cap) {
        trace[id * mp.trace_cap + r.nsamp + step] = vec4f(x, dt);
      }
      step += 1u;
    } else {
      var tb = vec3f(1e30);
      for (var a = 0u; a < 3u; a++) {
        if (d[a] != 0.0) {
          tb[a] = (((f32(c[a]) + 0.5 + 0.5 * sign1(d[a])) * r_h * 2.0 - 1.0) - x[a]) * rd[a];
        }
      }
      let tt = t + max(0.0, min(tb.x, min(tb.y, tb.z)));
      for (var k = 0u; k < 4096u; k++) {
        t += step_dt(t);
        if (!(t < tt && t < far)) {
          break;
        }
      }
    }
  }
  for (var s = step; s < n_step; s++) {
    samples[base + s] = vec4f(0.0);
  }
  rays[id].t_next = t;
  if (STEPWISE) {
    if (step > 0u) {
      alive[list_at(atomicAdd(&ctrl.n_samples, 1u))] = base;
    }
  } else if (step > 0u) {
    let at = atomicAdd(&ctrl.n_samples, step);
    for (var s = 0u; s < step; s++) {
      alive[list_at(at + s)] = base + s;
    }
  }
}

// Sizes the fused field dispatch (and the first stepwise composite) from the list the march built.
@compute @workgroup_size(1)
fn schedule_fused() {
  let n = atomicLoad(&ctrl.n_samples);
  ind.fused = split_groups((n + WG_FIELD - 1u) / WG_FIELD);
  ind.step = split_groups((n + WG_MARCH - 1u) / WG_MARCH);
}

// Stepwise compositing: the list composite_step built becomes current and sizes the next sub-round.
@compute @workgroup_size(1)
fn schedule_step() {
  next_step_lists();
}

// Makes the rays listed for their next sample the current list (schedule_step's work; fast
// mode's stepwise slots call it too, as an entry point cannot be called).
fn next_step_lists() {
  let n = atomicLoad(&ctrl.n_next);
  atomicStore(&ctrl.n_samples, n);
  atomicStore(&ctrl.n_next, 0u);
  ctrl.list_off = mp.num_rays - ctrl.list_off;
  ind.fused = split_groups((n + WG_FIELD - 1u) / WG_FIELD);
  ind.step = split_groups((n + WG_MARCH - 1u) / WG_MARCH);
}

// Stepwise compositing of one sample per listed ray, exactly as `composite` does it in its loop:
// a ray goes on to its next marched sample (next list), survives the pass (next alive list) or ends.
@compute @workgroup_size(WG_MARCH)
fn composite_step(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_MARCH);
  if (i >= atomicLoad(&ctrl.n_samples)) {
    return;
  }
  let n_step = ctrl.n_step;
  let slot = alive[list_at(i)];
  let k = slot % n_step;
  let cur = ctrl.cur;
  let id = alive[cur * mp.num_rays + slot / n_step];
  var r = rays[id];
  let s = samples[slot];
  let f = field_out[slot];
  let alpha = 1.0 - exp(-f.w * s.w);
  let tr = 1.0 - r.wsum;
  let w = alpha * tr;
  r.wsum += w;
  r.rgb += w * f.xyz;
  r.nsamp += 1u;
  atomicAdd(&ctrl.total_samples, 1u);
  if (!(tr < mp.t_thresh)) {
    if (k + 1u < n_step) {
      // An empty next slot ends the ray, as in `composite`.
      if (samples[slot + 1u].w != 0.0) {
        alive[3u * mp.num_rays - ctrl.list_off + atomicAdd(&ctrl.n_next, 1u)] = slot + 1u;
      }
    } else {
      r.t = r.t_next;
      let at = atomicAdd(&ctrl.count[1u - cur], 1u);
      alive[(1u - cur) * mp.num_rays + at] = id;
    }
  }
  rays[id] = r;
}

@compute @workgroup_size(WG_MARCH)
fn composite(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_MARCH);
  let n_step = ctrl.n_step;
  if (i >= ctrl.n_alive || n_step == 0u) {
    return;
  }
  let cur = ctrl.cur;
  let id = alive[cur * mp.num_rays + i];
  var r = rays[id];
  var step = 0u;
  let base = i * n_step;
  for (; step < n_step; step++) {
    let s = samples[base + step];
    if (s.w == 0.0) {
      break;
    }
    let f = field_out[base + step];
    let alpha = 1.0 - exp(-f.w * s.w);
    let tr = 1.0 - r.wsum;
    let w = alpha * tr;
    r.wsum += w;
    r.rgb += w * f.xyz;
    if (tr < mp.t_thresh) {
      break;
    }
  }
  // Count what was composited (the sample that crossed the threshold included), not what was marched.
  let used = min(step + 1u, n_step);
  let composited = select(used, step, step < n_step && samples[base + step].w == 0.0);
  r.nsamp += composited;
  atomicAdd(&ctrl.total_samples, composited);
  if (step >= n_step) {
    r.t = r.t_next;
    let slot = atomicAdd(&ctrl.count[1u - cur], 1u);
    alive[(1u - cur) * mp.num_rays + slot] = id;
  }
  rays[id] = r;
}
