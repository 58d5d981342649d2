#!/usr/bin/env python3
"""Writes a pair of randomly initialised WAN 2.1 text-to-video checkpoints in the diffusers layout,
with the dimensions shrunk (same structure, fewer and narrower layers), for testing the export.

    /usr/bin/python3 models/export/make_checkpoint.py OUT [--seed N] [--drop-key COMPONENT:KEY]

OUT/large and OUT/small each hold what a Hugging Face download of `Wan-AI/Wan2.1-T2V-14B-Diffusers`
(resp. `-1.3B-Diffusers`) holds: model_index.json, scheduler/scheduler_config.json, transformer/
(config.json + safetensors; the large one sharded in two with an index, as the 14B is),
vae/, text_encoder/ and tokenizer/. The VAE, text encoder and tokenizer are the same bytes in both,
as the real pair shares them. Weights are bfloat16 except the VAE's float32, as in the published
checkpoints. --drop-key removes one tensor from a component of both checkpoints (tests check the
exporter refuses it by name). Deterministic: the same arguments give the same bytes.
"""
import argparse
import json
import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import safetensors_io  # noqa: E402
import umt5  # noqa: E402
import umt5_tokenizer  # noqa: E402
import wan_transformer  # noqa: E402
import wan_vae  # noqa: E402

MODEL_INDEX = {
    "_class_name": "WanPipeline", "_diffusers_version": "0.33.0",
    "scheduler": ["diffusers", "UniPCMultistepScheduler"], "text_encoder": ["transformers", "UMT5EncoderModel"],
    "tokenizer": ["transformers", "T5TokenizerFast"], "transformer": ["diffusers", "WanTransformer3DModel"],
    "vae": ["diffusers", "AutoencoderKLWan"],
}
SCHEDULER = {"_class_name": "UniPCMultistepScheduler", "_diffusers_version": "0.33.0", "flow_shift": 3.0,
             "num_train_timesteps": 1000, "prediction_type": "flow_prediction", "use_flow_sigmas": True,
             "solver_order": 2, "solver_type": "bh2", "predict_x0": True, "lower_order_final": True}


def configs():
    """(transformer configs by size, vae config, text encoder config): the pair shares text width."""
    text = dict(umt5.SHRUNK, vocab_size=umt5_tokenizer.vocab_size())
    transformers = {k: dict(v, text_dim=text["d_model"]) for k, v in wan_transformer.SHRUNK.items()}
    return transformers, dict(wan_vae.SHRUNK), text


def _write_json(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, indent=2) + "\n")


def _state(module, dtype):
    return {k: v.detach().to(dtype).contiguous() for k, v in module.state_dict().items()}


def _drop(tensors, component, drops):
    for c, key in drops:
        if c == component:
            if key not in tensors:
                raise SystemExit(f"--drop-key {c}:{key}: {c} has no tensor {key!r}")
            del tensors[key]
    return tensors


def write(out, seed=0, drops=()):
    transformers, vae_cfg, text_cfg = configs()
    shared = os.path.join(out, ".shared")
    # shared components, written once and copied byte for byte into both checkpoints
    vae = wan_vae.WanVae(vae_cfg)
    wan_vae.init_random_(vae, seed + 10)
    _write_json(os.path.join(shared, "vae", "config.json"), dict(vae_cfg, _class_name="AutoencoderKLWan"))
    safetensors_io.save(_drop(_state(vae, torch.float32), "vae", drops),
                        os.path.join(shared, "vae", "diffusion_pytorch_model.safetensors"))
    text = umt5.UMT5Encoder(text_cfg)
    umt5.init_random_(text, seed + 20)
    _write_json(os.path.join(shared, "text_encoder", "config.json"),
                dict(text_cfg, architectures=["UMT5EncoderModel"], model_type="umt5"))
    safetensors_io.save(_drop(_state(text, torch.bfloat16), "text_encoder", drops),
                        os.path.join(shared, "text_encoder", "model.safetensors"), {"format": "pt"})
    umt5_tokenizer.write(os.path.join(shared, "tokenizer"))
    for i, (size, cfg) in enumerate(sorted(transformers.items())):
        root = os.path.join(out, size)
        if os.path.exists(root):
            shutil.rmtree(root)
        shutil.copytree(shared, root)
        _write_json(os.path.join(root, "model_index.json"), MODEL_INDEX)
        _write_json(os.path.join(root, "scheduler", "scheduler_config.json"), SCHEDULER)
        net = wan_transformer.WanTransformer(cfg)
        wan_transformer.init_random_(net, seed + 30 + i)
        _write_json(os.path.join(root, "transformer", "config.json"), dict(cfg, _class_name="WanTransformer3DModel"))
        tensors = _drop(_state(net, torch.bfloat16), "transformer", drops)
        tdir = os.path.join(root, "transformer")
        if size == "large":  # sharded, as the 14B checkpoint is
            names = sorted(tensors)
            halves = {"diffusion_pytorch_model-00001-of-00002.safetensors": names[: len(names) // 2],
                      "diffusion_pytorch_model-00002-of-00002.safetensors": names[len(names) // 2:]}
            for shard, keys in halves.items():
                safetensors_io.save({k: tensors[k] for k in keys}, os.path.join(tdir, shard))
            _write_json(os.path.join(tdir, "diffusion_pytorch_model.safetensors.index.json"),
                        {"metadata": {"total_size": sum(t.numel() * t.element_size() for t in tensors.values())},
                         "weight_map": {k: s for s, keys in halves.items() for k in keys}})
        else:
            safetensors_io.save(tensors, os.path.join(tdir, "diffusion_pytorch_model.safetensors"))
    shutil.rmtree(shared)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--drop-key", action="append", default=[], metavar="COMPONENT:KEY")
    a = ap.parse_args()
    drops = []
    for d in a.drop_key:
        component, _, key = d.partition(":")
        if component not in ("transformer", "vae", "text_encoder") or not key:
            ap.error(f"--drop-key is {d!r}; must be transformer|vae|text_encoder:KEY")
        drops.append((component, key))
    write(a.out, a.seed, drops)
    print(f"wrote {a.out}/large and {a.out}/small (shrunk WAN 2.1 T2V, random weights, seed {a.seed})")


if __name__ == "__main__":
    main()
