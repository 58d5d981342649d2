"""Building blocks of the WAN 2.1 causal 3-D video VAE (see wan_vae.py for the model, the sources
read, and the config contract).

Every module here computes over the WHOLE frame sequence at once. The reference decodes one latent
frame at a time (encodes 1 + 4 + 4 ... frames at a time) with a feature cache of the last
CACHE_T = 2 inputs of every causal conv; the one-pass forms below are derived from that loop:

* CausalConv3d (temporal kernel 3, padding 1): the reference concatenates the cached previous input
  frames in front of the chunk and zero-pads whatever the cache lacks (2 frames before frame 0, 1
  before frame 1). Over the whole sequence that is: 2 zero frames in front, then a plain Conv3d.
  Spatial padding is symmetric and applied after the cache is joined, as here.
* Residual and attention blocks: norms, SiLU and the attention act per frame (attention mixes the
  h*w positions of one frame only), so chunking does not change them.
* upsample3d (decoder): on the first chunk the reference stores "Rep" and skips time_conv, so frame
  0 passes undoubled. On the next chunk "Rep" means no cache: time_conv zero-pads 2 frames, and the
  cache it keeps is [zeros, x1] (a 1-frame chunk) or the chunk's last 2 frames. Hence the time_conv
  output at frame k >= 1 sees (x[k-2], x[k-1], x[k]) with x[0] and anything before it replaced by
  zeros: a causal conv over x[1:] with 2 zero frames in front. Its 2*c output channels become
  frames (2k-1, 2k) of the result as the reference's reshape(b, 2, c, t, h, w) + stack(dim=3) puts
  them: channels [:c] first, channels [c:] second. Result: 1 + 2 (T - 1) frames. Then the 2-D
  nearest 2x upsample + Conv2d runs per frame.
* downsample3d (encoder): spatial Conv2d per frame first; the first chunk keeps its frame and caches
  it; each later chunk runs the stride-2, unpadded time_conv over [last cached frame, chunk]. Over
  the whole sequence: out[0] = s[0], out[j] = time_conv(s[2j-2], s[2j-1], s[2j]) for j >= 1, i.e. a
  stride-2 valid conv over the whole sequence placed after frame 0.

ONNX contract (torch 1.13, opset 17, dynamic batch/T/h/w): no Python int taken from an input shape
reaches an op; sizes travel as traced shape values (x.shape under tracing), -1, flatten, or
reshape_as. No empty tensor is ever made (T = 1 included): where the one-pass form would drop the
frame-0 output of a time_conv, it computes it and replaces it with torch.where instead of slicing
a 0-frame tensor, so runtimes that mishandle zero-size tensors are never asked to.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

CACHE_T = 2  # the reference's cache depth: the temporal kernel is 3, so 2 frames of history


def _triple(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v, v)


def frames_to_batch(x):
    """[b, c, t, h, w] -> [(b t), c, h, w], frame-major within a sample (the reference's
    rearrange 'b c t h w -> (b t) c h w')."""
    return x.transpose(1, 2).flatten(0, 1)


def batch_to_frames(y, b):
    """Inverse of frames_to_batch for a per-frame result y [(b t), c', h', w']; b is x.shape[0]."""
    return y.reshape(b, -1, y.shape[1], y.shape[2], y.shape[3]).transpose(1, 2)


def first_frame_mask(x):
    """Bool [1, 1, t, 1, 1], True at frame 0 only, t = x.shape[2] (traced, not baked)."""
    return (torch.arange(x.shape[2], device=x.device) == 0).view(1, 1, -1, 1, 1)


class CausalConv3d(nn.Conv3d):
    """Conv3d whose temporal padding p_t is applied as 2*p_t zero frames in front and none behind
    (the reference's CausalConv3d with no cache = the whole-sequence form, see the module
    docstring). Parameters: weight [out, in, kt, kh, kw], bias [out]."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0, device=None):
        super().__init__(cin, cout, kernel, stride=stride, padding=0, device=device)
        pt, ph, pw = _triple(padding)
        # F.pad order: (w_left, w_right, h_top, h_bottom, t_front, t_back)
        self.causal_pad = (pw, pw, ph, ph, 2 * pt, 0)

    def forward(self, x):
        if any(self.causal_pad):
            x = F.pad(x, self.causal_pad)
        return super().forward(x)


class RMSNorm(nn.Module):
    """The reference's RMS_norm (channel-first, no bias): F.normalize over channels (x / max(||x||,
    1e-12)) * sqrt(dim) * gamma. gamma is [dim, 1, 1] for images (4-D input), [dim, 1, 1, 1] for
    video (5-D input), as in the checkpoint."""

    def __init__(self, dim, images, device=None):
        super().__init__()
        shape = (dim, 1, 1) if images else (dim, 1, 1, 1)
        self.scale = dim ** 0.5
        self.gamma = nn.Parameter(torch.ones(shape, device=device))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.scale * self.gamma


class ResidualBlock(nn.Module):
    """norm1 -> SiLU -> conv1 (3x3x3 causal) -> norm2 -> SiLU -> (dropout, 0 here) -> conv2, plus the
    input through conv_shortcut (1x1x1) when the width changes. Names as diffusers'
    WanResidualBlock: norm1.gamma, conv1.*, norm2.gamma, conv2.*, conv_shortcut.*."""

    def __init__(self, cin, cout, device=None):
        super().__init__()
        self.norm1 = RMSNorm(cin, images=False, device=device)
        self.conv1 = CausalConv3d(cin, cout, 3, padding=1, device=device)
        self.norm2 = RMSNorm(cout, images=False, device=device)
        self.conv2 = CausalConv3d(cout, cout, 3, padding=1, device=device)
        self.conv_shortcut = CausalConv3d(cin, cout, 1, device=device) if cin != cout else None

    def forward(self, x):
        h = x if self.conv_shortcut is None else self.conv_shortcut(x)
        x = self.conv1(F.silu(self.norm1(x)))
        x = self.conv2(F.silu(self.norm2(x)))
        return x + h


class AttentionBlock(nn.Module):
    """Single-head self-attention over the h*w positions of each frame separately, with residual.
    q, k, v are channels [0:c], [c:2c], [2c:3c] of to_qkv (the reference's reshape to
    [bt, 1, 3c, hw], permute, chunk on the last dim); softmax(q^T k / sqrt(c)) as
    scaled_dot_product_attention's default scale, written as matmul + softmax for torch 1.13."""

    def __init__(self, dim, device=None):
        super().__init__()
        self.dim = dim
        self.norm = RMSNorm(dim, images=True, device=device)
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1, device=device)
        self.proj = nn.Conv2d(dim, dim, 1, device=device)

    def forward(self, x):
        identity = x
        f = self.norm(frames_to_batch(x))                    # [(b t), c, h, w]
        q, k, v = self.to_qkv(f).flatten(2).chunk(3, dim=1)  # each [(b t), c, hw]
        attn = torch.matmul(q.transpose(1, 2), k) * (1.0 / self.dim ** 0.5)
        attn = torch.softmax(attn, dim=-1)                   # [(b t), hw(query), hw(key)]
        out = torch.matmul(v, attn.transpose(1, 2))          # [(b t), c, hw]
        out = self.proj(out.reshape_as(f))
        return batch_to_frames(out, x.shape[0]) + identity


class MidBlock(nn.Module):
    """resnets.0 -> attentions.0 -> resnets.1 (diffusers' WanMidBlock with num_layers=1)."""

    def __init__(self, dim, device=None):
        super().__init__()
        self.attentions = nn.ModuleList([AttentionBlock(dim, device=device)])
        self.resnets = nn.ModuleList([ResidualBlock(dim, dim, device=device),
                                      ResidualBlock(dim, dim, device=device)])

    def forward(self, x):
        x = self.resnets[0](x)
        return self.resnets[1](self.attentions[0](x))


class Resample(nn.Module):
    """The reference's WanResample. resample.1 is the per-frame Conv2d (resample.0 holds no
    parameters: the 2x nearest upsample, or the (0,1,0,1) zero pad before the stride-2 conv).
    Upsampling halves the width (dim -> dim // 2, WAN 2.1). The 3-D modes add time_conv:
    upsample3d [2*dim, dim, 3, 1, 1] causal; downsample3d [dim, dim, 3, 1, 1] stride 2, no pad.

    The reference's "nearest-exact" and "nearest" coincide at an exact 2x factor (source index
    floor((i + 0.5) / 2) == floor(i / 2) for integer i); "nearest" is used because torch 1.13
    exports it to ONNX Resize."""

    def __init__(self, dim, mode, device=None):
        super().__init__()
        self.dim, self.mode = dim, mode
        if mode in ("upsample2d", "upsample3d"):
            self.resample = nn.Sequential(
                nn.Upsample(scale_factor=2.0, mode="nearest"),
                nn.Conv2d(dim, dim // 2, 3, padding=1, device=device))
        elif mode in ("downsample2d", "downsample3d"):
            self.resample = nn.Sequential(
                nn.ZeroPad2d((0, 1, 0, 1)),
                nn.Conv2d(dim, dim, 3, stride=2, device=device))
        else:
            raise ValueError(f"Resample mode {mode!r}")
        if mode == "upsample3d":
            self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0), device=device)
        elif mode == "downsample3d":
            self.time_conv = CausalConv3d(dim, dim, (3, 1, 1), stride=(2, 1, 1), device=device)
        else:
            self.time_conv = None

    def spatial(self, x):
        return batch_to_frames(self.resample(frames_to_batch(x)), x.shape[0])

    def forward(self, x):
        if self.mode == "upsample3d":
            x = self.temporal_upsample(x)
        x = self.spatial(x)
        if self.mode == "downsample3d":
            x = self.temporal_downsample(x)
        return x

    def temporal_upsample(self, x):
        """[b, c, T, h, w] -> [b, c, 1 + 2 (T - 1), h, w] (module docstring for the derivation).
        time_conv runs over [0, 0, 0, x1, ..., x_{T-1}] (frame 0 zeroed, causal pad 2), i.e. all T
        positions; the frame-0 output is computed and then overwritten by x0, so T = 1 needs no
        empty tensor."""
        first = first_frame_mask(x)
        y = self.time_conv(x * (~first).to(x.dtype))           # [b, 2c, T, h, w]
        a, b = y.chunk(2, dim=1)                                 # frames 2k and 2k+1 of 2T
        y = torch.stack((a, b), dim=3).flatten(2, 3)[:, :, 1:]   # [b, c, 2T - 1, h, w]
        return torch.where(first_frame_mask(y), x[:, :, :1], y)

    def temporal_downsample(self, s):
        """[b, c, N, h, w] (N = 1 + 2m) -> [b, c, 1 + m, h, w]. The stride-2 conv over
        [0, 0, s0, s1, ...] yields a junk output at 0 (window [0, 0, s0]) then the windows
        (s[2j-2], s[2j-1], s[2j]); the junk slot is replaced by s0."""
        y = F.conv3d(F.pad(s, (0, 0, 0, 0, 2, 0)), self.time_conv.weight, self.time_conv.bias,
                     stride=self.time_conv.stride)
        return torch.where(first_frame_mask(y), s[:, :, :1], y)


class UpBlock(nn.Module):
    """num_res_blocks + 1 residual blocks, then (all levels but the last) upsamplers.0."""

    def __init__(self, cin, cout, num_res_blocks, upsample_mode, device=None):
        super().__init__()
        dims = [cin] + [cout] * (num_res_blocks + 1)
        self.resnets = nn.ModuleList([ResidualBlock(i, o, device=device) for i, o in zip(dims[:-1], dims[1:])])
        self.upsamplers = (nn.ModuleList([Resample(cout, upsample_mode, device=device)])
                           if upsample_mode else None)

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        return x if self.upsamplers is None else self.upsamplers[0](x)


class Decoder3d(nn.Module):
    """diffusers' WanDecoder3d (is_residual False). Widths dims = dim * [m[-1], m[-1], ..., m[0]]
    (dim_mult reversed, the last repeated in front); up block i takes dims[i] (halved for i > 0,
    as the previous upsampler halved it) to dims[i + 1]. temperal_upsample is temperal_downsample
    reversed; the last level does not upsample."""

    def __init__(self, dim, z_dim, dim_mult, num_res_blocks, temperal_upsample, out_channels=3, device=None):
        super().__init__()
        dims = [dim * u for u in [dim_mult[-1]] + list(dim_mult[::-1])]
        self.conv_in = CausalConv3d(z_dim, dims[0], 3, padding=1, device=device)
        self.mid_block = MidBlock(dims[0], device=device)
        self.up_blocks = nn.ModuleList()
        for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:])):
            if i > 0:
                cin //= 2
            mode = None
            if i != len(dim_mult) - 1:
                mode = "upsample3d" if temperal_upsample[i] else "upsample2d"
            self.up_blocks.append(UpBlock(cin, cout, num_res_blocks, mode, device=device))
        self.norm_out = RMSNorm(dims[-1], images=False, device=device)
        self.conv_out = CausalConv3d(dims[-1], out_channels, 3, padding=1, device=device)

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for up in self.up_blocks:
            x = up(x)
        return self.conv_out(F.silu(self.norm_out(x)))


class Encoder3d(nn.Module):
    """diffusers' WanEncoder3d (is_residual False, no attention in down_blocks): a flat down_blocks
    list of, per level i, num_res_blocks residual blocks dims[i] -> dims[i+1] then (all levels but
    the last) a downsample2d/3d Resample; mid_block; norm_out; conv_out to 2 * z_dim (mean, logvar)."""

    def __init__(self, dim, z_dim2, dim_mult, num_res_blocks, temperal_downsample, in_channels=3, device=None):
        super().__init__()
        dims = [dim * u for u in [1] + list(dim_mult)]
        self.conv_in = CausalConv3d(in_channels, dims[0], 3, padding=1, device=device)
        blocks = []
        for i, (cin, cout) in enumerate(zip(dims[:-1], dims[1:])):
            for _ in range(num_res_blocks):
                blocks.append(ResidualBlock(cin, cout, device=device))
                cin = cout
            if i != len(dim_mult) - 1:
                mode = "downsample3d" if temperal_downsample[i] else "downsample2d"
                blocks.append(Resample(cout, mode, device=device))
        self.down_blocks = nn.ModuleList(blocks)
        self.mid_block = MidBlock(dims[-1], device=device)
        self.norm_out = RMSNorm(dims[-1], images=False, device=device)
        self.conv_out = CausalConv3d(dims[-1], z_dim2, 3, padding=1, device=device)

    def forward(self, x):
        x = self.conv_in(x)
        for layer in self.down_blocks:
            x = layer(x)
        x = self.mid_block(x)
        return self.conv_out(F.silu(self.norm_out(x)))
