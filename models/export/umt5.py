"""Our PyTorch umT5 text encoder: the encoder stack of Hugging Face transformers' `UMT5EncoderModel`,
as WAN 2.1's diffusers pipeline runs it, written to load the diffusers-layout checkpoint
(`text_encoder/` = config.json + model*.safetensors) and to export to ONNX with torch 1.13.

Source followed (read, not copied): huggingface/transformers
`src/transformers/models/umt5/modeling_umt5.py` at commit de0f5d1eab94 (the 4.4x line, with the
Cache classes), cross-read with the first umT5 release (commit 00063ff6, 4.31) — the encoder
arithmetic is the same in both — and `configuration_umt5.py` at commit 0d7e95d9 (how
`feed_forward_proj` yields `dense_act_fn`/`is_gated_act`); the pipeline's use of it from
huggingface/diffusers `src/diffusers/pipelines/wan/pipeline_wan.py` (`_get_t5_prompt_embeds`,
0.40.0.dev0, commit 58eb52c0).

Parameter names (exactly the checkpoint's; `expected_keys` lists them with shapes):
    shared.weight                                                  [vocab_size, d_model]
    encoder.block.{i}.layer.0.SelfAttention.{q,k,v}.weight         [num_heads*d_kv, d_model]
    encoder.block.{i}.layer.0.SelfAttention.o.weight               [d_model, num_heads*d_kv]
    encoder.block.{i}.layer.0.SelfAttention.relative_attention_bias.weight  [buckets, num_heads]
    encoder.block.{i}.layer.0.layer_norm.weight                    [d_model]
    encoder.block.{i}.layer.1.DenseReluDense.{wi_0,wi_1}.weight    [d_ff, d_model]
    encoder.block.{i}.layer.1.DenseReluDense.wo.weight             [d_model, d_ff]
    encoder.block.{i}.layer.1.layer_norm.weight                    [d_model]
    encoder.final_layer_norm.weight                                [d_model]
umT5, unlike T5/mT5, gives EVERY block its own relative_attention_bias (transformers builds each
UMT5LayerSelfAttention with has_relative_attention_bias=True). The token embedding is one tensor that
transformers registers twice (`shared` and `encoder.embed_tokens` are the same module); this module
registers it once, as `shared.weight`, and `canonical_state` maps a checkpoint's either/both names
onto it.

Computation (float32 throughout): x = shared[ids]; per block: x += o(attn(rms(x))),
x += wo(gelu_new(wi_0 h) * wi_1 h) with h = rms(x); x = rms_final(x); positions whose mask is 0 are
set to +0.0. RMS norm: no mean subtraction, no bias, variance in float32. Attention: q·kᵀ NOT scaled
by 1/sqrt(d_kv) (T5 folds that into the init), plus the block's bucketed relative-position bias, plus
(1 - mask) * float32-min on the key axis, softmax in float32. Dropout is inference-off.
"""
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import umt5_tokenizer  # noqa: E402

EMBED_KEY = "shared.weight"                   # the name this module uses
EMBED_ALIAS = "encoder.embed_tokens.weight"   # the same tensor under its other transformers name

# The umT5-XXL encoder config as google/umt5-xxl publishes it, with WAN's diffusers
# text_encoder/config.json's architectures (UMT5EncoderModel). The keys resolve_config reads
# (sizes, buckets, epsilon, feed_forward_proj/dense_act_fn/is_gated_act) agree across the public
# copies we read; the others (dtype, dropout, token ids, ...) do not change the encoder and are as
# google/umt5-xxl has them, not byte-checked against WAN's file.
FULL = {
    "architectures": ["UMT5EncoderModel"],
    "classifier_dropout": 0.0,
    "d_ff": 10240,
    "d_kv": 64,
    "d_model": 4096,
    "decoder_start_token_id": 0,
    "dense_act_fn": "gelu_new",
    "dropout_rate": 0.1,
    "eos_token_id": 1,
    "feed_forward_proj": "gated-gelu",
    "initializer_factor": 1.0,
    "is_encoder_decoder": True,
    "is_gated_act": True,
    "layer_norm_epsilon": 1e-06,
    "model_type": "umt5",
    "num_decoder_layers": 24,
    "num_heads": 64,
    "num_layers": 24,
    "output_past": True,
    "pad_token_id": 0,
    "relative_attention_max_distance": 128,
    "relative_attention_num_buckets": 32,
    "scalable_attention": True,
    "tie_word_embeddings": False,
    "tokenizer_class": "T5Tokenizer",
    "torch_dtype": "float32",
    "use_cache": True,
    "vocab_size": 256384,
}

# Same keys, toy sizes; the vocabulary is exactly the shrunk tokenizer's (umt5_tokenizer).
SHRUNK = dict(FULL, d_model=32, d_kv=8, num_heads=4, d_ff=64, num_layers=2, num_decoder_layers=2,
              vocab_size=umt5_tokenizer.vocab_size())

# transformers' UMT5Config defaults, used where config.json leaves a key out (as transformers does).
_DEFAULTS = {"vocab_size": 250112, "d_model": 512, "d_kv": 64, "d_ff": 1024, "num_layers": 8,
             "num_heads": 6, "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
             "layer_norm_epsilon": 1e-6, "feed_forward_proj": "gated-gelu"}
_INT_KEYS = ("vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_heads",
             "relative_attention_num_buckets", "relative_attention_max_distance")


def resolve_config(config):
    """The encoder's hyper-parameters from a transformers config dict; ValueError naming any key whose
    value this implementation does not support. Keys not read here (dropout_rate,
    initializer_factor, num_decoder_layers, tie_word_embeddings, scalable_attention — which
    transformers itself ignores —, token ids, dtype, ...) do not change the encoder's output."""
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    c = {k: config.get(k, v) for k, v in _DEFAULTS.items()}
    if config.get("model_type", "umt5") != "umt5":
        raise ValueError(f"model_type {config['model_type']!r} not supported: only 'umt5' (T5/mT5 share "
                         "one relative_attention_bias in block 0; umT5 has one per block)")
    if config.get("is_decoder", False):
        raise ValueError(f"is_decoder {config['is_decoder']!r} not supported: this is the bidirectional encoder")
    for k in _INT_KEYS:
        if isinstance(c[k], bool) or not isinstance(c[k], int) or c[k] < 1:
            raise ValueError(f"{k} {c[k]!r} not supported: must be a positive integer")
    eps = c["layer_norm_epsilon"]
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"layer_norm_epsilon {eps!r} not supported: must be a positive number")
    if c["feed_forward_proj"] != "gated-gelu":
        raise ValueError(f"feed_forward_proj {c['feed_forward_proj']!r} not supported: only 'gated-gelu' "
                         "(gated FFN with gelu_new, umT5's)")
    # transformers derives these two from feed_forward_proj; a stored value that disagrees would
    # mean different FFNs across transformers versions, so refuse it.
    if config.get("dense_act_fn", "gelu_new") != "gelu_new":
        raise ValueError(f"dense_act_fn {config['dense_act_fn']!r} not supported with feed_forward_proj "
                         "'gated-gelu': only 'gelu_new'")
    if config.get("is_gated_act", True) is not True:
        raise ValueError(f"is_gated_act {config['is_gated_act']!r} not supported: only true")
    nb, md = c["relative_attention_num_buckets"], c["relative_attention_max_distance"]
    if nb < 4 or nb % 4:
        raise ValueError(f"relative_attention_num_buckets {nb} not supported: a multiple of 4 (two "
                         "directions, each half exact and half logarithmic)")
    if md <= nb // 4:
        raise ValueError(f"relative_attention_max_distance {md} not supported: must exceed "
                         f"relative_attention_num_buckets/4 = {nb // 4}")
    return c


# Added to the log-bucket position before truncation. transformers' float32 formula lands exactly
# on integers at distances max_exact*2^(k/2) (16, 32, 64 for 32/128 buckets); a runtime whose log
# is one ulp low (ONNX Runtime's need not be correctly rounded) would truncate those one bucket
# down. 1e-4 is far above such error (~1e-6 here) and far below the smallest gap between a
# non-integer value and the next integer for distances < max_distance (1.6e-2 for 32/128; the test
# checks every distance against a float64 reference), so torch results equal transformers'.
_BUCKET_EPS = 1e-4


def relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
    """T5's bidirectional bucket of `relative_position` (= key position - query position), int64
    tensor in, int64 tensor out in [0, num_buckets). Half the buckets per direction (positive
    distances in the upper half); in each, distances below a quarter of num_buckets map one to one,
    larger ones logarithmically up to max_distance, beyond which they share the last bucket. Tensor
    ops only (abs, log, where, min), so it exports to ONNX for any shape."""
    half = num_buckets // 2
    max_exact = half // 2
    upper = (relative_position > 0).to(torch.long) * half
    n = torch.abs(relative_position)
    # clamp before log: log(0) would feed -inf into the int cast (discarded by where, but undefined)
    nf = torch.clamp(n.to(torch.float32), min=float(max_exact))
    log_pos = torch.log(nf / max_exact) / math.log(max_distance / max_exact) * (half - max_exact)
    large = max_exact + (log_pos + _BUCKET_EPS).to(torch.long)
    large = torch.min(large, torch.full_like(large, half - 1))
    return upper + torch.where(n < max_exact, n, large)


class _RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def _gelu_new(x):
    # GPT-2's tanh approximation ("gelu_new"), written out so it exports with any opset
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class _Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.d_kv = c["num_heads"], c["d_kv"]
        inner = self.heads * self.d_kv
        self.q = nn.Linear(c["d_model"], inner, bias=False)
        self.k = nn.Linear(c["d_model"], inner, bias=False)
        self.v = nn.Linear(c["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, c["d_model"], bias=False)
        self.relative_attention_bias = nn.Embedding(c["relative_attention_num_buckets"], self.heads)

    def _split(self, t, b, l):
        return t.reshape(b, l, self.heads, self.d_kv).transpose(1, 2)  # [B, H, L, d_kv]

    def forward(self, x, buckets, mask_bias):
        b, l = x.shape[0], x.shape[1]
        q, k, v = self._split(self.q(x), b, l), self._split(self.k(x), b, l), self._split(self.v(x), b, l)
        scores = torch.matmul(q, k.transpose(-1, -2))  # no 1/sqrt(d_kv): folded into T5's weights
        position_bias = self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)  # [1,H,L,L]
        scores = scores + (position_bias + mask_bias)  # transformers' order: bias + mask, then + scores
        weights = torch.softmax(scores.to(torch.float32), dim=-1)
        ctx = torch.matmul(weights, v).transpose(1, 2).reshape(b, l, self.heads * self.d_kv)
        return self.o(ctx)


class _SelfAttentionLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.SelfAttention = _Attention(c)
        self.layer_norm = _RMSNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x, buckets, mask_bias):
        return x + self.SelfAttention(self.layer_norm(x), buckets, mask_bias)


class _GatedFF(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi_0 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wi_1 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)

    def forward(self, h):
        return self.wo(_gelu_new(self.wi_0(h)) * self.wi_1(h))


class _FFLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.DenseReluDense = _GatedFF(c)
        self.layer_norm = _RMSNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x):
        return x + self.DenseReluDense(self.layer_norm(x))


class _Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([_SelfAttentionLayer(c), _FFLayer(c)])

    def forward(self, x, buckets, mask_bias):
        return self.layer[1](self.layer[0](x, buckets, mask_bias))


class _Stack(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block = nn.ModuleList([_Block(c) for _ in range(c["num_layers"])])
        self.final_layer_norm = _RMSNorm(c["d_model"], c["layer_norm_epsilon"])


class UMT5Encoder(nn.Module):
    """umT5 encoder. `forward(input_ids, attention_mask)`, both int64 [B, L] (mask 1 for tokens, 0 for
    padding), returns context float32 [B, L, d_model]: transformers' `last_hidden_state` computed
    with the mask, with every position whose mask is 0 set to +0.0. For right-padded rows (what the
    tokenizer gives: padding="max_length") that is exactly what WAN's `_get_t5_prompt_embeds` makes
    (it keeps the first sum(mask) positions of each row and pads with zeros). Keep it float32:
    `load_state_dict` converts a bf16 checkpoint's tensors on copy."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = resolve_config(config)
        c = self.config
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"])
        self.encoder = _Stack(c)

    def buckets(self, length, device=None):
        """[L, L] int64 bucket of (key j - query i), shared by every block (each has its own table)."""
        pos = torch.arange(length, dtype=torch.long, device=device)
        return relative_position_bucket(pos[None, :] - pos[:, None],
                                        self.config["relative_attention_num_buckets"],
                                        self.config["relative_attention_max_distance"])

    def hidden_states(self, input_ids, attention_mask):
        """transformers' `last_hidden_state` (padded positions not zeroed)."""
        x = self.shared(input_ids).to(torch.float32)
        m = attention_mask.to(torch.float32)
        mask_bias = ((1.0 - m) * torch.finfo(torch.float32).min)[:, None, None, :]  # [B,1,1,L]
        buckets = self.buckets(input_ids.shape[1], input_ids.device)
        for block in self.encoder.block:
            x = block(x, buckets, mask_bias)
        return self.encoder.final_layer_norm(x)

    def forward(self, input_ids, attention_mask):
        x = self.hidden_states(input_ids, attention_mask)
        keep = (attention_mask != 0)[:, :, None]
        return torch.where(keep, x, torch.zeros_like(x))  # +0.0, as the pipeline's new_zeros


def canonical_state(checkpoint: dict) -> dict:
    """The checkpoint's {name: tensor} under this module's names: `encoder.embed_tokens.weight` becomes
    `shared.weight`; if both are present they must hold the same values (ValueError naming both
    otherwise) and one is kept. Every other key is passed through unchanged, so strict loading still
    reports unexpected keys (e.g. a full seq2seq checkpoint's decoder.* and lm_head.weight)."""
    out = dict(checkpoint)
    if EMBED_ALIAS not in out:
        return out
    alias = out.pop(EMBED_ALIAS)
    if EMBED_KEY not in out:
        out[EMBED_KEY] = alias
        return out
    main = out[EMBED_KEY]
    same = tuple(main.shape) == tuple(alias.shape) and (
        torch.equal(main, alias) if main.dtype == alias.dtype
        else torch.equal(main.to(torch.float64), alias.to(torch.float64)))
    if not same:
        raise ValueError(f"checkpoint holds both {EMBED_KEY!r} {tuple(main.shape)} {main.dtype} and "
                         f"{EMBED_ALIAS!r} {tuple(alias.shape)} {alias.dtype} with different values; "
                         "they are one tied embedding")
    return out


def expected_keys(config) -> dict:
    """{parameter name: shape} of UMT5Encoder(config), computed from the config (nothing allocated),
    in the module's registration order."""
    c = resolve_config(config)
    d, inner, ff, nb = c["d_model"], c["num_heads"] * c["d_kv"], c["d_ff"], c["relative_attention_num_buckets"]
    keys = {EMBED_KEY: (c["vocab_size"], d)}
    for i in range(c["num_layers"]):
        a = f"encoder.block.{i}.layer.0."
        f = f"encoder.block.{i}.layer.1."
        keys.update({a + "SelfAttention.q.weight": (inner, d), a + "SelfAttention.k.weight": (inner, d),
                     a + "SelfAttention.v.weight": (inner, d), a + "SelfAttention.o.weight": (d, inner),
                     a + "SelfAttention.relative_attention_bias.weight": (nb, c["num_heads"]),
                     a + "layer_norm.weight": (d,),
                     f + "DenseReluDense.wi_0.weight": (ff, d), f + "DenseReluDense.wi_1.weight": (ff, d),
                     f + "DenseReluDense.wo.weight": (d, ff), f + "layer_norm.weight": (d,)})
    keys["encoder.final_layer_norm.weight"] = (d,)
    return keys


def param_count(config) -> int:
    """Number of parameters (the tied embedding counted once)."""
    return sum(math.prod(s) for s in expected_keys(config).values())


@torch.no_grad()
def init_random_(module, seed):
    """Seeded random weights in place, transformers' T5 init scales (initializer_factor 1): embedding
    N(0,1); q N(0,(d_model*d_kv)^-1/2); k, v, wi_0, wi_1, relative bias N(0,d_model^-1/2); o
    N(0,(heads*d_kv)^-1/2); wo N(0,d_ff^-1/2). Norm weights 1 + N(0,0.1) instead of T5's 1, so a
    swapped norm name changes the output. Same seed, same config: same weights, on any machine."""
    c = module.config
    d, inner = c["d_model"], c["num_heads"] * c["d_kv"]
    std = {"shared.weight": 1.0, "q.weight": (d * c["d_kv"]) ** -0.5, "k.weight": d ** -0.5,
           "v.weight": d ** -0.5, "o.weight": inner ** -0.5, "relative_attention_bias.weight": d ** -0.5,
           "wi_0.weight": d ** -0.5, "wi_1.weight": d ** -0.5, "wo.weight": c["d_ff"] ** -0.5}
    g = torch.Generator().manual_seed(int(seed))
    for name, p in module.named_parameters():  # registration order: deterministic
        noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
        if name.endswith("layer_norm.weight"):
            value = 1.0 + 0.1 * noise
        else:
            value = noise * next(s for suffix, s in std.items() if name.endswith(suffix))
        p.copy_(value)
    return module


def export_onnx(module, path, seq_len=512, opset=17, batch=2):
    """Exports `module` (eval) to `path` by the exporter's own path (onnx_export.export): inputs
    input_ids, attention_mask int64 [batch, sequence], output context float32 [batch, sequence,
    d_model]. Both axes are symbolic (nothing in the graph needs a fixed length; `seq_len` is only
    the traced example's). The example batch is 2, not 1, so that no size-1 broadcast is
    specialised while tracing. Weights inline: an encoder over 2 GB (umT5-XXL) is exported by
    wan21.py with external data."""
    if opset != 17:
        raise ValueError(f"opset is {opset}; the exporter writes opset 17")
    import onnx_export  # the export path, not the network's: imported only when exporting
    module = module.eval()
    ids = torch.zeros((batch, seq_len), dtype=torch.long)
    mask = torch.ones((batch, seq_len), dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    onnx_export.export(module, (ids, mask), path, ["input_ids", "attention_mask"], ["context"],
                       {"input_ids": axes, "attention_mask": axes, "context": axes}, external=False)
