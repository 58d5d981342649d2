#!/usr/bin/env python3
"""Measures the export of one WAN 2.1 network at its published size, with random weights: disk,
peak memory and time of each stage, on this machine.

    /usr/bin/python3 models/export/measure_full.py WORKDIR transformer-1.3B|transformer-14B|vae|text-encoder

It writes a random checkpoint component in the diffusers layout (bf16, or the VAE's fp32) into
WORKDIR/ckpt in a child process, then runs the exporter's own path on it in this one (strict load,
the checkpoint's weights kept in their dtype, ONNX export with external data, golden, FLOP count per
WAN size) into WORKDIR/out, and prints one JSON line: seconds per stage, the export's peak resident
memory (ru_maxrss of this process, which never held the random module) and bytes on disk. Needs RAM for the fp32 module
(4 bytes a parameter) plus the checkpoint and the ONNX copy: the 1.3B transformer and the VAE fit in
24 GB; the 14B transformer and the umT5-XXL encoder do not (docs/models.md gives the arithmetic).
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import warnings

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
import torch  # noqa: E402

import checkpoint  # noqa: E402
import family_manifest  # noqa: E402
import onnx_export  # noqa: E402
import safetensors_io  # noqa: E402
import umt5  # noqa: E402
import wan21  # noqa: E402
import wan_transformer  # noqa: E402
import wan_vae  # noqa: E402


def peak_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux -> GB (10^9)


def components(what):
    """(config, module class, init, expected_keys, safetensors stem, checkpoint dtype) of a component."""
    if what.startswith("transformer-"):
        return (wan_transformer.FULL[what.split("-", 1)[1]], wan_transformer.WanTransformer,
                wan_transformer.init_random_, wan_transformer.expected_keys, "diffusion_pytorch_model", torch.bfloat16)
    if what == "vae":
        return (wan_vae.FULL, wan_vae.WanVae, wan_vae.init_random_, wan_vae.expected_keys,
                "diffusion_pytorch_model", torch.float32)
    raise SystemExit(f"unknown component {what!r}; use transformer-1.3B, transformer-14B or vae")


def write_checkpoint(ckpt, what):
    cfg, mod, init, _, stem, dtype = components(what)
    net = mod(cfg)
    init(net, 0)
    os.makedirs(ckpt)
    family_manifest.write_json(os.path.join(ckpt, "config.json"), cfg)
    safetensors_io.save({k: v.to(dtype) for k, v in net.state_dict().items()}, os.path.join(ckpt, stem + ".safetensors"))


def main():
    work, what = sys.argv[1], sys.argv[2]
    ckpt, out = os.path.join(work, "ckpt"), os.path.join(work, "out")
    if sys.argv[3:] == ["--write"]:
        write_checkpoint(ckpt, what)
        return
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(out, "golden"))
    sizes = wan21.parse_sizes(wan21.WAN_SIZES)
    stages, t = {}, time.time()
    gen = torch.Generator().manual_seed(0)
    cfg, mod, _, keys, stem, _ = components(what)
    subprocess.run([sys.executable, os.path.abspath(__file__), work, what, "--write"], check=True)
    stages["write_checkpoint_s"] = round(time.time() - t, 1)
    t = time.time()
    net, cfg, _ = checkpoint.load_strict(ckpt, stem, mod, keys)
    stages["load_strict_s"] = round(time.time() - t, 1)
    t = time.time()
    onnx_export.store_weights_as(net)
    exporter = family_manifest.Exporter(out, sizes, lambda m: print(m, file=sys.stderr, flush=True))
    lf, lh, lw = wan21.GOLDEN_LATENT
    if what.startswith("transformer-"):
        c, d = cfg["in_channels"], cfg["text_dim"]
        inputs = {"latent": torch.randn(1, c, lf, lh, lw, generator=gen).to(torch.bfloat16),
                  "timestep": torch.tensor([900.0]),
                  "context": torch.randn(1, 512, d, generator=gen).to(torch.bfloat16)}
        exporter.model("velocity", "velocity-large", wan21.Wire(net, lambda m, *a: m(*a), torch.bfloat16), inputs,
                       ["velocity"], dims={"latent": family_manifest.LATENT_DIMS(c), "timestep": [-1],
                                           "context": [-1, 512, d]},
                       out_dims={"velocity": family_manifest.LATENT_DIMS(c)}, external=True,
                       flops=lambda s: family_manifest.latent_flops(net, s, c, 512, d))
    else:
        inputs = {"latent": torch.randn(1, 16, lf, lh, lw, generator=gen).to(torch.bfloat16)}
        exporter.model("decoder", "decoder", wan21.Wire(net, lambda m, x: m.decode_video(x), torch.float32), inputs,
                       ["video"], dims={"latent": family_manifest.LATENT_DIMS(16)},
                       out_dims={"video": [-1, "frames", "height", "width", 3]}, external=False,
                       flops=lambda s: family_manifest.decoder_flops(net, s, 16))
    stages["export_golden_flops_s"] = round(time.time() - t, 1)
    disk = {f: os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs}
    ckpt_bytes = sum(os.path.getsize(os.path.join(ckpt, f)) for f in os.listdir(ckpt))
    print(json.dumps({"component": what, "params": sum(p.numel() for p in net.parameters()) if what != "vae" else None,
                      **stages, "peak_rss_gb": round(peak_gb(), 2), "checkpoint_bytes": ckpt_bytes,
                      "family_bytes": disk}))


if __name__ == "__main__":
    main()
