"""Self-test of wan_vae.py: /usr/bin/python3 models/export/test_wan_vae.py exits 0 on success and
prints one line per check. Small (shrunk config, CPU, seconds).

The frame-by-frame decoder/encoder here is our own transcription of the reference's chunk loop
(diffusers AutoencoderKLWan._decode/_encode with feat_cache / feat_idx, CACHE_T = 2, "Rep" for the
upsample3d first chunk), run on the same module's weights; the one-pass WanVae must equal it.
Its attention also follows the reference's reshape/permute/chunk path, its upsample the
reference's "nearest-exact", so those two rewrites are checked too.
"""
import sys

sys.dont_write_bytecode = True

import io
import os
import tempfile

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx  # noqa: E402

import safetensors_io  # noqa: E402
import wan_vae  # noqa: E402
from wan_vae import FULL, SHRUNK, WanVae  # noqa: E402
from wan_vae_blocks import CACHE_T  # noqa: E402

torch.set_num_threads(2)
FAILED = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    if not ok:
        FAILED.append(name)


# ---- the reference's chunked computation, transcribed ------------------------------------------

class FeatCache:
    """feat_cache + feat_idx: one slot per cached call site, visited in the same order per chunk."""

    def __init__(self):
        self.slots, self.idx = {}, 0

    def peek(self):
        return self.slots.get(self.idx)

    def put(self, value):
        self.slots[self.idx] = value
        self.idx += 1


def ref_pad(conv):
    """The reference's CausalConv3d padding, from its constructor rule (not our module's field):
    padding = kernel // 2 (kernel 3 -> 1, 1 -> 0) except downsample3d's stride-2 time_conv (0);
    F.pad order (w, w, h, h, 2 * p_t in front, 0 behind)."""
    kt, kh, kw = conv.weight.shape[2:]
    if conv.stride[0] == 2:
        return [0] * 6
    return [kw // 2, kw // 2, kh // 2, kh // 2, 2 * (kt // 2), 0]


def ref_causal_conv(conv, x, cache_x=None):
    pad = ref_pad(conv)
    if cache_x is not None and pad[4] > 0:
        x = torch.cat([cache_x, x], dim=2)
        pad[4] -= cache_x.shape[2]
    return F.conv3d(F.pad(x, pad), conv.weight, conv.bias, conv.stride)


def ref_cached_conv(conv, x, fc):
    prev = fc.peek()
    cache_x = x[:, :, -CACHE_T:].clone()
    if cache_x.shape[2] < 2 and prev is not None:
        cache_x = torch.cat([prev[:, :, -1:], cache_x], dim=2)
    y = ref_causal_conv(conv, x, prev)
    fc.put(cache_x)
    return y


def ref_norm(norm, x):
    return F.normalize(x, dim=1) * norm.scale * norm.gamma


def ref_resblock(rb, x, fc):
    h = x if rb.conv_shortcut is None else ref_causal_conv(rb.conv_shortcut, x)
    x = ref_cached_conv(rb.conv1, F.silu(ref_norm(rb.norm1, x)), fc)
    x = ref_cached_conv(rb.conv2, F.silu(ref_norm(rb.norm2, x)), fc)
    return x + h


def ref_attention(at, x):
    b, c, t, h, w = x.shape
    f = ref_norm(at.norm, x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))
    qkv = F.conv2d(f, at.to_qkv.weight, at.to_qkv.bias).reshape(b * t, 1, c * 3, -1)
    q, k, v = qkv.permute(0, 1, 3, 2).contiguous().chunk(3, dim=-1)
    a = torch.softmax(q @ k.transpose(-1, -2) / c ** 0.5, dim=-1) @ v   # SDPA, default scale
    a = a.squeeze(1).permute(0, 2, 1).reshape(b * t, c, h, w)
    a = F.conv2d(a, at.proj.weight, at.proj.bias)
    return a.view(b, t, c, h, w).permute(0, 2, 1, 3, 4) + x


def ref_resample(rs, x, fc):
    b, c, t, h, w = x.shape
    if rs.mode == "upsample3d":
        prev = fc.peek()
        if prev is None:
            fc.put("Rep")
        else:
            rep = isinstance(prev, str)
            cache_x = x[:, :, -CACHE_T:].clone()
            if cache_x.shape[2] < 2 and not rep:
                cache_x = torch.cat([prev[:, :, -1:], cache_x], dim=2)
            if cache_x.shape[2] < 2 and rep:
                cache_x = torch.cat([torch.zeros_like(cache_x), cache_x], dim=2)
            x = ref_causal_conv(rs.time_conv, x, None if rep else prev)
            fc.put(cache_x)
            x = x.reshape(b, 2, c, t, h, w)
            x = torch.stack((x[:, 0], x[:, 1]), 3).reshape(b, c, t * 2, h, w)
    t = x.shape[2]
    f = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    conv = rs.resample[1]
    if rs.mode.startswith("up"):
        f = F.conv2d(F.interpolate(f, scale_factor=(2.0, 2.0), mode="nearest-exact"),
                     conv.weight, conv.bias, padding=1)
    else:
        f = F.conv2d(F.pad(f, (0, 1, 0, 1)), conv.weight, conv.bias, stride=2)
    x = f.view(b, t, f.shape[1], f.shape[2], f.shape[3]).permute(0, 2, 1, 3, 4)
    if rs.mode == "downsample3d":
        prev = fc.peek()
        if prev is None:
            fc.put(x.clone())
        else:
            cache_x = x[:, :, -1:].clone()
            x = ref_causal_conv(rs.time_conv, torch.cat([prev[:, :, -1:], x], dim=2))
            fc.put(cache_x)
    return x


def ref_mid(mid, x, fc):
    x = ref_resblock(mid.resnets[0], x, fc)
    return ref_resblock(mid.resnets[1], ref_attention(mid.attentions[0], x), fc)


def ref_decoder_chunk(dec, x, fc):
    x = ref_mid(dec.mid_block, ref_cached_conv(dec.conv_in, x, fc), fc)
    for up in dec.up_blocks:
        for r in up.resnets:
            x = ref_resblock(r, x, fc)
        if up.upsamplers is not None:
            x = ref_resample(up.upsamplers[0], x, fc)
    return ref_cached_conv(dec.conv_out, F.silu(ref_norm(dec.norm_out, x)), fc)


def ref_decode_video(vae, latent):
    """pipeline de-normalisation, post_quant_conv, then one latent frame per decoder call."""
    z = latent / vae.latents_inv_std + vae.latents_mean
    x = ref_causal_conv(vae.post_quant_conv, z)
    fc, outs = FeatCache(), []
    for i in range(x.shape[2]):
        fc.idx = 0
        outs.append(ref_decoder_chunk(vae.decoder, x[:, :, i:i + 1], fc))
    out = torch.cat(outs, dim=2).clamp(-1.0, 1.0)
    return (out * 0.5 + 0.5).permute(0, 2, 3, 4, 1)


def ref_encode_video(vae, video):
    """1 frame, then 4 at a time, through the cached encoder; quant_conv; mean; normalise."""
    x = video.permute(0, 4, 1, 2, 3) * 2.0 - 1.0
    enc, fc, outs = vae.encoder, FeatCache(), []
    n = x.shape[2]
    for i in range(1 + (n - 1) // 4):
        fc.idx = 0
        h = x[:, :, :1] if i == 0 else x[:, :, 1 + 4 * (i - 1):1 + 4 * i]
        h = ref_cached_conv(enc.conv_in, h, fc)
        for layer in enc.down_blocks:
            h = ref_resample(layer, h, fc) if hasattr(layer, "mode") else ref_resblock(layer, h, fc)
        h = ref_mid(enc.mid_block, h, fc)
        outs.append(ref_cached_conv(enc.conv_out, F.silu(ref_norm(enc.norm_out, h)), fc))
    mu = ref_causal_conv(vae.quant_conv, torch.cat(outs, dim=2))[:, :vae.config["z_dim"]]
    return (mu - vae.latents_mean) * vae.latents_inv_std


# ---- checks ------------------------------------------------------------------------------------

def latent(shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def onnx_graph_bytes(model):
    """The graph without its I/O declarations and node names: identical at two export sizes iff
    nothing size-dependent was baked into ops or constants."""
    g = onnx.GraphProto()
    g.CopyFrom(model.graph)
    del g.input[:], g.output[:], g.value_info[:]
    for n in g.node:
        n.name = ""
    return g.SerializeToString()


def main():
    vae = wan_vae.init_random_(WanVae(SHRUNK), seed=1).eval()
    n_params = sum(p.numel() for p in vae.parameters())
    check("shrunk build + init", n_params == wan_vae.param_count(SHRUNK),
          f"{n_params} parameters, {len(vae.state_dict())} tensors")

    with torch.no_grad():
        for shape in ([1, 16, 1, 4, 6], [2, 16, 3, 6, 8]):
            b, _, t, h, w = shape
            v = vae.decode_video(latent(shape, 2))
            want = (b, 1 + 4 * (t - 1), 8 * h, 8 * w, 3)
            clamped = ((v == 0) | (v == 1)).float().mean().item()
            ok = (tuple(v.shape) == want and bool(torch.isfinite(v).all()) and v.min() >= 0
                  and v.max() <= 1 and v.std().item() > 0.05 and clamped < 0.5)
            check(f"decode_video {shape}", ok, f"-> {list(v.shape)}, mean {v.mean():.3f}, "
                  f"std {v.std():.3f}, clamped {clamped:.1%}")

        for t in (1, 2, 3):
            z = latent([2 if t == 2 else 1, 16, t, 4, 6], 10 + t)
            one, ref = vae.decode_video(z), ref_decode_video(vae, z)
            d = (one - ref).abs().max().item()
            check(f"one-pass == frame-by-frame reference loop, T={t}",
                  one.shape == ref.shape and d <= 1e-5, f"max |diff| {d:.2e}, {list(one.shape)}")

        for n in (1, 5, 9):
            video = torch.rand(1, n, 16, 24, 3, generator=torch.Generator().manual_seed(20 + n))
            one, ref = vae.encode_video(video), ref_encode_video(vae, video)
            d = (one - ref).abs().max().item()
            want = (1, 16, 1 + (n - 1) // 4, 2, 3)
            check(f"encode one-pass == chunked reference loop, N={n}",
                  tuple(one.shape) == want and tuple(ref.shape) == want and d <= 1e-5,
                  f"max |diff| {d:.2e}, {list(one.shape)}")

    got = {k: tuple(v.shape) for k, v in vae.state_dict().items()}
    want = wan_vae.expected_keys(SHRUNK)
    check("shrunk state_dict names/shapes == expected_keys", got == want,
          f"{len(got)} tensors; missing {sorted(set(want) - set(got))[:3]}, "
          f"unexpected {sorted(set(got) - set(want))[:3]}, "
          f"shape diffs {[k for k in got if k in want and got[k] != want[k]][:3]}")
    meta = WanVae(FULL, device="meta")
    got = {k: tuple(v.shape) for k, v in meta.state_dict().items()}
    want = wan_vae.expected_keys(FULL)
    spot = {"decoder.up_blocks.0.upsamplers.0.time_conv.weight": (768, 384, 3, 1, 1),
            "decoder.up_blocks.0.upsamplers.0.resample.1.weight": (192, 384, 3, 3),
            "decoder.up_blocks.1.resnets.0.conv_shortcut.weight": (384, 192, 1, 1, 1),
            "encoder.down_blocks.5.time_conv.weight": (192, 192, 3, 1, 1),
            "encoder.conv_out.weight": (32, 384, 3, 3, 3), "quant_conv.weight": (32, 32, 1, 1, 1),
            "decoder.norm_out.gamma": (96, 1, 1, 1), "decoder.mid_block.attentions.0.norm.gamma": (384, 1, 1)}
    check("FULL (meta) state_dict == expected_keys, spot shapes as published", got == want
          and all(want.get(k) == s for k, s in spot.items()), f"{len(got)} tensors")

    with torch.no_grad():  # shapes only: meta tensors carry no data
        v = meta.decode_video(torch.zeros(1, 16, 21, 60, 104, device="meta"))
        e = meta.encode_video(torch.zeros(1, 81, 480, 832, 3, device="meta"))
    check("FULL (meta) decode [1,16,21,60,104] -> [1,81,480,832,3], encode back",
          tuple(v.shape) == (1, 81, 480, 832, 3) and tuple(e.shape) == (1, 16, 21, 60, 104),
          f"{list(v.shape)}, {list(e.shape)}")

    total, dec = wan_vae.param_count(FULL), wan_vae.decoder_param_count(FULL)
    enc = sum(v.numel() for k, v in meta.state_dict().items() if k.startswith("encoder."))
    check("FULL param_count", 120e6 < total < 135e6 and total == sum(p.numel() for p in meta.parameters()),
          f"{total:,} whole VAE; decode path (post_quant_conv + decoder) {dec:,} ({dec / total:.1%}); "
          f"encoder {enc:,}")

    with tempfile.TemporaryDirectory() as tmp:
        graphs = []
        for shape in ([1, 16, 1, 4, 6], [2, 16, 3, 5, 3]):
            path = os.path.join(tmp, f"dec{len(graphs)}.onnx")
            wan_vae.export_decoder_onnx(vae, path, latent(shape, 3))
            model = onnx.load(path)
            onnx.checker.check_model(model)
            graphs.append(onnx_graph_bytes(model))
            n_init = sum(int(torch.tensor(list(i.dims)).prod()) if i.dims else 1 for i in model.graph.initializer)
        io_ok = ([i.name for i in model.graph.input] == ["latent"] and [o.name for o in model.graph.output] == ["video"])
        check("ONNX export (opset 17, dynamic batch/T/h/w) + onnx.checker", io_ok,
              f"{os.path.getsize(path):,} bytes, {len(model.graph.node)} nodes, {n_init:,} initializer "
              f"values (decode path {wan_vae.decoder_param_count(SHRUNK):,})")
        check("ONNX graph identical when exported at two sizes (no baked size)", graphs[0] == graphs[1])

        path = os.path.join(tmp, "vae.safetensors")
        safetensors_io.save(vae.state_dict(), path)
        fresh = wan_vae.init_random_(WanVae(SHRUNK), seed=99).eval()
        result = fresh.load_state_dict(safetensors_io.load(path), strict=True)
        z = latent([1, 16, 2, 4, 6], 4)
        with torch.no_grad():
            same = torch.equal(vae.decode_video(z), fresh.decode_video(z))
        check("safetensors round trip, strict load, bitwise same output",
              same and not result.missing_keys and not result.unexpected_keys)

    with torch.no_grad():
        z = latent([3, 16, 2, 4, 6], 5)
        both = vae.decode_video(z)
        d = max((both[i:i + 1] - vae.decode_video(z[i:i + 1])).abs().max().item() for i in range(3))
        check("batch independence (batch 3 vs one at a time)", d <= 1e-5, f"max |diff| {d:.2e}")

    refused = []
    for key, value in (("attn_scales", [1.0]), ("is_residual", True), ("latents_std", [1.0] * 15),
                       ("temperal_downsample", [True, True]), ("dropout", 0.1), ("clip_output", True),
                       ("base_dim", 0)):
        try:
            WanVae(dict(SHRUNK, **{key: value}))
        except ValueError as e:
            refused.append(key in str(e))
        else:
            refused.append(False)
    check("unsupported config values refused with ValueError naming the key", all(refused), str(refused))

    if FAILED:
        print(f"FAILED: {FAILED}")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
