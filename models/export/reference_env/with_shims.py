"""Run a script with the reference libraries made importable on THIS machine (torch 1.13, no pip):
    REF_DIFFUSERS=/tmp/ref/diffusers_v0331/src REF_TRANSFORMERS=/tmp/ref/transformers_f0e640/src \
        /usr/bin/python3 models/export/reference_env/with_shims.py SCRIPT [ARGS...]
Not part of the project: on a machine with real diffusers/transformers run SCRIPT directly."""
import os
import runpy
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
for var in ("REF_DIFFUSERS", "REF_TRANSFORMERS"):
    if os.environ.get(var):
        sys.path.insert(0, os.environ[var])
import sitecustomize_stub  # noqa: E402,F401  (huggingface_hub / safetensors / tokenizers stand-ins)
import torch_compat  # noqa: E402,F401  (torch >= 2 attributes: SDPA, RMSNorm, dtype/back-end names)

script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name="__main__")
