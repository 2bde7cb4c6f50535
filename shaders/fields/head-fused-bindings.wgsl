// The fused head field's bindings and parameters (fields/head-fused.wgsl and fast mode's
// fast/fast-head.wgsl, fast/fast-head-gated.wgsl).
override WG_FIELD: u32 = 64u;

struct FieldParams {
  eye: f32,
  num_rays: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(3) var<uniform> film: array<vec4f, FILM_VEC4>;
@group(0) @binding(4) var<storage, read> samples: array<vec4f>;
@group(0) @binding(5) var<storage, read> rays: array<Ray>;
@group(0) @binding(6) var<storage, read> alive: array<u32>; // alive lists, then sample lists (wavefront.wgsl)
@group(0) @binding(7) var<storage, read_write> ctrl: Ctrl;
@group(0) @binding(8) var<storage, read_write> field_out: array<vec4f>;
@group(0) @binding(9) var<uniform> fp: FieldParams;
