// Fused head field (model-spec §5): one invocation per SPI occupied samples of the pass (the
// march kernel compacts them into the sample list), grid encoding + FiLM sigma net + SH colour net
// in registers. `head_mlp`, `grid_vec`, `SPI`, `FILM_VEC4` and the `grid_emb` binding are
// generated for the avatar's config (worker/render/head-codegen.ts): hidden layers are
// mat4x4 x vec4 products over weight blocks, each block read once for all SPI samples.
override WG_FIELD: u32 = 64u;

struct FieldParams {
  eye: f32,
  num_rays: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
// binding 2 (and more banks): the generated weight arrays wm0.. (mlp-codegen.ts)
@group(0) @binding(3) var<uniform> film: array<vec4f, FILM_VEC4>;
@group(0) @binding(4) var<storage, read> samples: array<vec4f>;
@group(0) @binding(5) var<storage, read> rays: array<Ray>;
@group(0) @binding(6) var<storage, read> alive: array<u32>; // alive lists, then sample lists (wavefront.wgsl)
@group(0) @binding(7) var<storage, read_write> ctrl: Ctrl;
@group(0) @binding(8) var<storage, read_write> field_out: array<vec4f>;
@group(0) @binding(9) var<uniform> fp: FieldParams;

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
