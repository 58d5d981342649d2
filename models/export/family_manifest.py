"""The family directory the exporter writes: one ONNX file (+ external data) and one golden per
model, and the manifest.json that declares them with WAN 2.1's conventions.

FLOPs per sample are counted by running each network once per declared size on PyTorch's meta
device (shapes only, no arithmetic), so a 14B model at 720p costs nothing to count; the count is
onnx_export.FlopCounter's (2 per multiply-add of linears, convolutions and matrix products).
"""
import hashlib
import json
import math
import os
import time

import torch

import onnx_export
import safetensors_io

INLINE_LIMIT = 1 << 30  # weights above this go to external data (ONNX's protobuf limit is 2 GB)
NEGATIVE_PROMPT_WAN = (  # the default negative prompt of WAN 2.1's reference configuration
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，"
    "残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，"
    "三条腿，背景人很多，倒着走")
_MANIFEST_DTYPES = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16",
                    torch.int64: "int64"}


def LATENT_DIMS(channels):  # noqa: N802 - reads as the constant it is, per channel count
    return [-1, channels, "latent_frames", "latent_height", "latent_width"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json(path, doc):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def tokenizer_facts(path):
    """(vocabulary size, pad id) of a Hugging Face tokenizer.json."""
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    model = doc.get("model", {})
    vocab = model.get("vocab")
    size = len(vocab) if isinstance(vocab, (list, dict)) else 0
    ids = [t["id"] for t in doc.get("added_tokens", [])]
    size = max([size] + [i + 1 for i in ids])
    pad = next((t["id"] for t in doc.get("added_tokens", []) if t.get("content") == "<pad>"), None)
    if pad is None:
        raise safetensors_io.CheckpointError(f"{path}: no <pad> token among added_tokens")
    return size, pad


def weight_bytes(module):
    return sum(p.numel() * p.element_size() for p in module.parameters())


def latent_of(size):
    return 1 + (size["frames"] - 1) // 4, size["height"] // 8, size["width"] // 8


def _meta_flops(net, *inputs, method="__call__"):
    """FLOPs of net.<method>(*inputs) at batch 1; moves net to the meta device (call it last)."""
    meta = net.to("meta")
    return onnx_export.count_flops(getattr(meta, method), *[x.to("meta") for x in inputs])


def latent_flops(net, size, channels, max_tokens, text_dim):
    lf, lh, lw = latent_of(size)
    return _meta_flops(net, torch.zeros(1, channels, lf, lh, lw), torch.zeros(1),
                       torch.zeros(1, max_tokens, text_dim))


def decoder_flops(vae, size, channels):
    lf, lh, lw = latent_of(size)
    return _meta_flops(vae, torch.zeros(1, channels, lf, lh, lw), method="decode_video")


def text_flops(text, max_tokens):
    ones = torch.ones(1, max_tokens, dtype=torch.int64)
    return _meta_flops(text, ones, ones)


def _spec(name, tensor, dims):
    return {"name": name, "dtype": _MANIFEST_DTYPES[tensor.dtype], "shape": dims}


def _dynamic_axes(dims):
    return {name: {i: ("batch" if d == -1 else d) for i, d in enumerate(shape) if isinstance(d, str) or d == -1}
            for name, shape in dims.items()}


class Exporter:
    """Writes one model at a time into the family directory; returns its manifest entry."""

    def __init__(self, out, sizes, log):
        self.out, self.sizes, self.log = out, sizes, log

    def model(self, name, role, wrapper, inputs, output_names, dims, out_dims, external, flops):
        started = time.time()
        with torch.no_grad():
            outputs = wrapper(*inputs.values())
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        golden = os.path.join("golden", name + ".safetensors")
        tensors = {f"input.{k}": v for k, v in inputs.items()}
        tensors.update({f"output.{k}": v for k, v in zip(output_names, outputs)})
        safetensors_io.save(tensors, os.path.join(self.out, golden))
        file = name + ".onnx"
        path = os.path.join(self.out, file)
        graph = onnx_export.export(wrapper, tuple(inputs.values()), path, list(inputs), output_names,
                                   _dynamic_axes({**dims, **out_dims}), external)
        # the weights the graph holds (the decoder's, not the whole VAE's)
        params = sum(math.prod(t.dims) for t in graph.graph.initializer)
        entry = {"name": name, "role": role, "file": file, "sha256": sha256(path), "params": params}
        by_size = {s["name"]: int(flops(s)) for s in self.sizes}
        entry["flops_per_sample"] = by_size[self.sizes[0]["name"]]
        entry["flops_per_sample_by_size"] = by_size
        entry["inputs"] = [_spec(k, v, dims[k]) for k, v in inputs.items()]
        entry["outputs"] = [_spec(k, v, out_dims[k]) for k, v in zip(output_names, outputs)]
        if external:
            data = file + ".data"
            entry["external_data"] = [{"file": data, "sha256": sha256(os.path.join(self.out, data))}]
        entry["golden"] = {"file": golden, "sha256": sha256(os.path.join(self.out, golden))}
        size = sum(os.path.getsize(os.path.join(self.out, f)) for f in [file] + [x["file"] for x in
                                                                                 entry.get("external_data", [])])
        self.log(f"{file}: {entry['params']:,} params, {size:,} bytes, {entry['flops_per_sample']:.3e} FLOPs/sample "
                 f"at {self.sizes[0]['name']}, {time.time() - started:.1f} s")
        return entry


def manifest(a, entries, sizes, channels, text_dim, pad_id, scheduler, transformer_configs):
    flops = {e["role"]: e["flops_per_sample"] for e in entries}
    negative = a.negative_prompt if a.negative_prompt is not None else NEGATIVE_PROMPT_WAN
    return {
        "family": a.family,
        "description": f"WAN 2.1 text-to-video pair exported by models/export/wan21.py from {os.path.basename(os.path.normpath(a.large))} "
                       f"(large) and {os.path.basename(os.path.normpath(a.small))} (small).",
        "source": {"large": os.path.abspath(a.large), "small": os.path.abspath(a.small),
                   "scheduler": scheduler, "transformers": transformer_configs},
        "models": entries,
        "conventions": {
            "prediction_type": "flow",
            "flow": "x_sigma = (1 - sigma) * x0 + sigma * noise; velocity = noise - x0",
            "timestep_scale": 1000.0,
            "sigma_shift": sizes[0]["sigma_shift"],
            "schedule": "sigma_k = shift(1 - k/steps), k = 0..steps; shift(s) = a*s / (1 + (a - 1)*s)",
            "solver": "euler",
            "default_steps": 50,
            "default_guidance_scale": 5.0,
            "latent_channels": channels,
            "compression": {"time": 4, "space": 8, "causal": True},
            "patch": list(transformer_configs["large"]["patch_size"]),
            "sizes": sizes,
            "default_size": sizes[0]["name"],
            "video_range": [0.0, 1.0],
            "frame_rates": [16],
            "negative_prompt": negative,
            "small_to_large_flops": round(flops["velocity-small"] / flops["velocity-large"], 4),
        },
        "text": {"tokenizer": "tokenizer.json", "tokenizer_sha256": sha256(os.path.join(a.out, "tokenizer.json")),
                 "max_tokens": a.max_tokens, "pad_id": pad_id, "context_dim": text_dim, "null_prompt": ""},
    }
