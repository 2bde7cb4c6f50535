// image = rgb + (1 - weight_sum) * bg', clamped (model-spec §7); RGBA8 by truncation (§7b.11).
override WG_FINAL: u32 = 64u;

struct FinalParams {
  width: u32,
  height: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> rays: array<Ray>;
@group(0) @binding(1) var<storage, read> bg_final: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> image: array<vec4f>; // rgb, weight sum
@group(0) @binding(3) var<storage, read_write> rgba8: array<u32>;
@group(0) @binding(4) var out_tex: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(5) var<uniform> fin: FinalParams;

fn pack_trunc(v: vec3f) -> u32 {
  let b = vec3u(floor(v * 255.0));
  return b.x | (b.y << 8u) | (b.z << 16u) | (255u << 24u);
}

@compute @workgroup_size(WG_FINAL)
fn final_composite(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = flat_index(wg, nwg, lid, WG_FINAL);
  if (n >= fin.width * fin.height) {
    return;
  }
  let r = rays[n];
  let v = clamp(r.rgb + (1.0 - r.wsum) * bg_final[n].xyz, vec3f(0.0), vec3f(1.0));
  image[n] = vec4f(v, r.wsum);
  rgba8[n] = pack_trunc(v);
  textureStore(out_tex, vec2u(n % fin.width, n / fin.width), vec4f(floor(v * 255.0) / 255.0, 1.0));
}
