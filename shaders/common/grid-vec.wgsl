// Multi-resolution grid encoding returning a level's features as one GVec (vec4f for up to 4
// features, mat2x4f for 5..8; zero padded), for the fused field kernels. The including module
// declares `grid_levels`, `alias GVec` and `fn grid_vec(row: u32) -> GVec` (vector loads of one
// table row, generated for GRID_FEATS by worker/render/head-codegen.ts gridVecDecl).
// Corner weights multiply in dimension order and channels accumulate corner by corner, exactly
// as the scalar encoder does, so both give bit-identical features.

fn grid_row_v(lv: GridLevel, c: vec3u) -> u32 {
  var stride = 1u;
  var index = 0u;
  let res1 = lv.resolution + 1u;
  if (stride <= lv.table_size) {
    index += c.x * stride;
    stride *= res1;
  }
  if (stride <= lv.table_size) {
    index += c.y * stride;
    stride *= res1;
  }
  if (GRID_DIM > 2u && stride <= lv.table_size) {
    index += c.z * stride;
    stride *= res1;
  }
  if (GRID_HASH && stride > lv.table_size) {
    index = c.x ^ (c.y * 2654435761u);
    if (GRID_DIM > 2u) {
      index ^= c.z * 805459861u;
    }
  }
  return (index % lv.table_size) + lv.offset;
}

// u inside [0,1]^GRID_DIM (z ignored for 2-D grids).
fn grid_feat(u: vec3f, l: u32) -> GVec {
  let lv = grid_levels[l];
  let p = u * lv.scale + 0.5;
  let c = floor(p);
  let cell = vec3u(max(c, vec3f(0.0)));
  let fr = p - c;
  var out = GVec();
  for (var idx = 0u; idx < (1u << GRID_DIM); idx++) {
    let hi = vec3u(idx & 1u, (idx >> 1u) & 1u, (idx >> 2u) & 1u);
    let wv = select(vec3f(1.0) - fr, fr, hi == vec3u(1u));
    var w = wv.x * wv.y;
    if (GRID_DIM > 2u) {
      w *= wv.z;
    }
    out += w * grid_vec(grid_row_v(lv, cell + hi));
  }
  return out;
}
