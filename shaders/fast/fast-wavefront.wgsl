// Fast mode's march and compositing kernels for the wavefront of shaders/marching/wavefront.wgsl
// (its schedule, schedule_fused and the fused head field run unchanged). CPU reference:
// worker/model/fast-march.ts. Same sample lattice and image-wide pass schedule as exact mode, but
// - samples ahead of the ray's t_start are marched (they keep their slot in the pass) and
//   marked skipped (negative dt) instead of being listed for the field;
// - a guided ray whose first evaluated sample is already dense after skipping some started too
//   late (the surface came closer: disocclusion, a head turn, lips closing): it restarts from
//   its near bound evaluating every sample (the validity replay);
// - a sample past the transmittance threshold ends the ray before it is composited;
// - colour is taken once the weight of a sample and of the uncoloured ones in front of it
//   exceeds colour_weight, and they all get it (the CPU reference runs the colour net only there;
//   the host gives the weight left uncoloured behind the last the ray's mean colour);
// - the first sample denser than hit_alpha gives the ray's surface (hit_t) for the next frame.

// Colour gate (stepwise only): fast_composite_step lists the samples whose colour shows and the
// fast field's colour kernel (shaders/fast/fast-head-gated.wgsl) runs the colour net on those
// alone, as the CPU reference does; without it the fused field's colour of every sample is used.
override COLOUR_GATE: bool = false;

struct FastParams {
  valid_alpha: f32,
  colour_weight: f32,
  hit_alpha: f32,
  visible_weight: f32, // a sample's sensitivity counts for its ray above this weight
}

@group(3) @binding(1) var<uniform> fparams: FastParams;

@compute @workgroup_size(WG_MARCH)
fn fast_march(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_MARCH);
  let n_step = ctrl.n_step;
  if (i >= ctrl.n_alive || n_step == 0u) {
    return;
  }
  let id = alive[ctrl.cur * mp.num_rays + i];
  var r = rays[id];
  let t_start = bitcast<f32>(fast[FR * id]);
  let d = r.dir;
  let rd = 1.0 / d;
  let res = f32(mp.grid_res);
  let r_h = 1.0 / res;
  let far = r.far;
  var t = r.t;
  var step = 0u;
  var listed = 0u;
  let base = i * n_step;
  for (var guard = 0u; guard < 16u * mp.grid_res && t < far && step < n_step; guard++) {
    let x = clamp(mp.origin.xyz + t * d, vec3f(-1.0), vec3f(1.0));
    let dt = step_dt(t);
    let c = occupied(x, res);
    let idx = expand_bits(u32(c.x)) | (expand_bits(u32(c.y)) << 1u) | (expand_bits(u32(c.z)) << 2u);
    if ((bitfield[idx >> 5u] & (1u << (idx & 31u))) != 0u) {
      let skip = t < t_start;
      samples[base + step] = vec4f(x, select(dt, -dt, skip));
      fast[FAST_SLOT_T + base + step] = bitcast<u32>(t);
      listed += select(1u, 0u, skip);
      t += dt;
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
    // Skipped samples lead a ray's samples (t only grows), so the first listed slot follows them.
    if (step > listed) {
      fast[FR * id + 3u] |= FLAG_SKIPPED;
    }
    if (1.0 - rays[id].wsum < mp.t_thresh) {
      // Ended at the last sample of the previous pass: nothing more to evaluate.
      return;
    }
    if (listed > 0u) {
      alive[list_at(atomicAdd(&ctrl.n_samples, 1u))] = base + step - listed;
    } else if (step == n_step) {
      // Every sample of this pass skipped: the ray goes on to the next pass without the field.
      rays[id].t = t;
      let at = atomicAdd(&ctrl.count[1u - ctrl.cur], 1u);
      alive[(1u - ctrl.cur) * mp.num_rays + at] = id;
    }
    return;
  }
  if (listed > 0u) {
    // total_samples counts field evaluations here (the multiply-adds fast mode spends).
    atomicAdd(&ctrl.total_samples, listed);
    var at = atomicAdd(&ctrl.n_samples, listed);
    for (var s = 0u; s < step; s++) {
      if (samples[base + s].w > 0.0) {
        alive[list_at(at)] = base + s;
        at += 1u;
      }
    }
  }
}

@compute @workgroup_size(WG_MARCH)
fn fast_composite(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_MARCH);
  let n_step = ctrl.n_step;
  if (i >= ctrl.n_alive || n_step == 0u) {
    return;
  }
  let cur = ctrl.cur;
  let id = alive[cur * mp.num_rays + i];
  var r = rays[id];
  let fr = FR * id;
  let guided = bitcast<f32>(fast[fr]) > NO_START;
  var hit = bitcast<f32>(fast[fr + 1u]);
  var sens = bitcast<f32>(fast[fr + 2u]);
  var flags = fast[fr + 3u];
  var pending = bitcast<f32>(fast[fr + 5u]);
  var coloured = bitcast<f32>(fast[fr + 6u]);
  var ended = false;
  var replay = false;
  let base = i * n_step;
  for (var step = 0u; step < n_step; step++) {
    let s = samples[base + step];
    let tr = 1.0 - r.wsum;
    // An empty slot: the ray left the volume. Below the threshold: exact mode would composite
    // this sample with a weight under it and end the ray.
    if (s.w == 0.0 || tr < mp.t_thresh) {
      ended = true;
      break;
    }
    if (s.w < 0.0) {
      flags |= FLAG_SKIPPED;
      continue;
    }
    let f = field_out[base + step];
    let alpha = 1.0 - exp(-f.w * s.w);
    if (guided && (flags & FLAG_STARTED) == 0u) {
      flags |= FLAG_STARTED;
      if ((flags & FLAG_SKIPPED) != 0u && alpha > fparams.valid_alpha) {
        replay = true;
        break;
      }
    }
    if (alpha > fparams.hit_alpha && hit < 0.0) {
      hit = bitcast<f32>(fast[FAST_SLOT_T + base + step]);
    }
    let w = alpha * tr;
    r.wsum += w;
    if (w > fparams.visible_weight) {
      sens = max(sens, bitcast<f32>(fast[FAST_SLOT_SENS + base + step]));
    }
    let wc = w + pending;
    if (wc > fparams.colour_weight) {
      r.rgb += wc * f.xyz;
      coloured += wc;
      pending = 0.0;
    } else {
      pending = wc;
    }
  }
  if (replay) {
    r.t = r.near;
    r.rgb = vec3f(0.0);
    r.wsum = 0.0;
    hit = -1.0;
    sens = 0.0;
    pending = 0.0;
    coloured = 0.0;
    flags = FLAG_REPLAYED;
    fast[fr] = bitcast<u32>(NO_START);
  } else if (!ended) {
    r.t = r.t_next;
  }
  if (!ended) {
    let slot = atomicAdd(&ctrl.count[1u - cur], 1u);
    alive[(1u - cur) * mp.num_rays + slot] = id;
  }
  fast[fr + 1u] = bitcast<u32>(hit);
  fast[fr + 2u] = bitcast<u32>(sens);
  fast[fr + 3u] = flags;
  fast[fr + 5u] = bitcast<u32>(pending);
  fast[fr + 6u] = bitcast<u32>(coloured);
  rays[id] = r;
}

// Stepwise compositing (wavefront.wgsl STEPWISE): one listed sample per ray at a time, so the
// field never runs behind where a ray ends, is replayed or leaves the volume (the CPU
// reference evaluates exactly these samples). Same decisions as fast_composite, sample by
// sample; the march listed each ray's first evaluated sample and handled its skipped ones.
@compute @workgroup_size(WG_MARCH)
fn fast_composite_step(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
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
  let fr = FR * id;
  atomicAdd(&ctrl.total_samples, 1u);
  var flags = fast[fr + 3u];
  let s = samples[slot];
  let f = field_out[slot];
  let alpha = 1.0 - exp(-f.w * s.w);
  if (bitcast<f32>(fast[fr]) > NO_START && (flags & FLAG_STARTED) == 0u) {
    flags |= FLAG_STARTED;
    if ((flags & FLAG_SKIPPED) != 0u && alpha > fparams.valid_alpha) {
      r.t = r.near;
      r.rgb = vec3f(0.0);
      r.wsum = 0.0;
      fast[fr] = bitcast<u32>(NO_START);
      fast[fr + 1u] = bitcast<u32>(-1.0);
      fast[fr + 2u] = 0u;
      fast[fr + 3u] = FLAG_REPLAYED;
      fast[fr + 5u] = 0u;
      fast[fr + 6u] = 0u;
      fast[fr + 8u] = 0u;
      fast[fr + 9u] = 0u;
      fast[fr + 10u] = 0u;
      let at = atomicAdd(&ctrl.count[1u - cur], 1u);
      alive[(1u - cur) * mp.num_rays + at] = id;
      rays[id] = r;
      return;
    }
  }
  var hit = bitcast<f32>(fast[fr + 1u]);
  var sens = bitcast<f32>(fast[fr + 2u]);
  var pending = bitcast<f32>(fast[fr + 5u]);
  var coloured = bitcast<f32>(fast[fr + 6u]);
  if (alpha > fparams.hit_alpha && hit < 0.0) {
    hit = bitcast<f32>(fast[FAST_SLOT_T + slot]);
  }
  let tr = 1.0 - r.wsum;
  let w = alpha * tr;
  r.wsum += w;
  if (w > fparams.visible_weight) {
    sens = max(sens, bitcast<f32>(fast[FAST_SLOT_SENS + slot]));
  }
  let wc = w + pending;
  if (wc > fparams.colour_weight) {
    if (COLOUR_GATE) {
      fast[fr + 7u] = bitcast<u32>(wc);
      fast[FAST_SLOT_COL + atomicAdd(&ctrl.n_colour, 1u)] = slot;
    } else {
      r.rgb += wc * f.xyz;
    }
    coloured += wc;
    pending = 0.0;
  } else {
    pending = wc;
  }
  fast[fr + 1u] = bitcast<u32>(hit);
  fast[fr + 2u] = bitcast<u32>(sens);
  fast[fr + 3u] = flags;
  fast[fr + 5u] = bitcast<u32>(pending);
  fast[fr + 6u] = bitcast<u32>(coloured);
  if (k + 1u < n_step) {
    // An empty next slot (the ray left the volume) or a spent transmittance ends the ray, as in fast_composite.
    if (samples[slot + 1u].w != 0.0 && !(1.0 - r.wsum < mp.t_thresh)) {
      alive[3u * mp.num_rays - ctrl.list_off + atomicAdd(&ctrl.n_next, 1u)] = slot + 1u;
    }
  } else {
    r.t = r.t_next;
    let at = atomicAdd(&ctrl.count[1u - cur], 1u);
    alive[(1u - cur) * mp.num_rays + at] = id;
  }
  rays[id] = r;
}

// Colour gate: sizes the colour kernel's dispatch (the loop kernels' indirect slot, unused by
// the fused path) from the samples fast_composite_step listed, and counts them.
@compute @workgroup_size(1)
fn schedule_colour() {
  let n = atomicLoad(&ctrl.n_colour);
  atomicAdd(&ctrl.total_colour, n);
  ind.field = split_groups((n + WG_FIELD - 1u) / WG_FIELD);
}

// Stepwise slots: the host encodes max_steps + max_per_pass - 1 slots of one sub-round each
// instead of every pass's max_per_pass sub-rounds. A slot goes on with the running pass while it
// has sub-rounds and listed samples left, else starts the next pass exactly as `schedule` does
// (passes add n_step >= 1 to the step counter, below max_steps before the last, and use at most
// n_step slots each, so the slots always suffice). Same passes and samples in the same order, a
// fifth of the dispatches.
@compute @workgroup_size(1)
fn fast_schedule_slot() {
  if (ctrl.pass_index > 0u && ctrl.sub < ctrl.n_step && atomicLoad(&ctrl.n_samples) > 0u) {
    ind.march = split_groups(0u);
    return;
  }
  let n_step = begin_pass();
  ctrl.sub = 0u;
  ind.march = split_groups(select(0u, (ctrl.n_alive + WG_MARCH - 1u) / WG_MARCH, n_step > 0u));
}

// After a stepwise sub-round: schedule_step, the slot counter, an empty colour list.
@compute @workgroup_size(1)
fn fast_schedule_step() {
  ctrl.sub += 1u;
  atomicStore(&ctrl.n_colour, 0u);
  next_step_lists();
}
