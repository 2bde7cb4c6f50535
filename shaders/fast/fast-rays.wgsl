// Fast mode's rays: only the listed pixels (a lattice level, or the pixels its refinement left
// to march), ray j at index j of the ray and alive arrays, so the wavefront of
// shaders/marching/wavefront.wgsl runs over the list as over a small image (cam.size.z = list length).
@compute @workgroup_size(WG_RAY)
fn fast_init_rays(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = flat_index(wg, nwg, lid, WG_RAY);
  if (j >= cam.size.z) {
    return;
  }
  let p = fast[FR * j + 4u];
  rays[j] = make_ray(p % cam.size.x, p / cam.size.x);
  alive[j] = j;
}
