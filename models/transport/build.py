#!/usr/bin/python3
"""Writes the transport model families: models/transport/fp32/ and models/transport/bf16/.

Run with Debian's python3 (onnx, numpy): /usr/bin/python3 models/transport/build.py

Each family has WAN 2.1's tensor sizes at 480p (81 frames of 480x832; the autoencoder compresses
time 4x, causal, and space 8x; the transformer's patch is [1, 2, 2]), so a latent is
[B, 16, 21, 60, 104] and a text context [B, 512, 4096], and trivial compute, so that
`./flowblend bench --transport` measures what moving those tensors costs:

- velocity.onnx: velocity = Identity(latent), exactly; timestep and context are declared
  inputs the graph does not read (a worker still validates and batches them, as for a real model).
  It serves both velocity roles (velocity-large and velocity-small name the same file).
- text-encoder.onnx: input_ids [B, 512] -> context [B, 512, 4096], each id broadcast along the
  4096 channels (never run by the bench; the family needs one).
- decoder.onnx: latent -> video [B, frames, height, width, 3], every value the latent's mean
  (never run by the bench: at 480p one video is 388 MB of floats).

Besides 480p each family declares a tiny size (5 frames of 16x16: latent [B, 16, 2, 2, 2]) for
the unit tests of the bench machinery. The fp32 family is all float32; in the bf16 family the
latent, context and velocity are bfloat16 (the timestep stays float32, as WAN's pipelines keep it).
ONNX Runtime's CPU provider (1.23.2) runs Identity, Cast, Expand and ReduceMean on these types.

No text section: the bench never tokenizes (no worker of it hosts the text encoder), so these
families do not depend on the tokenizer's manifest schema.
"""
import hashlib
import json
import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
LATENT = [-1, 16, "latent_frames", "latent_height", "latent_width"]
CONTEXT = [-1, 512, 4096]
VIDEO = [-1, "frames", "height", "width", 3]
TYPES = {"float32": TensorProto.FLOAT, "bfloat16": TensorProto.BFLOAT16, "int64": TensorProto.INT64}


def value(name, dtype, shape):
    dims = ["batch" if d == -1 else d for d in shape]
    return helper.make_tensor_value_info(name, TYPES[dtype], dims)


def save(model_graph, path):
    model = helper.make_model(model_graph, producer_name="flowblend-transport",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def velocity(dtype, path):
    g = helper.make_graph(
        [helper.make_node("Identity", ["latent"], ["velocity"])], "velocity",
        [value("latent", dtype, LATENT), value("timestep", "float32", [-1]), value("context", dtype, CONTEXT)],
        [value("velocity", dtype, LATENT)])
    save(g, path)


def text_encoder(dtype, path):
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["ids_f", "axis2"], ["ids_3d"]),
        helper.make_node("Expand", ["ids_3d", "channels"], ["context_f"]),
        helper.make_node("Cast", ["context_f"], ["context"], to=TYPES[dtype]),
    ]
    inits = [helper.make_tensor("axis2", TensorProto.INT64, [1], [2]),
             helper.make_tensor("channels", TensorProto.INT64, [3], [1, 1, 4096])]
    g = helper.make_graph(nodes, "text_encoder", [value("input_ids", "int64", [-1, 512])],
                          [value("context", dtype, CONTEXT)], inits)
    save(g, path)


def decoder(dtype, path):
    # video [B, 1 + 4 (lf - 1), 8 lh, 8 lw, 3] from the latent's shape (causal time compression 4, space 8)
    nodes = [
        helper.make_node("Cast", ["latent"], ["latent_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["latent_f"], ["mean"], axes=[1, 2, 3, 4], keepdims=1),
        helper.make_node("Shape", ["latent"], ["shape"]),
        helper.make_node("Slice", ["shape", "from2", "to5"], ["lfhw"]),
        helper.make_node("Mul", ["lfhw", "scale"], ["scaled"]),
        helper.make_node("Sub", ["scaled", "causal"], ["fhw"]),
        helper.make_node("Concat", ["one", "fhw", "three"], ["video_shape"], axis=0),
        helper.make_node("Expand", ["mean", "video_shape"], ["video"]),
    ]
    inits = [helper.make_tensor("from2", TensorProto.INT64, [1], [2]),
             helper.make_tensor("to5", TensorProto.INT64, [1], [5]),
             helper.make_tensor("scale", TensorProto.INT64, [3], [4, 8, 8]),
             helper.make_tensor("causal", TensorProto.INT64, [3], [3, 0, 0]),
             helper.make_tensor("one", TensorProto.INT64, [1], [1]),
             helper.make_tensor("three", TensorProto.INT64, [1], [3])]
    g = helper.make_graph(nodes, "decoder", [value("latent", dtype, LATENT)], [value("video", "float32", VIDEO)],
                          inits)
    save(g, path)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def family(dtype, name):
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    velocity(dtype, os.path.join(out, "velocity.onnx"))
    text_encoder(dtype, os.path.join(out, "text-encoder.onnx"))
    decoder(dtype, os.path.join(out, "decoder.onnx"))

    def entry(model, role, file, inputs, outputs):
        return {"name": model, "role": role, "file": file, "sha256": sha256(os.path.join(out, file)),
                "params": 0, "flops_per_sample": 0,
                "inputs": [{"name": n, "dtype": d, "shape": s} for n, d, s in inputs],
                "outputs": [{"name": n, "dtype": d, "shape": s} for n, d, s in outputs]}

    vel_in = [("latent", dtype, LATENT), ("timestep", "float32", [-1]), ("context", dtype, CONTEXT)]
    vel_out = [("velocity", dtype, LATENT)]
    manifest = {
        "family": "flowblend-transport-" + name,
        "description": "WAN 2.1 480p tensor sizes, identity velocity (" + dtype + "): transport benchmark "
                       "(./flowblend bench --transport). Written by models/transport/build.py.",
        "models": [
            entry("text-encoder", "text-encoder", "text-encoder.onnx", [("input_ids", "int64", [-1, 512])],
                  [("context", dtype, CONTEXT)]),
            entry("decoder", "decoder", "decoder.onnx", [("latent", dtype, LATENT)], [("video", "float32", VIDEO)]),
            entry("velocity-large", "velocity-large", "velocity.onnx", vel_in, vel_out),
            entry("velocity-small", "velocity-small", "velocity.onnx", vel_in, vel_out),
        ],
        "conventions": {
            "prediction_type": "flow",
            "timestep_scale": 1000.0,
            "sigma_shift": 3.0,
            "default_steps": 50,
            "default_guidance_scale": 5.0,
            "latent_channels": 16,
            "compression": {"time": 4, "space": 8, "causal": True},
            "patch": [1, 2, 2],
            "sizes": [{"name": "480p", "frames": 81, "height": 480, "width": 832},
                      {"name": "tiny", "frames": 5, "height": 16, "width": 16}],
            "default_size": "480p",
            "frame_rates": [16],
        },
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    family("float32", "fp32")
    family("bfloat16", "bf16")
