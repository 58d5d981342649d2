"""Import-time stand-ins for packages that are not installed on this (torch 1.13, no-pip) machine.

Only names that diffusers / transformers import at import time are provided; none of them is used by
the networks' forward passes (hub download, safetensors file IO, telemetry). Any other attribute of a
stub module is a fresh placeholder class, so `from huggingface_hub import HfApi` succeeds but using it
fails loudly.
"""
import importlib.abc
import importlib.machinery
import os
import sys
import types

STUB_ROOTS = ("huggingface_hub", "safetensors", "tokenizers")
# transformers checks these packages' installed versions (importlib.metadata) at import time.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_dists"))
# torch submodules newer than 1.13 that diffusers main imports at module level for context / tensor
# parallelism only (never reached by a single-device forward).
STUB_MODULES = ("torch.distributed._functional_collectives", "torch.distributed.device_mesh",
                "torch.nn.attention", "torch.nn.attention.flex_attention")

# Names whose real value matters at import time.
_VALUES = {
    "huggingface_hub.constants": {
        "HF_HOME": os.path.expanduser("~/.cache/huggingface"),
        "HF_HUB_OFFLINE": True, "HF_HUB_DISABLE_TELEMETRY": True,
        "HUGGINGFACE_HUB_CACHE": os.path.expanduser("~/.cache/huggingface/hub"),
        "HF_HUB_CACHE": os.path.expanduser("~/.cache/huggingface/hub"),
        "ENDPOINT": "https://huggingface.co", "HF_HUB_ENABLE_HF_TRANSFER": False,
        "HF_HUB_DOWNLOAD_TIMEOUT": 10, "HF_HUB_ETAG_TIMEOUT": 10,
        "HF_HUB_DISABLE_PROGRESS_BARS": True,
    },
    "huggingface_hub.file_download": {"REGEX_COMMIT_HASH": r"^[0-9a-f]{40}$"},
    "huggingface_hub": {"__version__": "0.99.0"},
    "safetensors": {"__version__": "0.4.5"},
    "tokenizers": {"__version__": "0.20.0"},
}


def _identity_decorator(fn=None, *a, **k):
    return fn


def _false(*a, **k):
    return False


_FUNCS = {"validate_hf_hub_args": _identity_decorator, "is_jinja_available": _false}


class _Placeholder(Exception):
    """Any stubbed name: a class (base class, except clause, annotation) whose instances, called as
    a decorator (`@name(...)` factories), return the decorated function unchanged."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, fn=None, *args, **kwargs):
        return fn


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        full = self.__name__ + "." + name
        values = _VALUES.get(self.__name__, {})
        if name in values:
            return values[name]
        if name in _FUNCS:
            return _FUNCS[name]
        if full in sys.modules:
            return sys.modules[full]
        # placeholder: a class (usable as base class, in except clauses, in annotations)
        cls = type(name, (_Placeholder,), {"__module__": self.__name__})
        setattr(self, name, cls)
        return cls


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in STUB_ROOTS or fullname in STUB_MODULES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        m = _StubModule(spec.name)
        m.__path__ = []
        for k, v in _VALUES.get(spec.name, {}).items():
            setattr(m, k, v)
        return m

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Finder())

# diffusers main also reads torch.distributed.device_mesh.DeviceMesh as an attribute in dataclass
# annotations without importing it: import the stubs so they are attributes of torch.distributed.
import importlib  # noqa: E402
for _m in STUB_MODULES:
    importlib.import_module(_m)
