// Ray generation and aabb near/far (model-spec §6, §7b.8): one invocation per pixel.
override WG_RAY: u32 = 64u;

struct Camera {
  rot0: vec4f, // rows of the camera-to-world rotation, translation in w
  rot1: vec4f,
  rot2: vec4f,
  intr: vec4f, // fx, fy, cx, cy
  aabb_min: vec4f, // w = min_near
  aabb_max: vec4f,
  size: vec4u, // width, height, num_rays
}

@group(0) @binding(0) var<uniform> cam: Camera;
@group(0) @binding(1) var<storage, read_write> rays: array<Ray>;
@group(0) @binding(2) var<storage, read_write> alive: array<u32>;

const BIG: f32 = 3.4028234663852886e38;

// The ray of pixel (col, row): direction, aabb near/far, initial state (shared with the fast
// mode's ray list, shaders/fast/fast-rays.wgsl).
fn make_ray(col: u32, row: u32) -> Ray {
  let dc = normalize(vec3f((f32(col) + 0.5 - cam.intr.z) / cam.intr.x, (f32(row) + 0.5 - cam.intr.w) / cam.intr.y, 1.0));
  let d = vec3f(dot(cam.rot0.xyz, dc), dot(cam.rot1.xyz, dc), dot(cam.rot2.xyz, dc));
  let o = vec3f(cam.rot0.w, cam.rot1.w, cam.rot2.w);
  var near = 0.0;
  var far = BIG;
  var hit = true;
  // Multiply by the reciprocal as the reference kernel does, so near/far round the same way.
  let rd = 1.0 / d;
  for (var a = 0u; a < 3u; a++) {
    var t0 = (cam.aabb_min[a] - o[a]) * rd[a];
    var t1 = (cam.aabb_max[a] - o[a]) * rd[a];
    if (t0 > t1) {
      let s = t0;
      t0 = t1;
      t1 = s;
    }
    if (a == 0u) {
      near = t0;
      far = t1;
    } else {
      if (near > t1 || t0 > far) {
        hit = false;
        break;
      }
      near = max(near, t0);
      far = min(far, t1);
    }
  }
  var r: Ray;
  r.dir = d;
  if (hit) {
    near = max(near, cam.aabb_min.w);
  } else {
    near = BIG;
    far = BIG;
  }
  r.near = near;
  r.far = far;
  r.t = near;
  r.rgb = vec3f(0.0);
  r.wsum = 0.0;
  r.nsamp = 0u;
  return r;
}

@compute @workgroup_size(WG_RAY)
fn init_rays(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = flat_index(wg, nwg, lid, WG_RAY);
  if (n >= cam.size.z) {
    return;
  }
  rays[n] = make_ray(n % cam.size.x, n / cam.size.x);
  alive[n] = n;
}
