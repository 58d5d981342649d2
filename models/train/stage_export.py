"""Stage: export every shipped model to ONNX (opset 16), count FLOPs, write manifest and goldens."""
import hashlib
import json
import os
import time

import numpy as np
import onnx
import torch

import common
import data
import flops
import nets
import sampling
import stage_evaluator
import stage_text
import stage_velocity
import tokenizer_json
from common import log

OPSET = 16
CTX_DIM = 64


class _EvaluatorOut(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, video):
        return tuple(self.m(video))


def _export(module, args, path, inputs, outputs):
    """The shipped export (dynamic batch), plus a batch-1 static twin whose shapes all fold to
    constants, so FLOPs can be counted from the graph with every shape known."""
    dyn = {n: {0: "batch"} for n in inputs + outputs}
    torch.onnx.export(module, args, path, opset_version=OPSET, input_names=inputs, output_names=outputs,
                      dynamic_axes=dyn, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    static = common.work("static-" + os.path.basename(path))
    torch.onnx.export(module, tuple(a[:1] for a in args), static, opset_version=OPSET, input_names=inputs,
                      output_names=outputs, do_constant_folding=True)
    return static


def _io(path):
    """Inputs and outputs of the static twin, with the batch dimension marked dynamic (-1)."""
    m = onnx.load(path)
    types = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}

    def desc(vi):
        t = vi.type.tensor_type
        return {"name": vi.name, "dtype": types[t.elem_type],
                "shape": [-1] + [d.dim_value for d in t.shape.dim][1:]}
    return [desc(i) for i in m.graph.input], [desc(o) for o in m.graph.output]


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def _golden(name, inputs, outputs):
    """Reference inputs and outputs (batch 2) so the Java side can prove ONNX Runtime agrees with torch."""
    def enc(t):
        a = t.detach().numpy()
        return {"shape": list(a.shape), "dtype": str(a.dtype), "data": [round(float(x), 7) for x in a.ravel()]}
    os.makedirs(f"{common.MODELS}/golden", exist_ok=True)
    common.save_json(f"{common.MODELS}/golden/{name}.json",
                     {"inputs": {k: enc(v) for k, v in inputs.items()},
                      "outputs": {k: enc(v) for k, v in outputs.items()}})


def main(seed):
    t0 = time.time()
    torch.manual_seed(seed + 81)
    text = stage_text.load()
    _, dec = stage_evaluator.load_autoencoder()
    evaluator = stage_evaluator.load()
    velocity = {s: stage_velocity.load(s) for s in ("large", "small")}
    out = common.MODELS
    ids = common.tokens([data.GOLDEN_PROMPT, ""])
    lat = torch.randn((2,) + stage_velocity.LATENT_SHAPE)
    ts = torch.tensor([999.0, 420.0])
    entries = []
    with torch.no_grad():
        ctx = text(ids)
        static = {}
        static["text-encoder.onnx"] = _export(text, (ids,), f"{out}/text-encoder.onnx", ["input_ids"], ["context"])
        _golden("text-encoder", {"input_ids": ids}, {"context": ctx})
        entries.append(("text-encoder", "text-encoder", "text-encoder.onnx"))
        static["decoder.onnx"] = _export(dec, (lat,), f"{out}/decoder.onnx", ["latent"], ["video"])
        _golden("decoder", {"latent": lat}, {"video": dec(lat)})
        entries.append(("decoder", "decoder", "decoder.onnx"))
        for size, m in velocity.items():
            f = f"velocity-{size}.onnx"
            static[f] = _export(m, (lat, ts, ctx), f"{out}/{f}", ["latent", "timestep", "context"], ["velocity"])
            _golden(f"velocity-{size}", {"latent": lat, "timestep": ts, "context": ctx},
                    {"velocity": m(lat, ts, ctx)})
            entries.append((f"velocity-{size}", f"velocity-{size}", f))
        video = dec(lat)
        heads = list(data.ATTRIBUTES)
        static["evaluator.onnx"] = _export(_EvaluatorOut(evaluator), (video,), f"{out}/evaluator.onnx", ["video"],
                                           heads + ["features"])
        res = evaluator(video)
        _golden("evaluator", {"video": video}, {n: r for n, r in zip(heads + ["features"], res)})
        entries.append(("evaluator", "evaluator", "evaluator.onnx"))
    # the tokenizer the Java side runs (WordLevel over data.VOCAB: the ids data.tokenize gives)
    tokenizer_json.write(f"{out}/tokenizer.json", data.VOCAB)
    models = []
    for name, role, f in entries:
        ins, outs = _io(static[f])
        models.append({"name": name, "role": role, "file": f, "sha256": _sha256(f"{out}/{f}"),
                       "params": flops.params(f"{out}/{f}"), "flops_per_sample": flops.count(static[f]),
                       "inputs": ins, "outputs": outs})
        log(f"exported {f}: {models[-1]['params']} params, {models[-1]['flops_per_sample']} FLOPs/sample")
    large = next(m for m in models if m["role"] == "velocity-large")["flops_per_sample"]
    small = next(m for m in models if m["role"] == "velocity-small")["flops_per_sample"]
    manifest = {
        "family": "flowblend-shapes",
        "seed": seed,
        "description": data.DESCRIPTION,
        "models": models,
        "conventions": {
            "prediction_type": "flow",
            "flow": "x_sigma = (1 - sigma) * x0 + sigma * noise; velocity = noise - x0",
            "timestep_scale": sampling.TIMESTEP_SCALE,
            "sigma_shift": sampling.SHIFT,
            "schedule": "sigma_k = shift(1 - k/steps), k = 0..steps; shift(s) = a*s / (1 + (a - 1)*s)",
            "solver": "euler",
            "default_steps": sampling.STEPS,
            "default_guidance_scale": sampling.GUIDANCE,
            "latent_channels": stage_velocity.LATENT_SHAPE[0],
            "compression": {"time": nets.TUBELET, "space": nets.SPATIAL, "causal": False},
            "patch": [1, 2, 2],
            "sizes": [{"name": f"{data.HEIGHT}p", "frames": data.FRAMES, "height": data.HEIGHT,
                       "width": data.WIDTH}],
            "video_range": [0.0, 1.0],
            "frame_rates": [data.FPS],
            "negative_prompt": "",
            "small_to_large_flops": round(small / large, 4),
        },
        "text": {"tokenizer": "tokenizer.json", "tokenizer_sha256": _sha256(f"{out}/tokenizer.json"),
                 "max_tokens": data.MAX_TOKENS, "pad_id": 0, "context_dim": CTX_DIM, "null_prompt": ""},
        "evaluator": {"heads": {k: v for k, v in data.ATTRIBUTES.items()}, "features": "features",
                      "feature_dim": 64, "reference": "evaluator-reference.json",
                      "prompt_template": data.PROMPT_TEMPLATE},
        "prompt_grammar": data.PROMPT_GRAMMAR,
    }
    common.save_json(f"{out}/manifest.json", manifest)
    log(f"small/large FLOPs ratio {small / large:.4f} (1/{large / small:.1f})")
    common.record_time("export", time.time() - t0)


if __name__ == "__main__":
    main(common.cli_seed())
