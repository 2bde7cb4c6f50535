#!/usr/bin/env python3
"""Writes R2-Talker checkpoints with real torch.save, for the importer's tests.

Checkpoints follow the official key layout and shapes (model-spec.md section 8, checked
against nerf/network.py, nerf/renderer.py and nerf/utils.py save_checkpoint of the reference);
values are random with a fixed seed but of realistic magnitudes. Next to each checkpoint
<variant>.ref.json records, per model key, the stored dtype, shape and the SHA-256 of the
tensor as contiguous little-endian float32 (uint8 / int32 kept as is), so a reader can be
checked bit for bit without a second copy of the data.

  /usr/bin/python3 scripts/make_checkpoint.py --out tests/fixtures/generated
  /usr/bin/python3 scripts/make_checkpoint.py --tiny --out tests/fixtures/checkpoint-tiny

Full-size variants: best (EMA weights, no density_grid), full (density_grid + optimizer,
lr_scheduler, scaler, ema), noeye (sigma_net input 64), notorso (a head-stage save),
smalltable (log2 table size 14), mixed (float16/float64 storages, strided and offset views,
a shared storage), badshape (sigma_net.net.0.weight [64,66]).
Also transforms_val.json, bc.png (and bc.jpg when Pillow is installed), bc_2x.png + bc_2x_area.npy (2x2 area reference),
landmarks.npy + landmarks_mean.npy / landmarks_std.npy (torch, unbiased) and poses_ref.npy.
"""
import argparse
import collections
import hashlib
import json
import math
import os
import struct
import zlib

import numpy as np
import torch

VARIANTS = ['best', 'full', 'noeye', 'notorso', 'smalltable', 'mixed', 'badshape']


def grid_offsets(input_dim, levels, base, finest, log2_table):
    # gridencoder/grid.py GridEncoder.__init__ (align_corners False)
    scale = np.exp2(np.log2(finest / base) / (levels - 1))
    offsets, offset = [], 0
    for i in range(levels):
        res = int(np.ceil(base * scale ** i))
        params = min(2 ** log2_table, (res + 1) ** input_dim)
        params = int(np.ceil(params / 8) * 8)
        offsets.append(offset)
        offset += params
    offsets.append(offset)
    return torch.from_numpy(np.array(offsets, dtype=np.int32))


def linear(g, out_dim, in_dim):
    bound = 1.0 / math.sqrt(in_dim)
    return (torch.rand(out_dim, in_dim, generator=g) * 2 - 1) * bound


def make_model(g, dims, eye=True, torso=True, full=False, sigma_in_extra=0):
    """dims: the sizes that --tiny shrinks; names and structure stay official."""
    d = dims
    m = collections.OrderedDict()
    bound = 1.0
    m['aabb_train'] = torch.tensor([-bound, -bound / 2, -bound, bound, bound / 2, bound], dtype=torch.float32)
    m['aabb_infer'] = m['aabb_train'].clone()
    m['individual_codes'] = torch.randn(d['ind_num'], 4, generator=g) * 0.1
    if torso:
        m['individual_codes_torso'] = torch.randn(d['ind_num'], 8, generator=g) * 0.1
    if full:
        grid = torch.rand(1, d['grid'] ** 3, generator=g) * 20
        grid[grid < 4] = -1
        m['density_grid'] = grid
    m['density_bitfield'] = torch.randint(0, 256, (d['grid'] ** 3 // 8,), generator=g, dtype=torch.uint8)
    if torso:
        m['density_grid_torso'] = torch.rand(d['grid'] ** 2, generator=g)
    m['step_counter'] = torch.randint(0, 1 << 20, (16, 2), generator=g, dtype=torch.int32)
    head_off = grid_offsets(3, d['levels'], 32, 2048, d['log2'])
    m['encoder.embeddings'] = torch.randn(int(head_off[-1]), 4, generator=g) * 0.05
    m['encoder.offsets'] = head_off
    lm_off = grid_offsets(3, d['levels'], 32, 2048, d['log2'])
    m['encoder_idexp_lm3d.embeddings'] = torch.randn(int(lm_off[-1]), 2, generator=g) * 0.05
    m['encoder_idexp_lm3d.offsets'] = lm_off
    grid_out = d['levels'] * 4
    hid = d['hidden']
    m['sigma_net.net.0.weight'] = linear(g, hid, grid_out + (1 if eye else 0) + sigma_in_extra)
    m['sigma_net.net.1.weight'] = linear(g, hid, hid)
    m['sigma_net.net.2.weight'] = linear(g, 1 + hid, hid)
    m['color_net.net.0.weight'] = linear(g, hid, 16 + hid + 4)
    m['color_net.net.1.weight'] = linear(g, 3, hid)
    cond_in = 5 * d['landmarks'] * d['levels'] * 2
    for k in (1, 2):
        ch = d['cond_hidden']
        m[f'mlp_lms_style_{k}.net.0.weight'] = linear(g, ch, cond_in)
        m[f'mlp_lms_style_{k}.net.1.weight'] = linear(g, ch, ch)
        m[f'mlp_lms_style_{k}.net.2.weight'] = linear(g, 2 * hid, ch)
    if torso:
        tin = 42 + 54 + 8
        dh, th = d['deform_hidden'], d['torso_hidden']
        m['torso_deform_net.net.0.weight'] = linear(g, dh, tin)
        m['torso_deform_net.net.1.weight'] = linear(g, dh, dh)
        m['torso_deform_net.net.2.weight'] = linear(g, 2, dh)
        t_off = grid_offsets(2, d['levels'], 16, 2048, d['log2'])
        m['torso_encoder.embeddings'] = torch.randn(int(t_off[-1]), 2, generator=g) * 0.05
        m['torso_encoder.offsets'] = t_off
        m['torso_net.net.0.weight'] = linear(g, th, d['levels'] * 2 + tin)
        m['torso_net.net.1.weight'] = linear(g, th, th)
        m['torso_net.net.2.weight'] = linear(g, 4, th)
    # state_dict() attaches per-module versions; keep that so BUILD on an OrderedDict is exercised.
    m._metadata = collections.OrderedDict([('', {'version': 1}), ('sigma_net', {'version': 1})])
    return m


def mix_views(m, g):
    """Same values layout-wise, but stored the ways a reader must handle."""
    m['encoder.embeddings'] = m['encoder.embeddings'].half()
    m['mlp_lms_style_1.net.1.weight'] = m['mlp_lms_style_1.net.1.weight'].double()
    # a transposed (non-contiguous) view
    m['sigma_net.net.1.weight'] = m['sigma_net.net.1.weight'].t().contiguous().t()
    # a view at a storage offset inside a larger storage, shared with another key
    big = torch.cat([m['color_net.net.1.weight'], m['sigma_net.net.2.weight']], dim=0)
    m['color_net.net.1.weight'] = big[:3]
    m['sigma_net.net.2.weight'] = big[3:]
    return m


def top_level(m, full, params):
    stats = {'loss': [0.0123, 0.0101], 'valid_loss': [0.0131], 'results': [np.float64(-31.25)],
             'checkpoints': ['trial/checkpoints/ngp_ep0010.pth'], 'best_result': np.float64(-31.25)}
    state = {'epoch': 10, 'global_step': 200000, 'stats': stats, 'mean_count': 23,
             'mean_density': 3.75, 'mean_density_torso': 0.42}
    if full:
        opt = torch.optim.Adam([{'params': params[: len(params) // 2], 'lr': 5e-3},
                                {'params': params[len(params) // 2:], 'lr': 5e-4}], betas=(0.9, 0.99), eps=1e-15)
        for p in params:
            p.grad = torch.randn_like(p) * 1e-3
        opt.step()
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: 0.1 ** (it / 200000))
        state['optimizer'] = opt.state_dict()
        state['lr_scheduler'] = sched.state_dict()
        state['scaler'] = {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5, 'growth_interval': 2000, '_growth_tracker': 17}
        # torch_ema.ExponentialMovingAverage.state_dict() layout
        state['ema'] = {'decay': 0.95, 'num_updates': 200, 'shadow_params': [p.detach() * 0.99 for p in params], 'collected_params': None}
    state['model'] = m
    return state


def ref_entry(t):
    t = t.detach()
    stored = str(t.dtype).replace('torch.', '')
    if t.dtype in (torch.uint8, torch.int32):
        b = t.contiguous().numpy().tobytes()
    else:
        b = t.to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
    return {'dtype': stored, 'shape': list(t.shape), 'sha256': hashlib.sha256(b).hexdigest()}


def save_variant(out, name, m, full, g):
    params = [torch.nn.Parameter(v.clone().float()) for k, v in m.items() if k.endswith('weight') or k.endswith('embeddings') or k.startswith('individual_codes')]
    torch.save(top_level(m, full, params), os.path.join(out, f'{name}.pth'))
    ref = {k: ref_entry(v) for k, v in m.items()}
    for k in ('individual_codes', 'individual_codes_torso'):
        if k in m:
            ref[k + '[0]'] = ref_entry(m[k][0])
    with open(os.path.join(out, f'{name}.ref.json'), 'w') as f:
        json.dump(ref, f, indent=1)


def write_png(path, rgb):
    """8-bit RGB PNG with the standard library only."""
    h, w, _ = rgb.shape
    raw = b''.join(b'\x00' + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b''))


def nerf_matrix_to_ngp(pose, scale=4.0):
    # nerf/provider.py, offset 0
    return np.array([
        [pose[1, 0], -pose[1, 1], -pose[1, 2], pose[1, 3] * scale],
        [pose[2, 0], -pose[2, 1], -pose[2, 2], pose[2, 3] * scale],
        [pose[0, 0], -pose[0, 1], -pose[0, 2], pose[0, 3] * scale],
        [0, 0, 0, 1],
    ], dtype=np.float32)


def write_subject(out, rng, frames=12, size=450):
    poses, ref = [], []
    for i in range(frames):
        a, b, c = rng.normal(0, 0.05, 3)
        rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
        ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
        rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
        m = np.eye(4)
        m[:3, :3] = rz @ ry @ rx
        m[:3, 3] = rng.normal(0, 0.01, 3) + np.array([0.0, 0.0, 0.25])
        frame = {'img_id': i, 'aud_id': i, 'transform_matrix': m.tolist()}
        if i % 3 != 2:  # some frames lack eye_ratio: the reader must fall back to 0.25
            frame['eye_ratio'] = float(rng.uniform(0.1, 0.4))
        poses.append(frame)
        ref.append(nerf_matrix_to_ngp(np.array(m.tolist(), dtype=np.float32)))
    half = size / 2
    with open(os.path.join(out, 'transforms_val.json'), 'w') as f:
        json.dump({'focal_len': 1200.0, 'cx': half, 'cy': half, 'frames': poses}, f)
    np.save(os.path.join(out, 'poses_ref.npy'), np.stack(ref))

    yy, xx = np.mgrid[0:size, 0:size]
    img = np.stack([(xx * 255 // size), (yy * 255 // size), ((xx + yy) % 256)], -1).astype(np.uint8)
    write_png(os.path.join(out, 'bc.png'), img)
    try:  # Pillow is optional (not a python3-torch dependency); bc.jpg mirrors a real subject folder
        from PIL import Image
        Image.fromarray(img).save(os.path.join(out, 'bc.jpg'), quality=95)
    except ImportError:
        pass
    big = rng.integers(0, 256, (size * 2, size * 2, 3), dtype=np.uint8)
    write_png(os.path.join(out, 'bc_2x.png'), big)
    s = big.astype(np.int32).reshape(size, 2, size, 2, 3).sum(axis=(1, 3))
    np.save(os.path.join(out, 'bc_2x_area.npy'), ((s + 2) >> 2).astype(np.uint8))  # cv2 INTER_AREA, 2x2

    lms = (rng.normal(0, 1, (40, 68, 3)) * 0.3).astype(np.float32)
    np.save(os.path.join(out, 'landmarks.npy'), lms)
    t = torch.from_numpy(lms)
    np.save(os.path.join(out, 'landmarks_mean.npy'), t.mean(axis=0).reshape(-1).numpy())
    np.save(os.path.join(out, 'landmarks_std.npy'), t.std(axis=0).reshape(-1).numpy())


FULL = {'ind_num': 10000, 'grid': 128, 'levels': 16, 'log2': 16, 'hidden': 64, 'landmarks': 68,
        'cond_hidden': 128, 'deform_hidden': 64, 'torso_hidden': 32}
TINY = {'ind_num': 3, 'grid': 8, 'levels': 2, 'log2': 4, 'hidden': 4, 'landmarks': 1,
        'cond_hidden': 4, 'deform_hidden': 2, 'torso_hidden': 2}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--tiny', action='store_true', help='one small full save with tiny shapes (reader tests)')
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--variants', default=','.join(VARIANTS))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)  # optimizer gradients use the global generator
    g = torch.Generator().manual_seed(args.seed)
    if args.tiny:
        m = mix_views(make_model(g, TINY, full=True), g)
        save_variant(args.out, 'tiny', m, True, g)
        # the tiny fixture is small enough to record every value for the reader's tests
        values = {k: v.detach().to(torch.float64).reshape(-1).tolist() if v.is_floating_point() else v.reshape(-1).tolist() for k, v in m.items()}
        with open(os.path.join(args.out, 'tiny.values.json'), 'w') as f:
            json.dump(values, f)
        return
    for name in args.variants.split(','):
        if name not in VARIANTS:
            raise SystemExit(f'unknown variant {name}')
        dims = dict(FULL, log2=14) if name == 'smalltable' else FULL
        m = make_model(g, dims, eye=name != 'noeye', torso=name != 'notorso', full=name == 'full',
                       sigma_in_extra=1 if name == 'badshape' else 0)
        if name == 'mixed':
            m = mix_views(m, g)
        save_variant(args.out, name, m, name == 'full', g)
    write_subject(args.out, np.random.default_rng(args.seed))


if __name__ == '__main__':
    main()
