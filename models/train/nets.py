"""The model family: text encoder, video autoencoder, DiT velocity model, evaluator.

Written with plain matmul/softmax attention (no fused kernels) so torch 1.13 exports every
module to ONNX opset 16 and ONNX Runtime runs it unchanged.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, dim, heads, kv_dim=None):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(kv_dim or dim, 2 * dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        b, n, d = x.shape
        m = ctx.shape[1]
        h = self.heads
        q = self.q(x).reshape(b, n, h, d // h).transpose(1, 2)
        k, v = self.kv(ctx).reshape(b, m, 2, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(d // h)), dim=-1)
        return self.o((att @ v).transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim, ratio=4):
        super().__init__()
        self.fc1 = nn.Linear(dim, dim * ratio)
        self.fc2 = nn.Linear(dim * ratio, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class TextEncoder(nn.Module):
    """token ids [B, L] int64 -> context [B, L, D]. Trained on prompt attributes, then frozen."""

    def __init__(self, vocab, max_tokens, dim=64, depth=2, heads=4, n_classes=(6, 3, 4)):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(1, max_tokens, dim) * 0.02)
        self.blocks = nn.ModuleList()
        for _ in range(depth):
            self.blocks.append(nn.ModuleList([nn.LayerNorm(dim), Attention(dim, heads), nn.LayerNorm(dim), Mlp(dim)]))
        self.norm = nn.LayerNorm(dim)
        self.heads = nn.ModuleList([nn.Linear(dim, n) for n in n_classes])  # training only

    def forward(self, ids):
        x = self.embed(ids) + self.pos
        for n1, att, n2, mlp in self.blocks:
            x = x + att(n1(x))
            x = x + mlp(n2(x))
        return self.norm(x)

    def classify(self, ids):
        pooled = self.forward(ids).mean(dim=1)
        return [h(pooled) for h in self.heads]


def _conv(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.GroupNorm(8, cout), nn.SiLU())


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(nn.GroupNorm(8, ch), nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1),
                                  nn.GroupNorm(8, ch), nn.SiLU(), nn.Conv2d(ch, ch, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


TUBELET = 4   # frames per latent frame (WAN: 4x in time)
SPATIAL = 4   # pixels per latent cell (WAN: 8x; our 32x32 frames keep 8x8 cells, and the DiT patchifies 2x2)


def to_tubelets(video):
    """[B, F, H, W, 3] -> [B*F/4, 4*3, H, W]: each 4-frame chunk stacked on channels."""
    b, f, h, w, c = video.shape
    x = video.reshape(b, f // TUBELET, TUBELET, h, w, c).permute(0, 1, 2, 5, 3, 4)
    return x.reshape(b * (f // TUBELET), TUBELET * c, h, w)


def from_tubelets(x, b):
    """[B*F/4, 4*3, H, W] -> [B, F, H, W, 3]."""
    n, tc, h, w = x.shape
    x = x.reshape(b, n // b, TUBELET, tc // TUBELET, h, w).permute(0, 1, 2, 4, 5, 3)
    return x.reshape(b, (n // b) * TUBELET, h, w, tc // TUBELET)


class VideoEncoder(nn.Module):
    """video [B, F, H, W, 3] in [0,1] -> latent [B, C, F/4, H/4, W/4], normalised to unit scale.

    A tubelet autoencoder: 4 frames x 4x4 pixels per latent voxel, built from 2D convolutions over
    frame-stacked channels so it trains on a 2-core CPU in minutes.
    """

    def __init__(self, channels=8, width=32):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            _conv(TUBELET * 3, w), _conv(w, 2 * w, 2), _conv(2 * w, 3 * w, 2), ResBlock(3 * w),
            nn.Conv2d(3 * w, channels, 1))
        self.register_buffer("shift", torch.zeros(1, channels, 1, 1, 1))
        self.register_buffer("scale", torch.ones(1, channels, 1, 1, 1))

    def raw(self, video):
        b, f = video.shape[:2]
        z = self.net(to_tubelets(video) * 2 - 1)           # [B*F/4, C, h, w]
        n, c, h, w = z.shape
        return z.reshape(b, f // TUBELET, c, h, w).transpose(1, 2)

    def forward(self, video):
        return (self.raw(video) - self.shift) / self.scale


class VideoDecoder(nn.Module):
    """latent [B, C, F/4, H/4, W/4] -> video [B, F, H, W, 3] in [0,1]."""

    def __init__(self, channels=8, width=32):
        super().__init__()
        w = width
        up = lambda cin, cout: nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), _conv(cin, cout))
        self.net = nn.Sequential(
            _conv(channels, 3 * w), ResBlock(3 * w), ResBlock(3 * w),
            up(3 * w, 2 * w), up(2 * w, 24), nn.Conv2d(24, TUBELET * 3, 3, padding=1))
        self.register_buffer("shift", torch.zeros(1, channels, 1, 1, 1))
        self.register_buffer("scale", torch.ones(1, channels, 1, 1, 1))

    def raw(self, z):
        b, c, t, h, w = z.shape
        x = self.net(z.transpose(1, 2).reshape(b * t, c, h, w))
        return from_tubelets(torch.sigmoid(x), b)

    def forward(self, latent):
        return self.raw(latent * self.scale + self.shift)


def timestep_embedding(t, dim):
    """Sinusoidal embedding of timestep t in [0, 1000] (WAN/diffusers convention)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class DiTBlock(nn.Module):
    def __init__(self, dim, heads, ctx_dim):
        super().__init__()
        self.n1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.n2 = nn.LayerNorm(dim, eps=1e-6)
        self.cross = Attention(dim, heads, kv_dim=ctx_dim)
        self.n3 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(dim)
        # WAN-style: one shared time projection, a learned per-block offset on the six modulations
        self.mod = nn.Parameter(torch.randn(1, 6, dim) / math.sqrt(dim))

    def forward(self, x, t6, ctx):
        sh1, sc1, g1, sh2, sc2, g2 = (t6 + self.mod).unbind(1)
        x = x + g1[:, None] * self.attn(self.n1(x) * (1 + sc1[:, None]) + sh1[:, None])
        x = x + self.cross(self.n2(x), ctx)
        x = x + g2[:, None] * self.mlp(self.n3(x) * (1 + sc2[:, None]) + sh2[:, None])
        return x


class VelocityDiT(nn.Module):
    """Rectified-flow velocity model (WAN 2.1 layout: self-attn, text cross-attn, FFN, adaLN time).

    latent [B, C, F, H, W], timestep [B] (1000*sigma), context [B, L, D] -> velocity [B, C, F, H, W].
    Patches of 1x2x2 latent voxels (WAN's patch size) are the tokens.
    """

    P = 2

    def __init__(self, latent_shape, ctx_dim, dim, depth, heads):
        super().__init__()
        c, f, h, w = latent_shape
        self.latent_shape = latent_shape
        self.tokens = f * (h // self.P) * (w // self.P)
        self.patch = nn.Linear(c * self.P * self.P, dim)
        self.pos = nn.Parameter(torch.randn(1, self.tokens, dim) * 0.02)
        self.text = nn.Sequential(nn.Linear(ctx_dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.freq_dim = 128
        self.time = nn.Sequential(nn.Linear(self.freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.time6 = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        self.blocks = nn.ModuleList([DiTBlock(dim, heads, dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.head_mod = nn.Parameter(torch.randn(1, 2, dim) / math.sqrt(dim))
        self.out = nn.Linear(dim, c * self.P * self.P)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.dim = dim

    def forward(self, latent, timestep, context):
        b = latent.shape[0]
        c, f, h, w = self.latent_shape
        p = self.P
        tok = latent.reshape(b, c, f, h // p, p, w // p, p).permute(0, 2, 3, 5, 1, 4, 6)
        x = self.patch(tok.reshape(b, self.tokens, c * p * p)) + self.pos
        temb = self.time(timestep_embedding(timestep, self.freq_dim))
        t6 = self.time6(temb).reshape(b, 6, self.dim)
        ctx = self.text(context)
        for blk in self.blocks:
            x = blk(x, t6, ctx)
        sh, sc = (self.head_mod + temb[:, None]).unbind(1)
        x = self.out(self.norm(x) * (1 + sc[:, None]) + sh[:, None])
        x = x.reshape(b, f, h // p, w // p, c, p, p).permute(0, 4, 1, 2, 5, 3, 6)
        return x.reshape(b, c, f, h, w)


class Evaluator(nn.Module):
    """video [B, F, H, W, 3] in [0,1] -> per-attribute logits and a feature vector [B, feat].

    Early fusion: all frames stacked on channels, so the first convolutions see motion directly.
    With regions > 1 the last feature map is pooled over that many vertical strips (left to right)
    and the pools concatenated, so heads about one part of the frame see where things are.
    """

    def __init__(self, frames, n_classes=(6, 3, 4), width=32, feat=64, regions=1):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            _conv(frames * 3, 2 * w), _conv(2 * w, 2 * w, 2), ResBlock(2 * w),
            _conv(2 * w, 4 * w, 2), ResBlock(4 * w), _conv(4 * w, 4 * w, 2))
        self.regions = regions
        self.feat = nn.Linear(4 * w * regions, feat)
        self.heads = nn.ModuleList([nn.Linear(feat, n) for n in n_classes])

    def forward(self, video):
        b, f, h, w, c = video.shape
        x = video.permute(0, 1, 4, 2, 3).reshape(b, f * c, h, w) * 2 - 1
        m = self.net(x)
        if self.regions == 1:
            pooled = m.mean(dim=(2, 3))
        else:
            n, ch, mh, mw = m.shape
            pooled = m.reshape(n, ch, mh, self.regions, mw // self.regions).mean(dim=(2, 4)).reshape(n, -1)
        f = self.feat(pooled)
        return [h(F.gelu(f)) for h in self.heads] + [f]
