#!/usr/bin/env python3
"""Exports a WAN 2.1 text-to-video pair in the diffusers layout to a flowblend model family.

    /usr/bin/python3 models/export/wan21.py --large CKPT_14B --small CKPT_1_3B --out FAMILY
        [--dtype auto|bfloat16|float32] [--sizes NAME:FRAMES:HEIGHT:WIDTH:SHIFT,...]
        [--max-tokens 512] [--negative-prompt TEXT] [--family NAME]

CKPT_* are diffusers checkpoint directories (e.g. Hugging Face `Wan-AI/Wan2.1-T2V-14B-Diffusers`
and `-1.3B-Diffusers`). The two must share their VAE, text encoder and tokenizer byte for byte (the
published pair does): FlowBlending hands one latent between the two transformers. Every component
is built by our own implementation (wan_transformer.py, wan_vae.py, umt5.py) and loaded strictly:
a missing, unexpected or misshapen weight stops the export, naming the keys.

FAMILY gets: velocity-large.onnx/-small.onnx (+ .data: weights as ONNX external data), decoder.onnx
(the VAE decoder with WAN's latent de-normalisation), text-encoder.onnx (umT5; padded positions
zeroed, as the WAN pipeline does), tokenizer.json, golden/<model>.safetensors (reference inputs and
our torch modules' outputs; `./flowblend verify --models FAMILY` runs them in ONNX Runtime) and
manifest.json (sha256 of every file, WAN's conventions). Weights keep the checkpoint's precision
(`auto`; BF16 transformers and text encoder, FP32 VAE for the published checkpoints) and compute in
FP32; with BF16 transformers the latent and context travel as BF16. `--dtype float32` stores and
moves everything in FP32 (BF16 weights widen exactly); `--dtype bfloat16` also rounds FP32 weights
(the VAE's) to BF16. Exit status 2 with one line naming the problem on bad input.
"""
import argparse
import os
import shutil
import sys
import time
import warnings

sys.dont_write_bytecode = True
# torch 1.13's exporter warns about shape inference of constants and unfoldable slices on every
# graph; the exported graphs are checked (onnx.checker, and ./flowblend verify runs the goldens)
warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import checkpoint  # noqa: E402
import family_manifest  # noqa: E402
import onnx_export  # noqa: E402
import safetensors_io  # noqa: E402
import umt5  # noqa: E402
import wan_transformer  # noqa: E402
import wan_vae  # noqa: E402
from safetensors_io import CheckpointError  # noqa: E402

SHARED = ("vae", "text_encoder", "tokenizer")
# WAN 2.1's sizes (81 frames, 16 fps) with the sample shift its reference uses per resolution
WAN_SIZES = "480p:81:480:832:3.0,720p:81:720:1280:5.0"
GOLDEN_LATENT = (2, 4, 6)   # latent frames, height, width of the goldens: small, so a 14B golden is cheap
GOLDEN_BATCH = 2


class Wire(torch.nn.Module):
    """Casts inputs from the wire dtype to float32 and outputs back, around a float32 network."""

    def __init__(self, model, fn, out_dtype):
        super().__init__()
        self.model = model
        self.fn = fn
        self.out_dtype = out_dtype

    def forward(self, *args):
        widened = [a.float() if a.is_floating_point() else a for a in args]
        return self.fn(self.model, *widened).to(self.out_dtype)


def parse_sizes(text):
    sizes = []
    for i, item in enumerate(text.split(",")):
        parts = item.split(":")
        if len(parts) != 5:
            raise CheckpointError(f"--sizes[{i}] is {item!r}; must be NAME:FRAMES:HEIGHT:WIDTH:SHIFT")
        name, frames, height, width, shift = parts
        try:
            size = {"name": name, "frames": int(frames), "height": int(height), "width": int(width),
                    "sigma_shift": float(shift)}
        except ValueError as e:
            raise CheckpointError(f"--sizes[{i}] is {item!r}: {e}") from e
        if (size["frames"] - 1) % 4 or size["height"] % 16 or size["width"] % 16 or size["sigma_shift"] <= 0:
            raise CheckpointError(f"--sizes[{i}] is {item!r}; frames must be 1 + 4k and height, width multiples of 16 "
                                  "(WAN: 4x time, 8x space, 1x2x2 patches), shift > 0")
        sizes.append(size)
    return sizes


def same_files(a, b, component):
    """Refuses a pair whose shared component differs (compared file by file, by sha256)."""
    da, db = os.path.join(a, component), os.path.join(b, component)
    fa, fb = sorted(os.listdir(da)), sorted(os.listdir(db))
    if fa != fb:
        raise CheckpointError(f"{component}/ differs between --large ({fa}) and --small ({fb}); the pair must share it")
    for f in fa:
        if family_manifest.sha256(os.path.join(da, f)) != family_manifest.sha256(os.path.join(db, f)):
            raise CheckpointError(f"{component}/{f} differs between --large and --small; FlowBlending needs one "
                                  f"{component} for both models")


def load_transformer(root):
    return checkpoint.load_strict(os.path.join(root, "transformer"), "diffusion_pytorch_model",
                                  wan_transformer.WanTransformer, wan_transformer.expected_keys)


def storage(choice):
    """The weights' storage dtype for --dtype: None keeps each weight's checkpoint dtype."""
    return {"auto": None, "bfloat16": torch.bfloat16, "float32": torch.float32}[choice]


def resolve_dtype(choice, found):
    if choice == "auto":
        return found if found in (torch.bfloat16, torch.float16) else torch.float32
    return {"bfloat16": torch.bfloat16, "float32": torch.float32}[choice]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--large", required=True)
    ap.add_argument("--small", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["auto", "bfloat16", "float32"], default="auto")
    ap.add_argument("--sizes", default=WAN_SIZES)
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--negative-prompt", default=None)
    ap.add_argument("--family", default="wan2.1-t2v")
    ap.add_argument("--seed", type=int, default=0, help="seed of the golden inputs")
    a = ap.parse_args(argv)
    try:
        export(a)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def export(a):
    started = time.time()
    if not 1 <= a.max_tokens <= 4096:
        raise CheckpointError(f"--max-tokens is {a.max_tokens}; must be 1..4096")
    sizes = parse_sizes(a.sizes)
    for root in (a.large, a.small):
        checkpoint.check_pipeline(root, ("transformer",) + SHARED)
    for c in SHARED:
        same_files(a.large, a.small, c)
    os.makedirs(os.path.join(a.out, "golden"), exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    log = lambda msg: print(f"[{time.time() - started:7.1f} s] {msg}", flush=True)  # noqa: E731

    # load and check everything before writing any model
    large, large_cfg, large_dtype = load_transformer(a.large)
    log(f"--large transformer: {sum(p.numel() for p in large.parameters()):,} params, {large_dtype}")
    small, small_cfg, small_dtype = load_transformer(a.small)
    log(f"--small transformer: {sum(p.numel() for p in small.parameters()):,} params, {small_dtype}")
    for key in ("in_channels", "out_channels", "patch_size", "text_dim"):
        if large_cfg.get(key) != small_cfg.get(key):
            raise CheckpointError(f"transformer/config.json {key} is {large_cfg.get(key)} in --large but "
                                  f"{small_cfg.get(key)} in --small; the pair must agree")
    vae, vae_cfg, vae_dtype = checkpoint.load_strict(os.path.join(a.large, "vae"), "diffusion_pytorch_model",
                                                     wan_vae.WanVae, wan_vae.expected_keys)
    text, text_cfg, text_dtype = checkpoint.load_strict(os.path.join(a.large, "text_encoder"), "model",
                                                        umt5.UMT5Encoder, umt5.expected_keys, umt5.canonical_state)
    log(f"vae {vae_dtype}, text encoder {text_dtype}: loaded strictly")
    if vae_cfg.get("z_dim") != large_cfg.get("in_channels") or text_cfg.get("d_model") != large_cfg.get("text_dim"):
        raise CheckpointError(f"vae z_dim {vae_cfg.get('z_dim')} / text encoder d_model {text_cfg.get('d_model')} do "
                              f"not match the transformer's in_channels {large_cfg.get('in_channels')} / text_dim "
                              f"{large_cfg.get('text_dim')}")
    tok_src = os.path.join(a.large, "tokenizer", "tokenizer.json")
    if not os.path.exists(tok_src):
        raise CheckpointError(f"{tok_src}: missing (flowblend reads the Hugging Face tokenizer.json)")
    shutil.copyfile(tok_src, os.path.join(a.out, "tokenizer.json"))
    vocab, pad_id = family_manifest.tokenizer_facts(os.path.join(a.out, "tokenizer.json"))
    if vocab > text_cfg["vocab_size"]:
        raise CheckpointError(f"tokenizer.json has {vocab} tokens but text_encoder vocab_size is {text_cfg['vocab_size']}")

    wire = torch.bfloat16 if resolve_dtype(a.dtype, large_dtype) == torch.bfloat16 else torch.float32
    channels, text_dim = large_cfg["in_channels"], large_cfg["text_dim"]
    entries = []
    exporter = family_manifest.Exporter(a.out, sizes, log)

    def velocity_fn(m, latent, timestep, context):
        return m(latent, timestep, context)
    for name, net in (("velocity-large", large), ("velocity-small", small)):
        onnx_export.store_weights_as(net, storage(a.dtype))
        lf, lh, lw = GOLDEN_LATENT
        inputs = {"latent": torch.randn(GOLDEN_BATCH, channels, lf, lh, lw, generator=gen).to(wire),
                  "timestep": torch.tensor([900.0, 300.0][:GOLDEN_BATCH]),
                  "context": torch.randn(GOLDEN_BATCH, a.max_tokens, text_dim, generator=gen).to(wire)}
        entries.append(exporter.model(
            name, name, Wire(net, velocity_fn, wire), inputs, ["velocity"],
            dims={"latent": family_manifest.LATENT_DIMS(channels), "timestep": [-1],
                  "context": [-1, a.max_tokens, text_dim]},
            out_dims={"velocity": family_manifest.LATENT_DIMS(channels)}, external=True,
            flops=lambda s, n=net: family_manifest.latent_flops(n, s, channels, a.max_tokens, text_dim)))
        del net
    large = small = None

    def decode_fn(m, latent):
        return m.decode_video(latent)
    onnx_export.store_weights_as(vae, storage(a.dtype))
    lf, lh, lw = GOLDEN_LATENT
    entries.append(exporter.model(
        "decoder", "decoder", Wire(vae, decode_fn, torch.float32),
        {"latent": torch.randn(1, channels, lf, lh, lw, generator=gen).to(wire)}, ["video"],
        dims={"latent": family_manifest.LATENT_DIMS(channels)},
        out_dims={"video": [-1, "frames", "height", "width", 3]}, external=False,
        flops=lambda s: family_manifest.decoder_flops(vae, s, channels)))

    def text_fn(m, ids, mask):
        return m(ids, mask)
    onnx_export.store_weights_as(text, storage(a.dtype))
    ids = torch.randint(3, vocab, (GOLDEN_BATCH, a.max_tokens), generator=gen)
    mask = torch.zeros(GOLDEN_BATCH, a.max_tokens, dtype=torch.int64)
    for b in range(GOLDEN_BATCH):
        mask[b, : max(1, a.max_tokens // (b + 2))] = 1
    ids = ids * mask + pad_id * (1 - mask)
    entries.append(exporter.model(
        "text-encoder", "text-encoder", Wire(text, text_fn, wire), {"input_ids": ids, "attention_mask": mask},
        ["context"], dims={"input_ids": [-1, a.max_tokens], "attention_mask": [-1, a.max_tokens]},
        out_dims={"context": [-1, a.max_tokens, text_dim]},
        external=family_manifest.weight_bytes(text) > family_manifest.INLINE_LIMIT,
        flops=lambda s: family_manifest.text_flops(text, a.max_tokens)))

    scheduler = safetensors_io.read_json(os.path.join(a.large, "scheduler", "scheduler_config.json"))
    manifest = family_manifest.manifest(a, entries, sizes, channels, text_dim, pad_id, scheduler,
                                         {"large": large_cfg, "small": small_cfg})
    family_manifest.write_json(os.path.join(a.out, "manifest.json"), manifest)
    log(f"wrote {a.out}/manifest.json; check it with: ./flowblend verify --models {a.out}")


if __name__ == "__main__":
    sys.exit(main())
