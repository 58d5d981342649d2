#!/usr/bin/env python3
"""A WAN-2.1-shaped stand-in model family with random (seeded) weights, generated in seconds.

    /usr/bin/python3 models/standin/wan_standin.py OUT_DIR [--dtype bfloat16|float32] [--seed N] [--velocity-gb G]

It writes a complete family directory (manifest.json with the sha256 of every file, tokenizer.json,
text-encoder.onnx, velocity-large.onnx + .data, velocity-small.onnx + .data, decoder.onnx) whose
interfaces are WAN 2.1's at toy scale: a umT5-style SentencePiece/Unigram tokenizer with byte
fallback, a text encoder taking input_ids and attention_mask and zeroing padded positions, 16 latent
channels, a causal 4x8x8 video autoencoder (frames = 1 + 4(latent_frames - 1)), 1x2x2 patches, two
video sizes with their own sigma shift, bfloat16 tensors on the wire, and velocity models whose
weights live in ONNX external data files. The weights are random: the videos are noise, the point
is to exercise serving, not quality (models/README.md, "WAN-shaped stand-in").

Deterministic: the same arguments give byte-identical files. The float32 variant stores exactly the
bfloat16-rounded weights of the same seed as float32, so BF16 and FP32 runs differ only in activation
and wire precision. --velocity-gb G adds about G*10^9 bytes of timestep-bucket embedding table to
velocity-large (read through a Gather of one row per sample), to measure loading a several-GB model
without big compute. Needs only numpy and onnx.
"""
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto

sys.dont_write_bytecode = True  # leave no __pycache__ in the checkout (tests run this)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import standin_graph as sg  # noqa: E402
import standin_tokenizer  # noqa: E402

CHANNELS = 16            # latent channels (WAN 2.1: 16)
PATCH = (1, 2, 2)        # transformer patch (WAN 2.1: 1x2x2)
COMPRESSION = {"time": 4, "space": 8, "causal": True}  # WAN 2.1 VAE
CTX_LEN = 32             # text tokens (WAN: 512)
CTX_DIM = 64             # text context width (umT5-XXL: 4096)
TIME_DIM = 64            # sinusoidal timestep features
BASE_TABLE_ROWS = 1000   # timestep buckets without --velocity-gb
WIDTHS = {"large": 64, "small": 32}
SIZES = [{"name": "480p", "frames": 9, "height": 48, "width": 80, "sigma_shift": 3.0},
         {"name": "720p", "frames": 9, "height": 64, "width": 112, "sigma_shift": 5.0}]
DEFAULT_SIZE = "480p"
NEGATIVE_PROMPT = ("overexposed, static, blurry details, subtitles, worst quality, low quality, "
                   "jpeg artifacts, ugly, deformed, messy background")
LATENT_DIMS = ["batch", CHANNELS, "latent_frames", "latent_height", "latent_width"]


def latent_of(size):
    t, s = COMPRESSION["time"], COMPRESSION["space"]
    return (1 + (size["frames"] - 1) // t, size["height"] // s, size["width"] // s)


def text_encoder(g, vocab):
    """Token embedding + position embedding, a residual MLP, LayerNorm; padded positions zeroed by the
    mask (as WAN zeroes umT5's outputs past each prompt's length)."""
    ids = g.input("input_ids", TensorProto.INT64, ["batch", CTX_LEN])
    mask = g.input("attention_mask", TensorProto.INT64, ["batch", CTX_LEN])
    h = g.op("Gather", g.weight("embed", (vocab, CTX_DIM), 1.0), ids, axis=0)
    h = g.op("Add", h, g.weight("position", (CTX_LEN, CTX_DIM), 0.1))
    m = g.layer_norm(h, "ln1", CTX_DIM)
    m = g.silu(g.linear(m, "fc1", CTX_DIM, 2 * CTX_DIM))
    h = g.op("Add", h, g.linear(m, "fc2", 2 * CTX_DIM, CTX_DIM))
    h = g.layer_norm(h, "ln2", CTX_DIM)
    keep = g.op("Unsqueeze", g.op("Cast", mask, to=TensorProto.FLOAT), g.const_i64([2]))
    g.output("context", g.to_family(g.op("Mul", h, keep)), ["batch", CTX_LEN, CTX_DIM])


def velocity(g, width, table_rows):
    """DiT-style velocity model at toy scale: patchify 1x2x2 with shapes read from the input, linear
    patch embedding, sinusoidal timestep MLP plus a timestep-bucket table row, one cross-attention
    block over the text context, an MLP, unpatchify."""
    latent = g.input("latent", g.family, LATENT_DIMS)
    timestep = g.input("timestep", TensorProto.FLOAT, ["batch"])
    context = g.input("context", g.family, ["batch", CTX_LEN, CTX_DIM])
    patch_dim = CHANNELS * PATCH[0] * PATCH[1] * PATCH[2]
    x = g.to_f32(latent)
    shape = g.op("Shape", x)
    b, f, hh, ww = (g.op("Gather", shape, g.const_i64([i]), axis=0) for i in (0, 2, 3, 4))
    h2 = g.op("Div", hh, g.const_i64([PATCH[1]]))
    w2 = g.op("Div", ww, g.const_i64([PATCH[2]]))
    c, p1, p2 = g.const_i64([CHANNELS]), g.const_i64([PATCH[1]]), g.const_i64([PATCH[2]])
    x = g.op("Reshape", x, g.op("Concat", b, c, f, h2, p1, w2, p2, axis=0))
    x = g.op("Transpose", x, perm=[0, 2, 3, 5, 1, 4, 6])          # [B, F, H/2, W/2, C, 2, 2]
    x = g.op("Reshape", x, g.op("Concat", b, g.const_i64([-1]), g.const_i64([patch_dim]), axis=0))
    h = g.linear(x, "patch_embed", patch_dim, width)               # [B, N, W]

    half = TIME_DIM // 2
    freqs = np.exp(-math.log(10000.0) * np.arange(half, dtype=np.float64) / half).astype(np.float32)
    arg = g.op("Mul", g.op("Unsqueeze", timestep, g.const_i64([1])), g.const_f32(freqs.reshape(1, half)))
    temb = g.op("Concat", g.op("Cos", arg), g.op("Sin", arg), axis=1)
    temb = g.linear(g.silu(g.linear(temb, "time_fc1", TIME_DIM, width)), "time_fc2", width, width)
    bucket = g.op("Floor", g.op("Mul", timestep, g.const_f32(np.float32(table_rows / 1000.0))))
    bucket = g.op("Cast", g.op("Clip", bucket, g.const_f32(np.float32(0)), g.const_f32(np.float32(table_rows - 1))),
                  to=TensorProto.INT64)
    row = g.op("Gather", g.table("time_table", table_rows, width, 0.1), bucket, axis=0)  # [B, W], one row read
    temb = g.op("Add", temb, g.to_f32(row))
    h = g.op("Add", h, g.op("Unsqueeze", temb, g.const_i64([1])))

    ctx = g.to_f32(context)
    q = g.linear(g.layer_norm(h, "attn_norm", width), "q", width, width)
    k = g.linear(ctx, "k", CTX_DIM, width)
    v = g.linear(ctx, "v", CTX_DIM, width)
    scores = g.op("Mul", g.op("MatMul", q, g.op("Transpose", k, perm=[0, 2, 1])),
                  g.const_f32(np.float32(1.0 / math.sqrt(width))))
    attn = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
    h = g.op("Add", h, g.linear(attn, "o", width, width))
    m = g.silu(g.linear(g.layer_norm(h, "mlp_norm", width), "mlp_fc1", width, 4 * width))
    h = g.op("Add", h, g.linear(m, "mlp_fc2", 4 * width, width))
    out = g.linear(g.layer_norm(h, "out_norm", width), "head", width, patch_dim)   # [B, N, 64]

    out = g.op("Reshape", out, g.op("Concat", b, f, h2, w2, c, p1, p2, axis=0))
    out = g.op("Transpose", out, perm=[0, 4, 1, 2, 5, 3, 6])      # [B, C, F, H/2, 2, W/2, 2]
    out = g.op("Reshape", out, shape)
    g.output("velocity", g.to_family(out), LATENT_DIMS)


def decoder(g):
    """Causal-VAE-shaped decoder: one ConvTranspose with kernel = stride = (4, 8, 8) to RGB gives
    4*latent_frames frames; the first 3 are dropped (frames = 1 + 4(latent_frames - 1)); sigmoid."""
    latent = g.input("latent", g.family, LATENT_DIMS)
    t, s = COMPRESSION["time"], COMPRESSION["space"]
    w = g.weight("deconv", (CHANNELS, 3, t, s, s), 1.0 / math.sqrt(CHANNELS))
    y = g.op("ConvTranspose", g.to_f32(latent), w, g.weight("deconv_bias", (3,), 0.1),
             kernel_shape=[t, s, s], strides=[t, s, s])
    y = g.op("Slice", y, g.const_i64([t - 1]), g.const_i64([2 ** 62]), g.const_i64([2]))
    y = g.op("Transpose", g.op("Sigmoid", y), perm=[0, 2, 3, 4, 1])
    g.output("video", y, ["batch", "frames", "height", "width", 3], TensorProto.FLOAT)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            h.update(chunk)
    return h.hexdigest()


def spec(vi, dims):
    names = {TensorProto.FLOAT: "float32", TensorProto.BFLOAT16: "bfloat16", TensorProto.INT64: "int64"}
    return {"name": vi.name, "dtype": names[vi.type.tensor_type.elem_type],
            "shape": [-1] + list(dims[1:])}


def sample_inputs(g, size):
    """Batch-1 inputs at a size, for counting FLOPs from the evaluated graph."""
    lf, lh, lw = latent_of(size)
    feeds = {"input_ids": np.ones((1, CTX_LEN), np.int64), "attention_mask": np.ones((1, CTX_LEN), np.int64),
             "latent": np.zeros((1, CHANNELS, lf, lh, lw), np.float32), "timestep": np.array([500.0], np.float32),
             "context": np.zeros((1, CTX_LEN, CTX_DIM), np.float32)}
    return {k: v for k, v in feeds.items() if k in g.input_names()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--velocity-gb", type=float, default=0.0)
    a = ap.parse_args()
    if a.velocity_gb < 0:
        ap.error(f"--velocity-gb is {a.velocity_gb}; must be >= 0")
    family = TensorProto.BFLOAT16 if a.dtype == "bfloat16" else TensorProto.FLOAT
    os.makedirs(a.out_dir, exist_ok=True)
    out = a.out_dir

    tok = standin_tokenizer.build()
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as fh:
        fh.write(json.dumps(tok, indent=2, ensure_ascii=False) + "\n")
    vocab = len(tok["model"]["vocab"])

    table_bytes = 2 if family == TensorProto.BFLOAT16 else 4
    large_rows = BASE_TABLE_ROWS
    if a.velocity_gb > 0:
        large_rows = max(BASE_TABLE_ROWS, int(round(a.velocity_gb * 1e9 / (WIDTHS["large"] * table_bytes))))
    builds = [("text-encoder", "text-encoder", 1, lambda g: text_encoder(g, vocab), False),
              ("velocity-large", "velocity-large", 2, lambda g: velocity(g, WIDTHS["large"], large_rows), True),
              ("velocity-small", "velocity-small", 3, lambda g: velocity(g, WIDTHS["small"], BASE_TABLE_ROWS), True),
              ("decoder", "decoder", 4, decoder, False)]
    models = []
    for name, role, stream, build, external in builds:
        g = sg.Graph(name, family, a.seed, stream)
        build(g)
        f = name + ".onnx"
        data = f + ".data" if external else None
        model = g.save(os.path.join(out, f), data)
        onnx.checker.check_model(os.path.join(out, f), full_check=True)
        flops = {s["name"]: g.flops(sample_inputs(g, s)) for s in SIZES}
        entry = {"name": name, "role": role, "file": f, "sha256": sha256(os.path.join(out, f)),
                 "params": g.params(), "flops_per_sample": flops[DEFAULT_SIZE], "flops_per_sample_by_size": flops,
                 "inputs": [spec(vi, d) for vi, d in zip(model.graph.input, g.input_dims)],
                 "outputs": [spec(vi, d) for vi, d in zip(model.graph.output, g.output_dims)]}
        if data:
            entry["external_data"] = [{"file": data, "sha256": sha256(os.path.join(out, data))}]
        models.append(entry)
        print(f"{f}: {entry['params']} params, {entry['flops_per_sample']} FLOPs/sample at {DEFAULT_SIZE}"
              + (f", external data {os.path.getsize(os.path.join(out, data))} bytes" if data else ""), flush=True)
    large = next(m for m in models if m["role"] == "velocity-large")["flops_per_sample"]
    small = next(m for m in models if m["role"] == "velocity-small")["flops_per_sample"]
    manifest = {
        "family": "wan-standin-" + a.dtype,
        "seed": a.seed,
        "description": "WAN-2.1-shaped stand-in with random weights (models/standin/wan_standin.py --dtype "
                       f"{a.dtype} --seed {a.seed} --velocity-gb {a.velocity_gb:g}): exercises serving, not quality.",
        "models": models,
        "conventions": {
            "prediction_type": "flow",
            "flow": "x_sigma = (1 - sigma) * x0 + sigma * noise; velocity = noise - x0",
            "timestep_scale": 1000.0,
            "sigma_shift": 3.0,
            "schedule": "sigma_k = shift(1 - k/steps), k = 0..steps; shift(s) = a*s / (1 + (a - 1)*s)",
            "solver": "euler",
            "default_steps": 50,
            "default_guidance_scale": 5.0,
            "latent_channels": CHANNELS,
            "compression": COMPRESSION,
            "patch": list(PATCH),
            "sizes": SIZES,
            "default_size": DEFAULT_SIZE,
            "video_range": [0.0, 1.0],
            "frame_rates": [16],
            "negative_prompt": NEGATIVE_PROMPT,
            "small_to_large_flops": round(small / large, 4),
        },
        "text": {"tokenizer": "tokenizer.json", "tokenizer_sha256": sha256(os.path.join(out, "tokenizer.json")),
                 "max_tokens": CTX_LEN, "pad_id": standin_tokenizer.PAD_ID, "context_dim": CTX_DIM,
                 "null_prompt": ""},
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as fh:
        fh.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}: small/large FLOPs {small / large:.4f}", flush=True)


if __name__ == "__main__":
    main()
