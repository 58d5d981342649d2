"""The WAN 2.1 causal 3-D video VAE (diffusers `AutoencoderKLWan`), our own implementation, with the
WAN pipeline's latent de-normalisation and video post-processing around the decoder, exportable to
ONNX with torch 1.13.

Sources read (not copied):
* huggingface/diffusers at commit 58eb52c0803ea9af3abec60841c2a093bdf1f951 (0.40.0.dev0):
  src/diffusers/models/autoencoders/autoencoder_kl_wan.py (modules, parameter names, `_decode`:
  post_quant_conv, frame-by-frame decoder with feature cache, clamp to [-1, 1]),
  src/diffusers/pipelines/wan/pipeline_wan.py (latents / (1 / latents_std) + latents_mean before
  decode), src/diffusers/image_processor.py (denormalize: x * 0.5 + 0.5),
  scripts/convert_wan_to_diffusers.py `convert_vae` (original -> diffusers names, cross-checked).
* Wan-Video/Wan2.1 at commit 9737cba9c1c3c4d04b33fcad41c111989865d315: wan/modules/vae.py.

Parameter names and shapes are exactly those of the diffusers checkpoint
(`vae/diffusion_pytorch_model.safetensors`, e.g. Wan-AI/Wan2.1-T2V-1.3B-Diffusers), the whole
autoencoder, so `load_state_dict(checkpoint, strict=True)` matches; `expected_keys` lists them
without building anything. The one-pass (whole-sequence) form of the reference's chunked, cached
computation is derived in wan_vae_blocks.py's docstring; test_wan_vae.py checks it against a
frame-by-frame loop that follows the reference.

Config contract: a diffusers vae config.json dict. "_class_name" and "_diffusers_version" are
ignored; a missing key takes diffusers' default; a key we do not know, or a value we do not
support, raises ValueError naming the key. Supported: the WAN 2.1 architecture (is_residual false,
3 in/out channels, no patching, no attention outside the mid blocks, dropout 0 -- inference only),
with any widths, depth (len(dim_mult) >= 2) and temporal pattern. decode_video maps T latent
frames to 1 + tf (T - 1) video frames, tf = 2 ** sum(temperal_downsample), and h x w to
(sf h) x (sf w), sf = 2 ** (len(dim_mult) - 1): 4 and 8 for WAN 2.1.
"""
import copy
import math

import torch
import torch.nn as nn

try:  # the project's scripts import siblings flat (their directory on sys.path)
    from wan_vae_blocks import CausalConv3d, Decoder3d, Encoder3d
except ImportError:  # imported as part of a package
    from .wan_vae_blocks import CausalConv3d, Decoder3d, Encoder3d

# The published WAN 2.1 latent statistics (diffusers AutoencoderKLWan defaults and the
# Wan2.1-T2V-1.3B-Diffusers vae/config.json; the original's WanVAE mean/std lists agree).
LATENTS_MEAN = [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
                0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921]
LATENTS_STD = [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
               3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160]

FULL = {
    "_class_name": "AutoencoderKLWan",
    "base_dim": 96, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_scales": [],
    "temperal_downsample": [False, True, True], "dropout": 0.0,
    "latents_mean": list(LATENTS_MEAN), "latents_std": list(LATENTS_STD),
}
# Same structure and compression (4x time, 8x space, z_dim 16), tiny widths: decoder up blocks
# have num_res_blocks + 1 = 2 resnets each, encoder levels 1.
SHRUNK = dict(copy.deepcopy(FULL), base_dim=8, num_res_blocks=1)

_IGNORED = ("_class_name", "_diffusers_version")
# diffusers' AutoencoderKLWan.__init__ defaults, for keys a config.json leaves out.
_DEFAULTS = {
    "base_dim": 96, "decoder_base_dim": None, "z_dim": 16, "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2, "attn_scales": [], "temperal_downsample": [False, True, True],
    "dropout": 0.0, "latents_mean": LATENTS_MEAN, "latents_std": LATENTS_STD,
    "is_residual": False, "in_channels": 3, "out_channels": 3, "patch_size": None,
    "scale_factor_temporal": 4, "scale_factor_spatial": 8,
}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_config(config):
    """The validated config with defaults filled in (a new dict); ValueError names the bad key."""
    if not isinstance(config, dict):
        raise ValueError(f"vae config must be a dict, not {type(config).__name__}")
    unknown = sorted(k for k in config if k not in _DEFAULTS and k not in _IGNORED)
    if unknown:
        raise ValueError(f"vae config: unsupported key(s) {unknown}")
    c = copy.deepcopy(_DEFAULTS)
    c.update({k: copy.deepcopy(v) for k, v in config.items() if k not in _IGNORED})

    def bad(key, want):
        raise ValueError(f"vae config {key!r} = {c[key]!r}: supported is {want}")

    for key in ("base_dim", "z_dim", "num_res_blocks"):
        if not _is_int(c[key]) or c[key] < 1:
            bad(key, "a positive int")
    if c["decoder_base_dim"] is not None and (not _is_int(c["decoder_base_dim"]) or c["decoder_base_dim"] < 1):
        bad("decoder_base_dim", "null or a positive int")
    dm = c["dim_mult"]
    if not isinstance(dm, list) or len(dm) < 2 or not all(_is_int(m) and m >= 1 for m in dm):
        bad("dim_mult", "a list of >= 2 positive ints")
    td = c["temperal_downsample"]
    if not isinstance(td, list) or len(td) != len(dm) - 1 or not all(isinstance(b, bool) for b in td):
        bad("temperal_downsample", f"a list of {len(dm) - 1} bools (one per downsampling level)")
    if c["attn_scales"] != []:
        bad("attn_scales", "[] (attention only in the mid blocks, as WAN 2.1)")
    if not _is_num(c["dropout"]) or c["dropout"] != 0:
        bad("dropout", "0.0 (inference only)")
    if c["is_residual"] is not False:
        bad("is_residual", "false (the WAN 2.1 VAE; 2.2's residual blocks are not implemented)")
    for key in ("in_channels", "out_channels"):
        if c[key] != 3 or not _is_int(c[key]):
            bad(key, "3 (RGB)")
    if c["patch_size"] not in (None, 1):
        bad("patch_size", "null or 1 (no patchify)")
    for key in ("latents_mean", "latents_std"):
        v = c[key]
        if not isinstance(v, list) or len(v) != c["z_dim"] or not all(_is_num(x) for x in v):
            bad(key, f"a list of z_dim = {c['z_dim']} finite numbers")
    if any(s == 0 for s in c["latents_std"]):
        bad("latents_std", "non-zero values")
    tf, sf = 2 ** sum(td), 2 ** (len(dm) - 1)
    if c["scale_factor_temporal"] not in (None, tf):
        bad("scale_factor_temporal", f"null or {tf} (what temperal_downsample implies)")
    if c["scale_factor_spatial"] not in (None, sf):
        bad("scale_factor_spatial", f"null or {sf} (what dim_mult implies)")
    c["scale_factor_temporal"], c["scale_factor_spatial"] = tf, sf
    if c["decoder_base_dim"] is None:
        c["decoder_base_dim"] = c["base_dim"]
    return c


class WanVae(nn.Module):
    """The whole WAN 2.1 autoencoder: encoder, quant_conv, post_quant_conv, decoder (diffusers
    names). device="meta" builds it without allocating (for name/shape checks of the full size)."""

    def __init__(self, config, device=None):
        super().__init__()
        c = self.config = parse_config(config)
        z = c["z_dim"]
        self.encoder = Encoder3d(c["base_dim"], 2 * z, c["dim_mult"], c["num_res_blocks"],
                                 c["temperal_downsample"], in_channels=c["in_channels"], device=device)
        self.quant_conv = CausalConv3d(2 * z, 2 * z, 1, device=device)
        self.post_quant_conv = CausalConv3d(z, z, 1, device=device)
        self.decoder = Decoder3d(c["decoder_base_dim"], z, c["dim_mult"], c["num_res_blocks"],
                                 c["temperal_downsample"][::-1], out_channels=c["out_channels"], device=device)
        # Not in the checkpoint (persistent=False keeps strict loading exact). The pipeline divides
        # by 1/std rather than multiplying by std; kept so, for the same float32 rounding.
        shape = (1, z, 1, 1, 1)
        mean = torch.tensor(c["latents_mean"], dtype=torch.float32).view(shape)
        inv_std = 1.0 / torch.tensor(c["latents_std"], dtype=torch.float32).view(shape)
        self.register_buffer("latents_mean", mean.to(device) if device else mean, persistent=False)
        self.register_buffer("latents_inv_std", inv_std.to(device) if device else inv_std, persistent=False)

    def denormalize_latent(self, latent):
        """The transformer's (normalised) latent -> the VAE's latent, as pipeline_wan.py does."""
        return latent / self.latents_inv_std + self.latents_mean

    def decode_latent(self, z):
        """VAE latent [B, z, T, h, w] -> decoder output [B, 3, 1 + tf (T-1), sf h, sf w], clamped
        to [-1, 1] (AutoencoderKLWan._decode, one pass)."""
        return self.decoder(self.post_quant_conv(z)).clamp(-1.0, 1.0)

    def decode_video(self, latent):
        """latent float32 [B, z_dim, T, h, w] as the transformer produces it (normalised) ->
        video float32 [B, 1 + 4 (T - 1), 8 h, 8 w, 3] in [0, 1] (a channels-last view)."""
        x = self.decode_latent(self.denormalize_latent(latent))
        return (x * 0.5 + 0.5).permute(0, 2, 3, 4, 1)

    def encode_video(self, video):
        """video float32 [B, N, H, W, 3] in [0, 1] -> normalised posterior mean [B, z_dim,
        1 + (N - 1) // 4, H / 8, W / 8] as the WAN image-to-video pipeline uses it
        ((mu - mean) * (1 / std)). Like the reference's chunk loop (1 frame, then 4 at a time), the
        frames past 1 + 4 ((N - 1) // 4) are dropped. Eager use only: the frame count is read as
        a Python int here (the decoder is the exported part)."""
        x = video.permute(0, 4, 1, 2, 3) * 2.0 - 1.0
        tf = self.config["scale_factor_temporal"]
        n = int(x.shape[2])
        x = x[:, :, :1 + tf * ((n - 1) // tf)]
        mu = self.quant_conv(self.encoder(x))[:, :self.config["z_dim"]]
        return (mu - self.latents_mean) * self.latents_inv_std


class DecodeVideo(nn.Module):
    """decode_video as a module's forward, for torch.onnx.export."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent):
        return self.vae.decode_video(latent)


def export_decoder_onnx(vae, path, example_latent, opset_version=17):
    """Writes decode_video as ONNX by the exporter's own path (onnx_export.export): input "latent"
    [batch, z, T, h, w], output "video" [batch, frames, H, W, 3], all four sizes dynamic; only the
    weights the decode path uses are written."""
    if opset_version != 17:
        raise ValueError(f"opset_version is {opset_version}; the exporter writes opset 17")
    import onnx_export  # the export path, not the network's: imported only when exporting
    onnx_export.export(DecodeVideo(vae).eval(), (example_latent,), path, ["latent"], ["video"],
                       {"latent": {0: "batch", 2: "T", 3: "h", 4: "w"},
                        "video": {0: "batch", 1: "frames", 2: "H", 3: "W"}}, external=False)


def init_random_(module, seed):
    """Deterministic random init (parameters visited by name, one generator): conv weights
    N(0, 1 / fan_in) (variance-preserving; RMS norms re-scale between convs, so depth does not
    blow it up), biases N(0, 0.02^2), norm gammas 1 + N(0, 0.1^2). The shrunk decoder's output is
    then spread over [-1, 1] with a minority clamped."""
    g = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for name, p in sorted(module.named_parameters(), key=lambda kv: kv[0]):
            if p.device.type == "meta":
                raise ValueError("init_random_: parameters are on the meta device")
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith(".gamma"):
                value = 1.0 + 0.1 * noise
            elif name.endswith(".bias"):
                value = 0.02 * noise
            else:
                value = noise / math.sqrt(max(1, p[0].numel()))
            p.copy_(value.to(p.dtype))
    return module


def expected_keys(config):
    """{name: shape} of every parameter of the diffusers checkpoint for this config, computed from
    the naming scheme (diffusers AutoencoderKLWan / convert_wan_to_diffusers.py), nothing built."""
    c = parse_config(config)
    keys = {}

    def conv(name, cin, cout, *kernel):
        keys[name + ".weight"] = (cout, cin) + tuple(kernel)
        keys[name + ".bias"] = (cout,)

    def resnet(p, cin, cout):
        keys[p + ".norm1.gamma"] = (cin, 1, 1, 1)
        conv(p + ".conv1", cin, cout, 3, 3, 3)
        keys[p + ".norm2.gamma"] = (cout, 1, 1, 1)
        conv(p + ".conv2", cout, cout, 3, 3, 3)
        if cin != cout:
            conv(p + ".conv_shortcut", cin, cout, 1, 1, 1)

    def mid(p, d):
        resnet(p + ".resnets.0", d, d)
        keys[p + ".attentions.0.norm.gamma"] = (d, 1, 1)
        conv(p + ".attentions.0.to_qkv", d, 3 * d, 1, 1)
        conv(p + ".attentions.0.proj", d, d, 1, 1)
        resnet(p + ".resnets.1", d, d)

    z, dm, nr, levels = c["z_dim"], c["dim_mult"], c["num_res_blocks"], len(c["dim_mult"])
    # encoder: flat down_blocks, per level nr resnets then (not last level) a Resample
    dims = [c["base_dim"] * m for m in [1] + dm]
    conv("encoder.conv_in", 3, dims[0], 3, 3, 3)
    idx = 0
    for i in range(levels):
        cin = dims[i]
        for _ in range(nr):
            resnet(f"encoder.down_blocks.{idx}", cin, dims[i + 1])
            cin, idx = dims[i + 1], idx + 1
        if i != levels - 1:
            d = dims[i + 1]
            conv(f"encoder.down_blocks.{idx}.resample.1", d, d, 3, 3)
            if c["temperal_downsample"][i]:
                conv(f"encoder.down_blocks.{idx}.time_conv", d, d, 3, 1, 1)
            idx += 1
    mid("encoder.mid_block", dims[-1])
    keys["encoder.norm_out.gamma"] = (dims[-1], 1, 1, 1)
    conv("encoder.conv_out", dims[-1], 2 * z, 3, 3, 3)
    conv("quant_conv", 2 * z, 2 * z, 1, 1, 1)
    conv("post_quant_conv", z, z, 1, 1, 1)
    # decoder: widths dim * [m[-1]] + m reversed; up block i in = dims[i] (// 2 for i > 0)
    dims = [c["decoder_base_dim"] * m for m in [dm[-1]] + dm[::-1]]
    up3d = c["temperal_downsample"][::-1]
    conv("decoder.conv_in", z, dims[0], 3, 3, 3)
    mid("decoder.mid_block", dims[0])
    for i in range(levels):
        cin, cout = (dims[i] if i == 0 else dims[i] // 2), dims[i + 1]
        for j in range(nr + 1):
            resnet(f"decoder.up_blocks.{i}.resnets.{j}", cin, cout)
            cin = cout
        if i != levels - 1:
            conv(f"decoder.up_blocks.{i}.upsamplers.0.resample.1", cout, cout // 2, 3, 3)
            if up3d[i]:
                conv(f"decoder.up_blocks.{i}.upsamplers.0.time_conv", cout, 2 * cout, 3, 1, 1)
    keys["decoder.norm_out.gamma"] = (dims[-1], 1, 1, 1)
    conv("decoder.conv_out", dims[-1], 3, 3, 3, 3)
    return keys


def _count(shapes):
    return sum(math.prod(s) for s in shapes)


def param_count(config):
    """Parameters of the whole autoencoder (encoder, quant convs, decoder)."""
    return _count(expected_keys(config).values())


def decoder_param_count(config):
    """Parameters decode_video uses (and the exported decoder ONNX holds): post_quant_conv + decoder."""
    return _count(s for n, s in expected_keys(config).items()
                  if n.startswith("decoder.") or n.startswith("post_quant_conv."))
