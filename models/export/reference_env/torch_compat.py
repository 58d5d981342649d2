"""Attributes newer torch versions have, which the references touch at import time on torch 1.13."""
import torch


class _AbsentDtype:
    """Placeholder for a dtype torch 1.13 lacks; only ever put in tuples of supported quantisation
    dtypes at import time, never used to create a tensor."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}(absent in torch {torch.__version__})"


for _n in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
           "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7"):
    if not hasattr(torch, _n):
        setattr(torch, _n, _AbsentDtype(_n))


class _AbsentBackend:
    """torch.xpu / torch.mps stand-in: not available, zero devices; other attributes None (diffusers
    only fills device-utility tables with them at import time)."""

    def __init__(self, name):
        self._name = name

    def is_available(self):
        return False

    def device_count(self):
        return 0

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return None


for _n in ("xpu", "mps"):
    if not hasattr(torch, _n):
        setattr(torch, _n, _AbsentBackend(_n))


def _compiler_disable(fn=None, *args, **kwargs):
    """torch.compiler.disable: a no-op without torch.compile (usable as @disable and @disable())."""
    if fn is None:
        return lambda f: f
    return fn


if not hasattr(torch, "compiler"):
    import types as _types
    torch.compiler = _types.SimpleNamespace(disable=_compiler_disable, is_compiling=lambda: False,
                                            is_dynamo_compiling=lambda: False)


import math as _math
import torch.nn.functional as _F


def _sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    """torch.nn.functional.scaled_dot_product_attention (torch >= 2.0), written out as the
    "equivalent implementation" in PyTorch's documentation: softmax(q k^T * scale + bias) v, with
    scale = 1/sqrt(E) by default, a bool mask meaning "attend where True" and a float mask added."""
    L, S = query.size(-2), key.size(-2)
    scale_factor = 1.0 / _math.sqrt(query.size(-1)) if scale is None else scale
    attn_bias = torch.zeros(L, S, dtype=query.dtype, device=query.device)
    if is_causal:
        assert attn_mask is None
        keep = torch.ones(L, S, dtype=torch.bool, device=query.device).tril(diagonal=0)
        attn_bias = attn_bias.masked_fill(keep.logical_not(), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            attn_bias = attn_bias.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            attn_bias = attn_mask + attn_bias
    if enable_gqa:
        key = key.repeat_interleave(query.size(-3) // key.size(-3), -3)
        value = value.repeat_interleave(query.size(-3) // value.size(-3), -3)
    attn_weight = query @ key.transpose(-2, -1) * scale_factor
    attn_weight = attn_weight + attn_bias
    attn_weight = torch.softmax(attn_weight, dim=-1)
    if dropout_p > 0.0:
        attn_weight = torch.dropout(attn_weight, dropout_p, train=True)
    return attn_weight @ value


if not hasattr(_F, "scaled_dot_product_attention"):
    _F.scaled_dot_product_attention = _sdpa


class _RMSNorm(torch.nn.Module):
    """torch.nn.RMSNorm (torch >= 2.4) as documented: y = x / sqrt(mean(x^2 over normalized_shape)
    + eps) * weight, eps None -> torch.finfo(x.dtype).eps; weight initialised to ones."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = torch.nn.Parameter(torch.ones(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
        dims = tuple(range(-len(self.normalized_shape), 0))
        y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
        return y * self.weight if self.weight is not None else y


if not hasattr(torch.nn, "RMSNorm"):
    torch.nn.RMSNorm = _RMSNorm
