"""Exporting a float32 torch module to ONNX with its weights stored in the checkpoint's precision.

`store_weights_as(module, dtype)` keeps every parameter in `dtype` (bf16/fp16) and widens it to
float32 where it is used (a parametrization), so the traced graph holds each weight once, in the
checkpoint's precision, followed by a Cast: a BF16 checkpoint exports at its own size (2 bytes a
parameter) and computes in float32, as ONNX Runtime's CPU kernels need. Constant folding is off
for that reason (folding would store the widened copy).

`export` writes `<name>.onnx` and, for models with external data, one `<name>.onnx.data` beside it;
the weights are named as in the checkpoint (`blocks.0.attn1.to_q.weight`), so the graph can be read
against the checkpoint it came from, and are written by us, not by torch's exporter (see export).
"""
import os
import tempfile

import onnx
import torch
import torch.nn.utils.parametrize as parametrize
from onnx import TensorProto

_WIDEN_TYPES = (torch.bfloat16, torch.float16)


class _Widen(torch.nn.Module):
    def forward(self, w):
        return w.float()


def store_weights_as(module, dtype=None):
    """In place: every parameter held in `dtype` (None: each in its own dtype, as the checkpoint
    stores it) and, where that is not float32, widened to float32 on use (a parametrization), so
    the module computes in FP32 whatever its storage. Parameters already in their target dtype are
    kept as they are (no copy); BF16/FP16 widen to FP32 exactly; FP32 narrowed to BF16/FP16 on
    request rounds to nearest."""
    if dtype is not None and dtype != torch.float32 and dtype not in _WIDEN_TYPES:
        raise ValueError(f"weights dtype {dtype} is not supported; use float32, bfloat16 or float16")
    for mod in list(module.modules()):
        for name, p in list(mod.named_parameters(recurse=False)):
            held = p.detach()
            target = held.dtype if dtype is None else dtype
            if target != torch.float32 and target not in _WIDEN_TYPES:
                raise ValueError(f"parameter {name} of {type(mod).__name__} is {target}; weights must be "
                                 "float32, bfloat16 or float16")
            mod._parameters[name] = torch.nn.Parameter(held.to(target), requires_grad=False)
            if target != torch.float32:
                parametrize.register_parametrization(mod, name, _Widen(), unsafe=True)
    return module


_ONNX_TYPES = {torch.float32: TensorProto.FLOAT, torch.bfloat16: TensorProto.BFLOAT16,
               torch.float16: TensorProto.FLOAT16, torch.int64: TensorProto.INT64}


def _checkpoint_name(name):
    """'model.blocks.0.attn1.to_q.parametrizations.weight.original' -> 'blocks.0.attn1.to_q.weight'."""
    if name.startswith("model."):
        name = name[len("model."):]
    return name.replace(".parametrizations.", ".").removesuffix(".original")


def _raw_bytes(t):
    """A tensor's little-endian bytes (numpy has no bfloat16: viewed as int16, same bits)."""
    t = t.detach().contiguous().cpu()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def export(wrapper, args, path, input_names, output_names, dynamic_axes, external):
    """Traces `wrapper(*args)` to `path` (opset 17) and returns the onnx model (graph only).

    The graph is traced without its weights (export_params=False) and the weights are then written
    from the module's own tensors one at a time, named as in the checkpoint, in their storage
    dtype: into one `<file>.data` next to it when external=True (ONNX external data, needed past
    protobuf's 2 GB limit; used for the velocity models at every size so toy and real checkpoints
    take the same path), else inline. No serialised copy of the weights is ever loaded back; the
    peak memory of an export is torch's tracer's (docs/models.md gives the measured figure)."""
    out_dir = os.path.dirname(os.path.abspath(path))
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        raw = os.path.join(tmp, "raw.onnx")
        with torch.no_grad():
            torch.onnx.export(wrapper, args, raw, opset_version=17, do_constant_folding=False, export_params=False,
                              input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes)
        model = onnx.load(raw)
    params = dict(wrapper.named_parameters())
    data_name = os.path.basename(path) + ".data"
    data = open(os.path.join(out_dir, data_name), "wb") if external else None
    try:
        offset, renames, kept = 0, {}, []
        for vi in model.graph.input:
            t = params.get(vi.name)
            if t is None:
                kept.append(vi)
                continue
            name = _checkpoint_name(vi.name)
            renames[vi.name] = name
            init = TensorProto(name=name, data_type=_ONNX_TYPES[t.dtype], dims=list(t.shape))
            raw_bytes = _raw_bytes(t)
            if data is None:
                init.raw_data = raw_bytes
            else:
                data.write(raw_bytes)
                init.data_location = TensorProto.EXTERNAL
                for k, v in (("location", data_name), ("offset", str(offset)), ("length", str(len(raw_bytes)))):
                    entry = init.external_data.add()
                    entry.key, entry.value = k, v
                offset += len(raw_bytes)
            model.graph.initializer.append(init)
    finally:
        if data is not None:
            data.close()
    del model.graph.input[:]
    model.graph.input.extend(kept)
    for node in model.graph.node:
        for i, n in enumerate(node.input):
            if n in renames:
                node.input[i] = renames[n]
    model.producer_name = "flowblend models/export"
    onnx.save_model(model, path)
    onnx.checker.check_model(path, full_check=True)
    return onnx.load(path, load_external_data=False)


class FlopCounter(torch.overrides.TorchFunctionMode):
    """Counts 2 FLOPs per multiply-add of every linear, convolution and matrix product a forward
    runs (the convention of manifest.json's flops_per_sample); elementwise work is not counted."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name == "linear":
            w = args[1]
            self.flops += 2 * out.numel() * w.shape[-1]
        elif name in ("conv1d", "conv2d", "conv3d"):
            w = args[1]
            per_out = w[0].numel()  # in_channels / groups * kernel elements
            self.flops += 2 * out.numel() * per_out
        elif name in ("matmul", "__matmul__", "bmm", "baddbmm"):
            a = args[1] if name == "baddbmm" else args[0]
            self.flops += 2 * out.numel() * a.shape[-1]
        return out


def count_flops(fn, *inputs):
    """FLOPs of fn(*inputs) under torch.no_grad, by FlopCounter."""
    counter = FlopCounter()
    with torch.no_grad(), counter:
        fn(*inputs)
    return counter.flops
