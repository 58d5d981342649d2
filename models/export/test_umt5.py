#!/usr/bin/env python3
"""Self-test of umt5.py and umt5_tokenizer.py on the shrunk config, CPU only, a few seconds:

    /usr/bin/python3 models/export/test_umt5.py

One line per check; exit status 0 when all pass. Files go to a temporary directory, removed after.
"""
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the checkout

import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
import umt5  # noqa: E402
import umt5_tokenizer  # noqa: E402

torch.set_num_threads(1)  # shared 2-core machine; also keeps matmul order fixed
L = 16
LENGTHS = [11, 5]


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok:
        sys.exit(1)


def batch(model_vocab, lengths, seed=1, pad_ids=None):
    """Right-padded ids/mask as the tokenizer makes them: tokens, </s>, then pad (or `pad_ids`)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.zeros((len(lengths), L), dtype=torch.long)
    mask = torch.zeros((len(lengths), L), dtype=torch.long)
    for r, n in enumerate(lengths):
        ids[r, :n - 1] = torch.randint(4, model_vocab, (n - 1,), generator=g)
        ids[r, n - 1] = umt5_tokenizer.EOS_ID
        mask[r, :n] = 1
        if pad_ids is not None:
            ids[r, n:] = torch.randint(0, model_vocab, (L - n,), generator=pad_ids)
    return ids, mask


def pipeline_embeds(model, ids, mask):
    """WAN's _get_t5_prompt_embeds after the encoder: trim each row to sum(mask), pad with zeros."""
    hidden = model.hidden_states(ids, mask)
    lens = mask.gt(0).sum(dim=1).long()
    rows = [u[:v] for u, v in zip(hidden, lens)]
    return torch.stack([torch.cat([u, u.new_zeros(L - u.size(0), u.size(1))]) for u in rows])


def bucket_reference(d, num_buckets=32, max_distance=128):
    """Float64, scalar restatement of T5's bucket rule, for the exhaustive comparison."""
    half = num_buckets // 2
    exact = half // 2
    base = half if d > 0 else 0
    n = abs(d)
    if n < exact:
        return base + n
    return base + min(half - 1, exact + int(math.log(n / exact) / math.log(max_distance / exact) * (half - exact)))


# --- a tiny numpy ONNX evaluator for the ops the export uses (no onnxruntime here) -------------
def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


_NP = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}
_OPS = {
    "Add": lambda n, a, b: a + b, "Sub": lambda n, a, b: a - b, "Mul": lambda n, a, b: a * b,
    "Div": lambda n, a, b: (a // b) if a.dtype.kind == "i" else a / b, "Pow": lambda n, a, b: np.power(a, b),
    "MatMul": lambda n, a, b: np.matmul(a, b), "Sqrt": lambda n, a: np.sqrt(a), "Tanh": lambda n, a: np.tanh(a),
    "Log": lambda n, a: np.log(a), "Abs": lambda n, a: np.abs(a), "Not": lambda n, a: ~a,
    "Greater": lambda n, a, b: a > b, "Less": lambda n, a, b: a < b, "Equal": lambda n, a, b: a == b,
    "Min": lambda n, *xs: np.minimum.reduce(np.broadcast_arrays(*xs)),
    "Where": lambda n, c, a, b: np.where(c, a, b), "Shape": lambda n, a: np.array(a.shape, np.int64),
    "Cast": lambda n, a: a.astype(_NP[_attr(n, "to")]),
    "Reshape": lambda n, a, s: a.reshape([a.shape[i] if v == 0 else v for i, v in enumerate(s)]),
    "Transpose": lambda n, a: np.transpose(a, _attr(n, "perm")),
    "Unsqueeze": lambda n, a, ax: np.expand_dims(a, tuple(int(x) % (a.ndim + len(ax)) for x in ax)),
    "Concat": lambda n, *xs: np.concatenate(xs, axis=_attr(n, "axis")),
    "Gather": lambda n, a, i: np.take(a, i, axis=_attr(n, "axis", 0)),
    "Range": lambda n, s, e, d: np.arange(s, e, d, dtype=s.dtype),
    "ConstantOfShape": lambda n, s: np.full(s, numpy_helper.to_array(_attr(n, "value"))[0]),
    "Clip": lambda n, a, lo=None, hi=None: np.clip(a, lo if lo is not None and lo.size else None,
                                                   hi if hi is not None and hi.size else None),
    "ReduceMean": lambda n, a: a.mean(axis=tuple(_attr(n, "axes")), keepdims=bool(_attr(n, "keepdims", 1))),
    "Softmax": lambda n, a: (lambda e: e / e.sum(-1, keepdims=True))(np.exp(a - a.max(-1, keepdims=True))),
}


def run_onnx(model, feeds):
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        if node.op_type == "Constant":
            env[node.output[0]] = numpy_helper.to_array(_attr(node, "value"))
            continue
        if node.op_type not in _OPS:
            raise NotImplementedError(node.op_type)
        args = [env[x] if x else None for x in node.input]
        env[node.output[0]] = np.asarray(_OPS[node.op_type](node, *args))
    return [env[o.name] for o in model.graph.output]


def main():
    warnings.filterwarnings("ignore")
    tmp = tempfile.TemporaryDirectory()
    V = umt5.SHRUNK["vocab_size"]

    # tokenizer
    paths = umt5_tokenizer.write(os.path.join(tmp.name, "tokenizer"))
    doc = json.load(open(paths[0], encoding="utf-8"))
    cfg = json.load(open(paths[1], encoding="utf-8"))
    pieces = [p for p, _ in doc["model"]["vocab"]]
    again = umt5_tokenizer.write(os.path.join(tmp.name, "tokenizer2"))
    same = all(open(a, "rb").read() == open(b, "rb").read() for a, b in zip(paths, again))
    check("tokenizer: umT5 ids pad 0, </s> 1, <s> 2, <unk> 3; byte fallback; </s> appended",
          pieces[:4] == ["<pad>", "</s>", "<s>", "<unk>"] and doc["model"]["unk_id"] == 3
          and doc["model"]["byte_fallback"] is True and pieces[4] == "<0x00>"
          and doc["post_processor"]["single"][-1] == {"SpecialToken": {"id": "</s>", "type_id": 0}}
          and doc["post_processor"]["special_tokens"]["</s>"]["ids"] == [1], f"{len(pieces)} ids")
    check("tokenizer: sentinels <extra_id_N> at the top, reversed, special; config 512; deterministic",
          pieces[-1] == "<extra_id_0>" and pieces[-umt5_tokenizer.EXTRA_IDS] ==
          f"<extra_id_{umt5_tokenizer.EXTRA_IDS - 1}>" and len(pieces) == V == umt5_tokenizer.vocab_size()
          and {t["id"] for t in doc["added_tokens"]} == {0, 1, 2, 3} | set(range(V - umt5_tokenizer.EXTRA_IDS, V))
          and cfg["model_max_length"] == 512 and cfg["extra_ids"] == umt5_tokenizer.EXTRA_IDS and same)

    # build, init, shapes
    model = umt5.init_random_(umt5.UMT5Encoder(umt5.SHRUNK), seed=0).eval()
    sd = model.state_dict()
    want = umt5.expected_keys(umt5.SHRUNK)
    check("state_dict names/shapes == expected_keys(SHRUNK)",
          list(sd) == list(want) and all(tuple(sd[k].shape) == s for k, s in want.items()),
          f"{len(sd)} tensors, {umt5.param_count(umt5.SHRUNK)} parameters")
    check("every block has its own relative_attention_bias",
          sum(k.endswith("relative_attention_bias.weight") for k in sd) == umt5.SHRUNK["num_layers"])
    full = umt5.expected_keys(umt5.FULL)
    n_full = umt5.param_count(umt5.FULL)
    check("FULL (umT5-XXL encoder) param_count", n_full == 5_680_910_336 and len(full) == 242,
          f"{n_full:,} = {n_full / 1e9:.2f} B, {len(full)} tensors, {n_full * 4 / 2**30:.1f} GiB float32, "
          f"{n_full * 2 / 2**30:.1f} GiB bf16")

    # buckets
    hand = {0: 0, 1: 17, -1: 1, 7: 23, -7: 7, 8: 24, -8: 8, 11: 24, -12: 9, 15: 25, 16: 26, -16: 10,
            22: 26, 23: 27, -31: 11, 32: 28, -32: 12, 63: 29, 64: 30, -64: 14, 90: 30, 91: 31, -91: 15,
            127: 31, 128: 31, -128: 15, 1000: 31, -1000: 15}
    got = umt5.relative_position_bucket(torch.tensor(list(hand)), 32, 128).tolist()
    check("relative buckets: hand-computed values (both directions, beyond max distance)",
          got == list(hand.values()), str(dict(zip(hand, got))) if got != list(hand.values()) else "")
    ds = torch.arange(-1000, 1001)
    ok = all(umt5.relative_position_bucket(ds, nb, md).tolist() == [bucket_reference(d, nb, md) for d in ds.tolist()]
             for nb, md in [(32, 128), (32, 64), (64, 256)])
    m3 = model.buckets(3).tolist()
    check("relative buckets == float64 reference for every |d| <= 1000; [i,j] is bucket(j - i)",
          ok and m3 == [[0, 17, 18], [1, 0, 17], [2, 1, 0]])

    # forward
    ids, mask = batch(V, LENGTHS)
    with torch.no_grad():
        out = model(ids, mask)
    pad = mask == 0
    check("forward [2, 16]: float32 [2, 16, d_model], finite",
          out.shape == (2, L, umt5.SHRUNK["d_model"]) and out.dtype == torch.float32
          and bool(torch.isfinite(out).all()))
    check("padded positions exactly +0.0", bool((out[pad] == 0).all()) and not bool(torch.signbit(out[pad]).any()))
    live = out[~pad]
    check("unpadded positions non-trivial", float(live.std()) > 0.3 and bool((live.abs().sum(-1) > 1).all())
          and float((live[1:] - live[:-1]).abs().max()) > 0.1, f"std {float(live.std()):.3f}")
    with torch.no_grad():
        ref = pipeline_embeds(model, ids, mask)
    check("== WAN pipeline's trim-and-zero-pad of last_hidden_state", torch.equal(out, ref))
    ids2, _ = batch(V, LENGTHS, pad_ids=torch.Generator().manual_seed(7))
    with torch.no_grad():
        out2 = model(ids2, mask)
    check("mask works: other ids at padded positions give bitwise the same output",
          not torch.equal(ids, ids2) and torch.equal(out, out2))
    with torch.no_grad():
        alone = [model(ids[r:r + 1, :n], mask[r:r + 1, :n])[0] for r, n in enumerate(LENGTHS)]
        singles = [model(ids[r:r + 1], mask[r:r + 1])[0] for r in range(2)]
    diff_len = max(float((out[r, :n] - a).abs().max()) for r, (n, a) in enumerate(zip(LENGTHS, alone)))
    diff_b = max(float((out[r] - s).abs().max()) for r, s in enumerate(singles))
    check("batch independence: each row alone (padded or unpadded) == its row in the batch",
          diff_len < 1e-5 and diff_b < 1e-5, f"max |diff| {max(diff_len, diff_b):.1e}")

    # canonical_state
    emb = sd[umt5.EMBED_KEY]
    rest = {k: v for k, v in sd.items() if k != umt5.EMBED_KEY}
    ok_shared = set(umt5.canonical_state(sd)) == set(sd)
    via_alias = umt5.canonical_state(dict(rest, **{umt5.EMBED_ALIAS: emb}))
    both = umt5.canonical_state(dict(sd, **{umt5.EMBED_ALIAS: emb.clone()}))
    try:
        umt5.canonical_state(dict(sd, **{umt5.EMBED_ALIAS: emb + 1}))
        refused = ""
    except ValueError as e:
        refused = str(e)
    extra = umt5.canonical_state(dict(sd, **{"lm_head.weight": emb}))
    check("canonical_state: shared only, embed_tokens only, both equal; unknown keys kept",
          ok_shared and set(via_alias) == set(sd) and torch.equal(via_alias[umt5.EMBED_KEY], emb)
          and set(both) == set(sd) and "lm_head.weight" in extra)
    check("canonical_state refuses both names with different values, naming both",
          umt5.EMBED_KEY in refused and umt5.EMBED_ALIAS in refused)

    # config refusals: the message names the key and the value
    named = []
    for key, value in [("feed_forward_proj", "relu"), ("model_type", "t5"), ("dense_act_fn", "relu"),
                       ("is_decoder", True), ("relative_attention_num_buckets", 30)]:
        try:
            umt5.UMT5Encoder(dict(umt5.SHRUNK, **{key: value}))
            named.append(False)
        except ValueError as e:
            named.append(key in str(e) and str(value) in str(e))
    check("unsupported config values refused by name", all(named), f"{sum(named)}/{len(named)}")

    # safetensors round trip (checkpoint written under the alias name, bf16-free float32)
    ckpt = os.path.join(tmp.name, "text_encoder")
    os.makedirs(ckpt)
    safetensors_io.save(dict(rest, **{umt5.EMBED_ALIAS: emb}), os.path.join(ckpt, "model.safetensors"))
    with open(os.path.join(ckpt, "config.json"), "w", encoding="utf-8") as fh:
        json.dump(umt5.SHRUNK, fh)
    loaded = umt5.UMT5Encoder(safetensors_io.read_config(ckpt)).eval()
    loaded.load_state_dict(umt5.canonical_state(safetensors_io.load(os.path.join(ckpt, "model.safetensors"))),
                           strict=True)
    with torch.no_grad():
        out3 = loaded(ids, mask)
    check("safetensors round trip + strict load: bitwise the same output", torch.equal(out, out3))

    # ONNX
    p2, p3 = os.path.join(tmp.name, "b2.onnx"), os.path.join(tmp.name, "b3.onnx")
    umt5.export_onnx(model, p2, seq_len=L, batch=2)
    umt5.export_onnx(model, p3, seq_len=L, batch=3)
    graph = onnx.load(p2)
    onnx.checker.check_model(graph)
    dims = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in list(graph.graph.input) + list(graph.graph.output)}
    init_bytes = sum(numpy_helper.to_array(i).nbytes for i in graph.graph.initializer)
    param_bytes = sum(p.numel() * 4 for p in model.parameters())
    check("ONNX export (opset 17) passes onnx.checker; batch symbolic",
          dims == {"input_ids": ["batch", "sequence"], "attention_mask": ["batch", "sequence"],
                   "context": ["batch", "sequence", umt5.SHRUNK["d_model"]]}, f"{os.path.getsize(p2)} bytes")
    check("ONNX: exports traced at batch 2 and 3 are byte-identical (no batch baked in); "
          "initializers are exactly the parameters", open(p2, "rb").read() == open(p3, "rb").read()
          and init_bytes == param_bytes, f"{init_bytes} initializer bytes")
    ids3, mask3 = batch(V, [16, 9, 1], seed=3)
    onnx_out = run_onnx(graph, {"input_ids": ids3.numpy(), "attention_mask": mask3.numpy()})[0]
    with torch.no_grad():
        torch_out = model(ids3, mask3).numpy()
    worst = float(np.abs(onnx_out - torch_out).max())
    check("ONNX graph (numpy evaluator) == torch at batch 3",
          onnx_out.shape == torch_out.shape and worst < 1e-4 and bool((onnx_out[mask3.numpy() == 0] == 0).all()),
          f"max |diff| {worst:.1e}")
    tmp.cleanup()
    print("all checks passed")


if __name__ == "__main__":
    main()
