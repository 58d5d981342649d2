"""Reading and writing safetensors files and diffusers/transformers checkpoint directories, with
torch only (the `safetensors` package is not installed here).

The format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N, N
bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then
the tensors' bytes, little-endian, offsets relative to the end of the header. A sharded checkpoint
adds `<stem>.safetensors.index.json` whose "weight_map" names the shard of every tensor.

Tensors are read into memory one file at a time (torch.frombuffer over a bytearray): fine for the
shrunk checkpoints and the 1.3B model; the 14B transformer's 57 GB of bf16 shards are read one shard
at a time by `load_dir`, never all twice.
"""
import json
import os
import struct

import torch

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


class CheckpointError(ValueError):
    """A checkpoint file or directory that cannot be read as declared; the message names the file."""


def read_header(path):
    """(header dict without __metadata__, metadata dict, data start offset)."""
    with open(path, "rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            raise CheckpointError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
        (n,) = struct.unpack("<Q", raw)
        size = os.fstat(fh.fileno()).st_size
        if n > size - 8 or n > 100_000_000:
            raise CheckpointError(f"{path}: header length {n} exceeds the file ({size} bytes)")
        try:
            header = json.loads(fh.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: header is not JSON: {e}") from e
    meta = header.pop("__metadata__", {}) or {}
    return header, meta, 8 + n


def load(path):
    """{name: tensor} of one safetensors file, in the file's dtypes."""
    header, _, start = read_header(path)
    with open(path, "rb") as fh:
        fh.seek(start)
        blob = bytearray(os.fstat(fh.fileno()).st_size - start)  # read into place: one copy in memory
        fh.readinto(blob)
    out = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise CheckpointError(f"{path}: tensor {name!r} has dtype {info.get('dtype')!r}; "
                                  f"supported: {sorted(_DTYPES)}")
        begin, end = info["data_offsets"]
        shape = [int(d) for d in info["shape"]]
        count = 1
        for d in shape:
            count *= d
        itemsize = torch.empty((), dtype=dtype).element_size()
        if end - begin != count * itemsize or end > len(blob):
            raise CheckpointError(f"{path}: tensor {name!r} offsets {begin}..{end} do not hold "
                                  f"{shape} of {info['dtype']}")
        if count == 0:
            out[name] = torch.empty(shape, dtype=dtype)
        else:
            out[name] = torch.frombuffer(blob, dtype=dtype, count=count, offset=begin).reshape(shape)
    return out


def save(tensors, path, metadata=None):
    """Writes {name: tensor} as one safetensors file, names sorted, 8-byte aligned header."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype not in _NAMES:
            raise CheckpointError(f"tensor {name!r}: dtype {t.dtype} cannot be written")
        data = t.view(torch.uint8).numpy().tobytes() if t.dim() else t.reshape(1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for c in chunks:
            fh.write(c)


def load_dir(directory, stem):
    """All tensors of a component directory: `<stem>.safetensors`, or the shards its
    `<stem>.safetensors.index.json` names (diffusers: stem "diffusion_pytorch_model"; transformers:
    "model")."""
    single = os.path.join(directory, stem + ".safetensors")
    index = single + ".index.json"
    if os.path.exists(index):
        with open(index, encoding="utf-8") as fh:
            weight_map = json.load(fh).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise CheckpointError(f"{index}: no weight_map")
        out = {}
        for shard in sorted(set(weight_map.values())):
            part = os.path.join(directory, shard)
            if not os.path.exists(part):
                raise CheckpointError(f"{index}: names shard {shard!r}, which is missing")
            tensors = load(part)
            for name, t in tensors.items():
                if weight_map.get(name) != shard:
                    raise CheckpointError(f"{part}: tensor {name!r} is not mapped to this shard in {index}")
                out[name] = t
        missing = sorted(set(weight_map) - set(out))
        if missing:
            raise CheckpointError(f"{index}: tensors mapped but absent from their shards: {missing[:10]}")
        return out
    if os.path.exists(single):
        return load(single)
    raise CheckpointError(f"{directory}: neither {stem}.safetensors nor {stem}.safetensors.index.json")


def read_json(path):
    """A JSON file as a dict; a missing or malformed file is a CheckpointError naming it."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError as e:
        raise CheckpointError(f"{path}: missing") from e
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: not JSON: {e}") from e


def read_config(directory):
    """The component's config.json as a dict."""
    return read_json(os.path.join(directory, "config.json"))
