// Fast mode's head field entry: head_fused (shaders/fields/head-fused.wgsl) over the samples the
// fast march listed, plus each sample's FiLM sensitivity (head_sens, generated with
// worker/render/head-codegen.ts buildHeadFused(..., sensitivity)) into the fast state at
// FAST_SLOT_SENS + slot, where fast_composite reads it for the ray. The host decides from it
// which pixels speech may have changed and must be marched rather than interpolated.
// Bindings: fast/fast-head-bindings.wgsl.
@compute @workgroup_size(WG_FIELD)
fn head_fused_fast(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = flat_index(wg, nwg, lid, WG_FIELD) * SPI;
  let n = atomicLoad(&ctrl.n_samples);
  if (i0 >= n) {
    return;
  }
  var xs: array<vec3f, SPI>;
  var ds: array<vec3f, SPI>;
  var slots: array<u32, SPI>;
  for (var s = 0u; s < SPI; s++) {
    let slot = alive[2u * fp.num_rays + ctrl.list_off + min(i0 + s, n - 1u)];
    slots[s] = slot;
    xs[s] = samples[slot].xyz;
    ds[s] = rays[alive[ctrl.cur * fp.num_rays + slot / ctrl.n_step]].dir;
  }
  let out = head_mlp(xs, ds);
  for (var s = 0u; s < SPI && i0 + s < n; s++) {
    field_out[slots[s]] = out[s];
    fast_state[FAST_SLOT_SENS + slots[s]] = bitcast<u32>(head_sens[s]);
  }
}
