"""WAN 2.1 text-to-video transformer, our own float32 PyTorch implementation, shaped so that a diffusers
checkpoint (`transformer/diffusion_pytorch_model*.safetensors` of Wan-AI/Wan2.1-T2V-{1.3B,14B}-Diffusers)
loads into it with `load_state_dict(..., strict=True)`, and written so that `torch.onnx.export` (torch 1.13,
opset 17) produces a graph with dynamic batch / frames / height / width.

Sources read (written from them, not copied):
  * huggingface/diffusers @ 58eb52c0803ea9af3abec60841c2a093bdf1f951,
    src/diffusers/models/transformers/transformer_wan.py (last changed af95be6b), embeddings.py
    (Timesteps / TimestepEmbedding / PixArtAlphaTextProjection / get_1d_rotary_pos_embed), attention.py
    (FeedForward), activations.py (GELU), normalization.py (FP32LayerNorm); the first version of
    transformer_wan.py (2d8a41ca, 2025-03-02, the one the published checkpoints were converted with) has
    the same config keys and parameter names for T2V; scripts/convert_wan_to_diffusers.py (name map and
    the Wan-T2V-1.3B / -14B configs).
  * Wan-Video/Wan2.1 @ 9737cba9c1c3c4d04b33fcad41c111989865d315, wan/modules/model.py.

Math (per sample; D = num_attention_heads * attention_head_dim, d = attention_head_dim):
  x = Conv3d(patch)(latent) -> tokens [B, S, D] in (frame, row, column) order
  e = sinusoid(t, freq_dim) as [cos | sin], freqs exp(-ln(1e4) * i / (freq_dim/2)) (diffusers' float32;
      the original computes it in float64: |angle error| <= ~1e-4 rad at t = 1000)
  temb = linear_2(silu(linear_1(e)));  mod = time_proj(silu(temb)) -> [B, 6, D]
  ctx = linear_2(gelu_tanh(linear_1(context)))          (no mask: the reference attends to every text
        token, including the zero padding to 512 that the pipelines append -- callers must pad alike)
  each block, with (shift, scale, gate, c_shift, c_scale, c_gate) = scale_shift_table + mod:
      x += attn1(LN(x) * (1 + scale) + shift) * gate       (RoPE on q, k; RMSNorm(D) on q, k before)
      x += attn2(norm2(x), ctx)                            (norm2 = affine LayerNorm if cross_attn_norm)
      x += ffn(LN(x) * (1 + c_scale) + c_shift) * c_gate   (Linear, GELU tanh, Linear)
  (shift, scale) = scale_shift_table[1,2,D] + temb;  out = proj_out(LN(x) * (1 + scale) + shift)
  unpatchify: feature index ((pt*ph_ + ph)*pw_ + pw)*C_out + c  ->  [B, C_out, F, H, W]
The reference's fp32 islands (LayerNorms, modulation, residual adds, time embedding) are moot here:
everything is float32. LN eps and RMSNorm eps are both config["eps"] (1e-6), as in the reference.
RoPE: d splits into t = d - 4*(d//6), h = w = 2*(d//6) channels (128 -> 44/42/42); adjacent channel
pairs (2i, 2i+1) rotate by angle pos * 10000^(-2i/part) where pos is the token's frame / row / column
index and i counts within the part; tables are rope_max_seq_len rows (float64 angles, then float32).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# The keys a diffusers WanTransformer3DModel config.json may carry; the value is the default used when
# a key is absent (None for "required"). Keys starting with "_" (class name, version) are ignored.
_REQUIRED = ("patch_size", "num_attention_heads", "attention_head_dim", "in_channels", "text_dim",
             "freq_dim", "ffn_dim", "num_layers")
_DEFAULTS = {"out_channels": None, "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads",
             "eps": 1e-6, "image_dim": None, "added_kv_proj_dim": None, "rope_max_seq_len": 1024,
             "pos_embed_seq_len": None}


def _full(heads, layers, ffn):
    return {"_class_name": "WanTransformer3DModel", "added_kv_proj_dim": None, "attention_head_dim": 128,
            "cross_attn_norm": True, "eps": 1e-6, "ffn_dim": ffn, "freq_dim": 256, "image_dim": None,
            "in_channels": 16, "num_attention_heads": heads, "num_layers": layers, "out_channels": 16,
            "patch_size": [1, 2, 2], "qk_norm": "rms_norm_across_heads", "rope_max_seq_len": 1024,
            "text_dim": 4096}


# The published configs (diffusers' convert_wan_to_diffusers.py, Wan2.1 wan/configs: 1.3B dim 1536,
# 14B dim 5120); the Hub's config.json files also carry "_diffusers_version".
FULL = {"1.3B": _full(12, 30, 8960), "14B": _full(40, 40, 13824)}


def _shrunk(heads, head_dim, layers, ffn, text_dim, freq_dim):
    c = _full(heads, layers, ffn)
    c.update(attention_head_dim=head_dim, text_dim=text_dim, freq_dim=freq_dim)
    return c


# Tiny configs of the same structure for tests and ONNX plumbing. head_dim 16 -> RoPE parts 8/4/4,
# head_dim 8 -> 4/2/2 (the rule: even and >= 6, so that every part is even and non-empty).
SHRUNK = {"large": _shrunk(2, 16, 3, 64, 32, 32), "small": _shrunk(2, 8, 2, 32, 16, 16)}


def _is_int(v, lo=1):
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def parse_config(config):
    """The config with defaults filled in and every value checked; ValueError names the first bad key."""
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    c = {k: v for k, v in config.items() if not k.startswith("_")}
    unknown = sorted(set(c) - set(_REQUIRED) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"config key {unknown[0]!r} is not a WanTransformer3DModel option we support "
                         f"(unknown keys: {unknown})")
    for k in _REQUIRED:
        if k not in c:
            raise ValueError(f"config key {k!r} is missing")
    for k, v in _DEFAULTS.items():
        c.setdefault(k, v)
    if c["out_channels"] is None:  # diffusers: out_channels or in_channels
        c["out_channels"] = c["in_channels"]
    p = c["patch_size"]
    if not (isinstance(p, (list, tuple)) and len(p) == 3 and all(_is_int(x) for x in p)):
        raise ValueError(f"config key 'patch_size' must be 3 positive ints, got {p!r}")
    c["patch_size"] = [int(x) for x in p]
    for k in ("num_attention_heads", "attention_head_dim", "in_channels", "out_channels", "text_dim",
              "freq_dim", "ffn_dim", "num_layers", "rope_max_seq_len"):
        if not _is_int(c[k]):
            raise ValueError(f"config key {k!r} must be a positive int, got {c[k]!r}")
    d = c["attention_head_dim"]
    if d % 2 or d < 6:
        raise ValueError(f"config key 'attention_head_dim' must be even and >= 6 for the 3-D RoPE split "
                         f"t=d-4*(d//6), h=w=2*(d//6), got {d}")
    if c["freq_dim"] % 2:
        raise ValueError(f"config key 'freq_dim' must be even (odd sizes are zero-padded by diffusers; "
                         f"not supported here), got {c['freq_dim']}")
    if not isinstance(c["cross_attn_norm"], bool):
        raise ValueError(f"config key 'cross_attn_norm' must be a bool, got {c['cross_attn_norm']!r}")
    if c["qk_norm"] != "rms_norm_across_heads":
        raise ValueError(f"config key 'qk_norm' must be 'rms_norm_across_heads', got {c['qk_norm']!r}")
    if isinstance(c["eps"], bool) or not isinstance(c["eps"], (int, float)) or not c["eps"] > 0:
        raise ValueError(f"config key 'eps' must be a positive number, got {c['eps']!r}")
    for k in ("image_dim", "added_kv_proj_dim", "pos_embed_seq_len"):
        if c[k] is not None:
            raise ValueError(f"config key {k!r} must be null: image conditioning (I2V / FLF2V) is out of "
                             f"scope, got {c[k]!r}")
    return c


class _RMSNorm(nn.Module):
    """RMSNorm over the last axis (width = all heads together, "rms_norm_across_heads") with a weight."""

    def __init__(self, dim, eps, device=None):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim, device=device))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class _LayerNorm(nn.Module):
    """LayerNorm without learned affine (diffusers' norm1 / norm3 / norm_out: no parameters). The unit
    weight is an explicit non-persistent buffer because torch 1.13's opset-17 LayerNormalization export
    leaves the Scale input empty when weight is None, which the ONNX checker rejects; the zero bias is
    explicit too, because ONNX Runtime 1.23's extended graph optimisations crash (SIGSEGV at session
    creation) on a LayerNormalization that has a Scale but no B input."""

    def __init__(self, dim, eps, device=None):
        super().__init__()
        self.eps = eps
        self.register_buffer("ones", torch.ones(dim, device=device), persistent=False)
        self.register_buffer("zeros", torch.zeros(dim, device=device), persistent=False)

    def forward(self, x):
        return F.layer_norm(x, self.ones.shape, self.ones, self.zeros, self.eps)


def _rotate(x, cos, sin):
    """x [B, S, H, d]; cos, sin [1, S, 1, d/2]: rotate channel pairs (2i, 2i+1) (real form of x * e^{ia})."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).flatten(-2)


class _Attention(nn.Module):
    """diffusers WanAttention without fused projections or added (image) K/V; plain matmul + softmax."""

    def __init__(self, dim, heads, head_dim, eps, device=None):
        super().__init__()
        inner = heads * head_dim
        self.heads, self.head_dim = heads, head_dim
        self.to_q = nn.Linear(dim, inner, device=device)
        self.to_k = nn.Linear(dim, inner, device=device)
        self.to_v = nn.Linear(dim, inner, device=device)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim, device=device), nn.Identity()])  # [1]: dropout
        self.norm_q = _RMSNorm(inner, eps, device)
        self.norm_k = _RMSNorm(inner, eps, device)

    def forward(self, x, ctx, rope=None):
        # Split heads with -1 for the token axis so no length is baked into the traced graph.
        def heads(t):
            return t.reshape(t.shape[0], -1, self.heads, self.head_dim)

        q = heads(self.norm_q(self.to_q(x)))
        k = heads(self.norm_k(self.to_k(ctx)))
        v = heads(self.to_v(ctx))
        if rope is not None:
            q, k = _rotate(q, *rope), _rotate(k, *rope)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, H, S, d]
        w = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)), dim=-1)
        return self.to_out[0](torch.matmul(w, v).transpose(1, 2).flatten(2))


class _GeluProj(nn.Module):
    """FeedForward.net[0] of diffusers: a Linear named `proj` followed by tanh-approximated GELU."""

    def __init__(self, dim_in, dim_out, device=None):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out, device=device)

    def forward(self, x):
        return F.gelu(self.proj(x), approximate="tanh")


class _FeedForward(nn.Module):
    def __init__(self, dim, ffn_dim, device=None):
        super().__init__()
        self.net = nn.ModuleList([_GeluProj(dim, ffn_dim, device), nn.Identity(),
                                  nn.Linear(ffn_dim, dim, device=device)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class _TwoLinear(nn.Module):
    """linear_1, activation, linear_2 (TimestepEmbedding with SiLU; PixArtAlphaTextProjection, GELU tanh)."""

    def __init__(self, dim_in, dim, act, device=None):
        super().__init__()
        self.act = act
        self.linear_1 = nn.Linear(dim_in, dim, device=device)
        self.linear_2 = nn.Linear(dim, dim, device=device)

    def forward(self, x):
        h = self.linear_1(x)
        h = F.silu(h) if self.act == "silu" else F.gelu(h, approximate="tanh")
        return self.linear_2(h)


class _ConditionEmbedder(nn.Module):
    def __init__(self, dim, freq_dim, text_dim, device=None):
        super().__init__()
        self.time_embedder = _TwoLinear(freq_dim, dim, "silu", device)
        self.time_proj = nn.Linear(dim, 6 * dim, device=device)
        self.text_embedder = _TwoLinear(text_dim, dim, "gelu_tanh", device)


class _Block(nn.Module):
    def __init__(self, dim, ffn_dim, heads, head_dim, cross_attn_norm, eps, device=None):
        super().__init__()
        self.norm1 = _LayerNorm(dim, eps, device)
        self.norm3 = _LayerNorm(dim, eps, device)
        self.attn1 = _Attention(dim, heads, head_dim, eps, device)
        self.attn2 = _Attention(dim, heads, head_dim, eps, device)
        self.norm2 = (nn.LayerNorm(dim, eps, elementwise_affine=True, device=device) if cross_attn_norm
                      else nn.Identity())
        self.ffn = _FeedForward(dim, ffn_dim, device)
        self.scale_shift_table = nn.Parameter(torch.zeros(1, 6, dim, device=device))

    def forward(self, x, ctx, mod, rope):
        shift, scale, gate, c_shift, c_scale, c_gate = (self.scale_shift_table + mod).chunk(6, dim=1)
        h = self.norm1(x) * (1 + scale) + shift
        x = x + self.attn1(h, h, rope) * gate
        x = x + self.attn2(self.norm2(x), ctx)
        h = self.norm3(x) * (1 + c_scale) + c_shift
        return x + self.ffn(h) * c_gate


def _rope_tables(head_dim, max_len, theta=10000.0):
    """cos, sin [max_len, head_dim/2] float32: columns are the t, h, w parts' frequencies side by side."""
    part = 2 * (head_dim // 6)
    angles = []
    for n in (head_dim - 2 * part, part, part):
        inv = 1.0 / theta ** (torch.arange(0, n, 2, dtype=torch.float64) / n)
        angles.append(torch.outer(torch.arange(max_len, dtype=torch.float64), inv))
    a = torch.cat(angles, dim=1)
    return a.cos().float(), a.sin().float()


class WanTransformer(nn.Module):
    """forward(latent [B, C_in, F, H, W], timestep [B] in 0..1000, context [B, L, text_dim]) -> velocity
    [B, C_out, F, H, W], all float32. F, H, W must be multiples of patch_size (else the tail is dropped,
    as in the reference) and F/pt, H/ph, W/pw <= rope_max_seq_len. Parameter names/shapes = diffusers'.
    Fresh weights are torch's Linear/Conv defaults, norms 1, scale_shift_tables 0: load a checkpoint or
    call init_random_. `device="meta"` builds the structure without memory (shapes only; cannot run)."""

    def __init__(self, config: dict, device=None):
        super().__init__()
        c = self.config = parse_config(config)
        heads, hd = c["num_attention_heads"], c["attention_head_dim"]
        dim = heads * hd
        self.dim, self.patch = dim, tuple(c["patch_size"])
        self.out_channels = c["out_channels"]
        self.patch_embedding = nn.Conv3d(c["in_channels"], dim, kernel_size=self.patch, stride=self.patch,
                                         device=device)
        self.condition_embedder = _ConditionEmbedder(dim, c["freq_dim"], c["text_dim"], device)
        self.blocks = nn.ModuleList([_Block(dim, c["ffn_dim"], heads, hd, c["cross_attn_norm"], c["eps"],
                                            device) for _ in range(c["num_layers"])])
        self.norm_out = _LayerNorm(dim, c["eps"], device)
        self.proj_out = nn.Linear(dim, self.out_channels * math.prod(self.patch), device=device)
        self.scale_shift_table = nn.Parameter(torch.zeros(1, 2, dim, device=device))
        # Constant tables, not in the state dict (diffusers' rope buffers are non-persistent too).
        half = c["freq_dim"] // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        cos, sin = _rope_tables(hd, c["rope_max_seq_len"])
        self.register_buffer("time_freqs", freqs.to(device), persistent=False)
        self.register_buffer("rope_cos", cos.to(device), persistent=False)
        self.register_buffer("rope_sin", sin.to(device), persistent=False)
        p = 2 * (hd // 6)
        self._rope_split = [(hd - 2 * p) // 2, p // 2, p // 2]

    def _rope(self, f, h, w):
        """cos, sin [1, f*h*w, 1, d/2] for tokens in (frame, row, column) order; f, h, w stay traced."""
        out = []
        for table in (self.rope_cos, self.rope_sin):
            tf, th, tw = table.split(self._rope_split, dim=1)
            grid = torch.cat([tf[:f].view(f, 1, 1, -1).expand(f, h, w, -1),
                              th[:h].view(1, h, 1, -1).expand(f, h, w, -1),
                              tw[:w].view(1, 1, w, -1).expand(f, h, w, -1)], dim=-1)
            out.append(grid.reshape(1, -1, 1, grid.shape[-1]))
        return out[0], out[1]

    def forward(self, latent, timestep, context):
        x = self.patch_embedding(latent)                    # [B, D, f, h, w]
        b, f, h, w = x.shape[0], x.shape[2], x.shape[3], x.shape[4]
        x = x.flatten(2).transpose(1, 2)                     # [B, S, D]
        rope = self._rope(f, h, w)
        ce = self.condition_embedder
        arg = timestep.float()[:, None] * self.time_freqs[None, :]
        temb = ce.time_embedder(torch.cat([torch.cos(arg), torch.sin(arg)], dim=-1))   # [B, D]
        mod = ce.time_proj(F.silu(temb)).reshape(-1, 6, self.dim)                       # [B, 6, D]
        ctx = ce.text_embedder(context)
        for block in self.blocks:
            x = block(x, ctx, mod, rope)
        shift, scale = (self.scale_shift_table + temb[:, None, :]).chunk(2, dim=1)
        x = self.proj_out(self.norm_out(x) * (1 + scale) + shift)
        pt, ph, pw = self.patch
        x = x.reshape(b, f, h, w, pt, ph, pw, self.out_channels).permute(0, 7, 1, 4, 2, 5, 3, 6)
        return x.reshape(b, self.out_channels, f * pt, h * ph, w * pw)


def init_random_(module, seed):
    """Deterministic random weights with variance-preserving scales, so that a shrunk model's velocity is
    finite and O(1): matrices normal(0, 1/sqrt(fan_in)), biases normal(0, 0.02), norm weights 1 and
    biases 0, scale_shift_tables randn / sqrt(dim) (the reference's own init of those). Returns module."""
    g = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for name, p in module.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if "scale_shift_table" in leaf:
                v = torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1])
            elif ".norm" in "." + name and leaf == "weight":   # norm_q / norm_k / norm2 weights
                v = torch.ones(p.shape)
            elif ".norm" in "." + name and leaf == "bias":
                v = torch.zeros(p.shape)
            elif p.dim() >= 2:
                v = torch.randn(p.shape, generator=g) / math.sqrt(p[0].numel())
            else:
                v = torch.randn(p.shape, generator=g) * 0.02
            p.copy_(v.to(p.dtype))
    return module


def expected_keys(config):
    """{parameter name: shape tuple} for `config`, built on the meta device (no weight memory)."""
    m = WanTransformer(config, device="meta")
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}


def param_count(config):
    return sum(math.prod(s) for s in expected_keys(config).values())
