"""Loading one component of a diffusers-layout checkpoint strictly.

A WAN 2.1 checkpoint in the diffusers layout is a directory with `model_index.json` and one folder
per component (`transformer/`, `vae/`, `text_encoder/`, `tokenizer/`, `scheduler/`), each with its
`config.json` and its weights (`diffusion_pytorch_model*.safetensors` for diffusers models,
`model*.safetensors` for transformers models). `load_strict` builds our module from the config and
loads the weights only when the names and shapes are exactly the module's: a missing, unexpected
or misshapen key is refused with the keys named, because a silently skipped weight is a model that
computes garbage.
"""
import contextlib
import os

import torch

from safetensors_io import CheckpointError, load_dir, read_config, read_json

SHOWN = 12  # keys listed per kind of mismatch; the count says how many more


def _listing(kind, names):
    shown = ", ".join(names[:SHOWN])
    more = f" (and {len(names) - SHOWN} more)" if len(names) > SHOWN else ""
    return f"{len(names)} {kind}: {shown}{more}"


def mismatches(expected, tensors):
    """(missing, unexpected, misshapen) between expected {name: shape} and a checkpoint's tensors;
    misshapen entries read 'name: checkpoint [..] vs model [..]'."""
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    misshapen = sorted(f"{n}: checkpoint {list(tensors[n].shape)} vs model {list(expected[n])}"
                       for n in set(expected) & set(tensors) if tuple(tensors[n].shape) != tuple(expected[n]))
    return missing, unexpected, misshapen


def check_keys(where, expected, tensors):
    """Raises CheckpointError naming every kind of mismatch, or returns quietly."""
    missing, unexpected, misshapen = mismatches(expected, tensors)
    problems = [_listing(kind, names) for kind, names in
                (("missing keys", missing), ("unexpected keys", unexpected), ("keys of the wrong shape", misshapen))
                if names]
    if problems:
        raise CheckpointError(f"{where}: does not match the model its config.json describes: " + "; ".join(problems))


def dominant_dtype(tensors):
    """The floating dtype holding most elements (a checkpoint's storage precision)."""
    counts = {}
    for t in tensors.values():
        if t.is_floating_point():
            counts[t.dtype] = counts.get(t.dtype, 0) + t.numel()
    if not counts:
        raise CheckpointError("the checkpoint holds no floating-point tensors")
    return max(counts, key=counts.get)


@contextlib.contextmanager
def _no_init():
    """Builds modules without initialising their weights: torch.nn.init's in-place initialisers do
    nothing inside, so a layer's weight stays the untouched torch.empty its constructor made, which
    the OS has not backed with memory yet. The checkpoint then replaces every weight (_assign), so a
    14B model never exists as initialised FP32 copies."""
    names = [n for n in dir(torch.nn.init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(torch.nn.init, n) for n in names}
    try:
        for n in names:
            setattr(torch.nn.init, n, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for n, f in saved.items():
            setattr(torch.nn.init, n, f)


def _assign(module, tensors):
    """Makes each checkpoint tensor the module's parameter of that name, as it is (its dtype, its
    memory): no copy. The names were checked against the module's before."""
    for name, t in tensors.items():
        owner_name, _, leaf = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        if leaf in owner._parameters:
            owner._parameters[leaf] = torch.nn.Parameter(t, requires_grad=False)
        else:
            owner._buffers[leaf] = t


def load_strict(component_dir, stem, build, expected_keys, canonical=None):
    """(module, config, storage dtype) of one component, weights loaded exactly.

    build(config) -> module; expected_keys(config) -> {name: shape}; canonical(tensors) -> tensors
    maps documented aliases (umT5's tied embedding) before the check. The module's parameters are
    the checkpoint's tensors in the checkpoint's dtype (a BF16 checkpoint stays 2 bytes a
    parameter); onnx_export.store_weights_as makes the module compute in FP32."""
    config = read_config(component_dir)
    try:
        expected = expected_keys(config)
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{os.path.join(component_dir, 'config.json')}: {e}") from e
    tensors = load_dir(component_dir, stem)
    if canonical is not None:
        try:
            tensors = canonical(tensors)
        except ValueError as e:
            raise CheckpointError(f"{component_dir}: {e}") from e
    check_keys(component_dir, expected, tensors)
    dtype = dominant_dtype(tensors)
    with _no_init():
        module = build(config)
    _assign(module, tensors)
    module.eval()
    return module, config, dtype


def check_pipeline(root, components):
    """The checkpoint is a diffusers WAN text-to-video pipeline with the components we need."""
    index = read_json(os.path.join(root, "model_index.json"))
    cls = index.get("_class_name")
    if cls != "WanPipeline":
        raise CheckpointError(f"{root}/model_index.json: _class_name is {cls!r}; expected 'WanPipeline' "
                              "(WAN 2.1 text-to-video in the diffusers layout)")
    for c in components:
        if not os.path.isdir(os.path.join(root, c)):
            raise CheckpointError(f"{root}: component directory {c}/ is missing")
    return index
