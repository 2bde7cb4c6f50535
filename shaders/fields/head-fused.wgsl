// Fused head field (model-spec §5): one invocation per occupied sample of the pass (the march
// kernel compacts them into `sample_list`), grid encoding + FiLM sigma net + SH colour net in
// registers. `head_mlp`, `grid_vec` and the `grid_emb` binding are generated for the avatar's
// config (worker/render/head-codegen.ts): hidden layers are mat4x4 x vec4 products over weights
// at constant indices, so nothing is dynamically indexed.
override WG_FIELD: u32 = 64u;

struct FieldParams {
  eye: f32,
  num_rays: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
// binding 2 (and more banks): the generated weight arrays wm0.. (mlp-codegen.ts)
@group(0) @binding(3) var<storage, read> film: array<f32, FILM_LEN>;
@group(0) @binding(4) var<storage, read> samples: array<vec4f>;
@group(0) @binding(5) var<storage, read> rays: array<Ray>;
@group(0) @binding(6) var<storage, read> alive: array<u32>;
@group(0) @binding(7) var<storage, read_write> ctrl: Ctrl;
@group(0) @binding(8) var<storage, read_write> field_out: array<vec4f>;
@group(0) @binding(9) var<uniform> fp: FieldParams;
@group(0) @binding(10) var<storage, read> sample_list: array<u32>;

@compute @workgroup_size(WG_FIELD)
fn head_fused(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_FIELD);
  if (i >= atomicLoad(&ctrl.n_samples)) {
    return;
  }
  let slot = sample_list[i];
  let s = samples[slot];
  let id = alive[ctrl.cur * fp.num_rays + slot / ctrl.n_step];
  field_out[slot] = head_mlp(s.xyz, rays[id].dir);
}
