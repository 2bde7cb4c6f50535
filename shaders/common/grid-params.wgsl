// One grid level's features at u, read from a table at `base` in the including module's flat
// `params` buffer (the training kernels keep every parameter there). Needs common/grid-cell.wgsl.
// Levels not yet released (coarse-to-fine) and points outside the unit cube read zero.
fn grid_level_params(u: array<f32, 3>, l: u32, active_levels: u32, base: u32) -> array<f32, GRID_FEATS> {
  var f: array<f32, GRID_FEATS>;
  if (l < active_levels && grid_in_range(u)) {
    let lv = grid_levels[l];
    let g = grid_cell(u, lv);
    for (var c = 0u; c < (1u << GRID_DIM); c++) {
      let w = grid_corner_weight(g, c, GRID_DIM);
      let row = base + grid_corner_row(g, lv, c) * GRID_FEATS;
      for (var ch = 0u; ch < GRID_FEATS; ch++) {
        f[ch] += w * params[row + ch];
      }
    }
  }
  return f;
}
