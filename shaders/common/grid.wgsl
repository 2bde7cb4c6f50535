// Multi-resolution grid encoding, one scalar feature at a time (loop kernels). The including
// module declares GRID_DIM, GRID_FEATS, GRID_LEVELS, GRID_HASH, WT, `grid_emb: array<WT>` and
// `grid_levels: array<GridLevel, N>`, and includes common/grid-index.wgsl before this file.

// u must already be inside [0,1]^D (the caller zeroes out-of-range points for all levels).
fn grid_level(u: array<f32, 3>, l: u32) -> array<f32, GRID_FEATS> {
  let lv = grid_levels[l];
  var frac: array<f32, 3>;
  var cell: array<u32, 3>;
  for (var d = 0u; d < GRID_DIM; d++) {
    let p = u[d] * lv.scale + 0.5;
    let c = floor(p);
    cell[d] = u32(c);
    frac[d] = p - c;
  }
  var out: array<f32, GRID_FEATS>;
  for (var idx = 0u; idx < (1u << GRID_DIM); idx++) {
    var w = 1.0;
    var corner = cell;
    for (var d = 0u; d < GRID_DIM; d++) {
      if (((idx >> d) & 1u) == 0u) {
        w *= 1.0 - frac[d];
      } else {
        w *= frac[d];
        corner[d] += 1u;
      }
    }
    let row = grid_row(lv, corner) * GRID_FEATS;
    for (var ch = 0u; ch < GRID_FEATS; ch++) {
      out[ch] += w * f32(grid_emb[row + ch]);
    }
  }
  return out;
}

