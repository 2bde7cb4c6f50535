// Fused head field (model-spec §5): one invocation per SPI occupied samples of the pass (the
// march kernel compacts them into the sample list), grid encoding + FiLM sigma net + SH colour net
// in registers. `head_mlp`, `grid_vec`, `SPI`, `FILM_VEC4` and the `grid_emb` binding are
// generated for the avatar's config (worker/render/head-codegen.ts): hidden layers are
// mat4x4 x vec4 products over weight blocks, each block read once for all SPI samples.
// Bindings: fields/head-fused-bindings.wgsl; binding 2 (and more banks): the generated weight
// arrays wm0.. (mlp-codegen.ts).

@compute @workgroup_size(WG_FIELD)
fn head_fused(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = flat_index(wg, nwg, lid, WG_FIELD) * SPI;
  let n = atomicLoad(&ctrl.n_samples);
  if (i0 >= n) {
    return;
  }
  // A short last group repeats its final sample (computed, never stored twice).
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
  }
}
