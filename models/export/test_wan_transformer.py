"""Self-test of wan_transformer.py: `/usr/bin/python3 models/export/test_wan_transformer.py` exits 0 when
every check passes, printing one line per check. CPU only, a few seconds, shrunk configs only (FULL
configs are only measured on the meta device)."""
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ beside the sources

import os
import tempfile
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_export  # noqa: E402
import safetensors_io  # noqa: E402
import wan_transformer as wt  # noqa: E402

warnings.filterwarnings("ignore")  # tracer / exporter chatter
torch.set_num_threads(2)


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok:
        sys.exit(1)


def inputs(cfg, shape, seed):
    g = torch.Generator().manual_seed(seed)
    b = shape[0]
    return (torch.randn(shape, generator=g), torch.rand(b, generator=g) * 1000,
            torch.randn(b, 7, cfg["text_dim"], generator=g))


def build(cfg, seed=1):
    return wt.init_random_(wt.WanTransformer(cfg), seed).eval()


def main():
    models = {k: build(c) for k, c in wt.SHRUNK.items()}
    for key, m in models.items():
        for shape in ([2, 16, 3, 6, 10], [1, 16, 2, 8, 8]):
            with torch.no_grad():
                y = m(*inputs(wt.SHRUNK[key], shape, 2))
            ok = list(y.shape) == shape and bool(torch.isfinite(y).all()) and 0.05 < y.std().item() < 20
            check(f"forward shrunk {key} {shape}", ok, f"shape {list(y.shape)}, std {y.std().item():.3f}")

    for key, cfg in wt.SHRUNK.items():
        real = {k: tuple(v.shape) for k, v in models[key].state_dict().items()}
        check(f"state_dict == expected_keys ({key})", real == wt.expected_keys(cfg), f"{len(real)} tensors")

    # Spot-check names/shapes the diffusers checkpoint carries (1.3B: D = 1536).
    keys = wt.expected_keys(wt.FULL["1.3B"])
    spot = {"patch_embedding.weight": (1536, 16, 1, 2, 2), "patch_embedding.bias": (1536,),
            "condition_embedder.time_embedder.linear_1.weight": (1536, 256),
            "condition_embedder.time_embedder.linear_2.weight": (1536, 1536),
            "condition_embedder.time_proj.weight": (9216, 1536),
            "condition_embedder.text_embedder.linear_1.weight": (1536, 4096),
            "condition_embedder.text_embedder.linear_2.bias": (1536,),
            "blocks.29.attn1.to_out.0.weight": (1536, 1536), "blocks.0.attn1.norm_q.weight": (1536,),
            "blocks.0.attn2.norm_k.weight": (1536,), "blocks.0.attn2.to_v.bias": (1536,),
            "blocks.0.norm2.weight": (1536,), "blocks.0.norm2.bias": (1536,),
            "blocks.0.ffn.net.0.proj.weight": (8960, 1536), "blocks.0.ffn.net.2.weight": (1536, 8960),
            "blocks.0.scale_shift_table": (1, 6, 1536), "scale_shift_table": (1, 2, 1536),
            "proj_out.weight": (64, 1536), "proj_out.bias": (64,)}
    bad = {k: keys.get(k) for k, s in spot.items() if keys.get(k) != s}
    check("1.3B names/shapes spot-check", not bad and len(keys) == 30 * 27 + 15, f"{len(keys)} tensors {bad or ''}")

    n13, n14 = wt.param_count(wt.FULL["1.3B"]), wt.param_count(wt.FULL["14B"])
    check("param_count 1.3B in 1.3-1.5 B", 1.3e9 <= n13 <= 1.5e9, f"{n13:,}")
    check("param_count 14B in 13-15 B", 13e9 <= n14 <= 15e9, f"{n14:,}")

    bad_cfg = dict(wt.SHRUNK["small"], image_dim=1280)
    try:
        wt.WanTransformer(bad_cfg)
        msg = None
    except ValueError as e:
        msg = str(e)
    check("image_dim refused, key named", msg is not None and "image_dim" in msg, msg or "accepted")

    check_rope_against_complex()
    check_sinusoid()

    cfg, m = wt.SHRUNK["small"], models["small"]
    a, b = inputs(cfg, [2, 16, 3, 6, 10], 3), inputs(cfg, [1, 16, 2, 8, 8], 4)
    # The tracer is what ONNX export uses; a size baked into the trace shows up at another size.
    with torch.no_grad():
        traced = torch.jit.trace(m, a, check_trace=False)
        diff = (traced(*b) - m(*b)).abs().max().item()
    check("trace at one size runs another size", diff < 1e-5, f"max |diff| {diff:.2e}")

    with tempfile.TemporaryDirectory() as tmp:
        check_onnx(m, a, b, tmp)
        path = os.path.join(tmp, "small.safetensors")
        safetensors_io.save(m.state_dict(), path)
        fresh = wt.WanTransformer(cfg)
        res = fresh.load_state_dict(safetensors_io.load(path), strict=True)
        fresh.eval()
        with torch.no_grad():
            same = torch.equal(fresh(*a), m(*a))
        check("safetensors round-trip, strict load, bitwise output", same and not res.missing_keys
              and not res.unexpected_keys)

    m = models["large"]
    lat, t, ctx = inputs(wt.SHRUNK["large"], [2, 16, 3, 6, 10], 5)
    with torch.no_grad():
        y2, y1 = m(lat, t, ctx), m(lat[:1], t[:1], ctx[:1])
    diff = (y2[:1] - y1).abs().max().item()
    check("batch independence (row 0 of batch 2 == batch 1)", diff < 1e-5, f"max |diff| {diff:.2e}")


def check_onnx(m, a, b, tmp):
    import onnx

    def export(args, name):
        path = os.path.join(tmp, name)
        # the exporter's own path (what wan21.py ships), so the size check below is about that graph
        onnx_export.export(m, args, path, ["latent", "timestep", "context"], ["velocity"], {
            "latent": {0: "batch", 2: "frames", 3: "height", 4: "width"},
            "timestep": {0: "batch"}, "context": {0: "batch"},
            "velocity": {0: "batch", 2: "frames", 3: "height", 4: "width"}}, external=False)
        model = onnx.load(path)
        onnx.checker.check_model(model)
        return model

    ma = export(a, "a.onnx")
    check("onnx export + checker (shrunk small, opset 17)", True, f"{len(ma.graph.node)} nodes")
    # No runtime here: export again from inputs of other sizes; any size the trace baked in would make
    # the two graphs differ (node kinds, attributes or Constant values).
    mb = export(b, "b.onnx")

    def sig(model):  # node kinds with their attributes' bytes (Constant values included), initializers
        g = model.graph
        return ([(n.op_type, [x.SerializeToString() for x in n.attribute]) for n in g.node],
                sorted((t.name, t.SerializeToString()) for t in g.initializer))
    dims = [d.dim_param or d.dim_value for d in ma.graph.output[0].type.tensor_type.shape.dim]
    check("onnx graph independent of example sizes", sig(ma) == sig(mb), f"output dims {dims}")


def check_rope_against_complex():
    """Our real-valued rotation vs. the original Wan formulation (complex multiply, float64)."""
    d, f, h, w = 16, 3, 4, 5
    m = wt.WanTransformer(dict(wt.SHRUNK["large"], attention_head_dim=d))
    cos, sin = m._rope(f, h, w)
    x = torch.randn(1, f * h * w, 2, d, dtype=torch.float64)
    ours = wt._rotate(x.float(), cos, sin).double()
    c = d // 2
    parts = [c - 2 * (c // 3), c // 3, c // 3]
    tables = [torch.polar(torch.ones(64, n, dtype=torch.float64), torch.outer(torch.arange(64.0, dtype=torch.float64),
              1.0 / 10000 ** (torch.arange(0, 2 * n, 2, dtype=torch.float64) / (2 * n))))
              for n in parts]
    grid = torch.cat([tables[0][:f].view(f, 1, 1, -1).expand(f, h, w, -1),
                      tables[1][:h].view(1, h, 1, -1).expand(f, h, w, -1),
                      tables[2][:w].view(1, 1, w, -1).expand(f, h, w, -1)], dim=-1).reshape(1, -1, 1, c)
    ref = torch.view_as_real(torch.view_as_complex(x.reshape(1, -1, 2, c, 2)) * grid).flatten(3)
    diff = (ours - ref).abs().max().item()
    check("rope == complex reference (split 8/4/4, 3x4x5 grid)", diff < 1e-5, f"max |diff| {diff:.2e}")


def check_sinusoid():
    """The time embedder's input, captured in a real forward, == [cos | sin] of t * 10000^(-i/half) in
    float64: diffusers' Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0) and the original's
    sinusoidal_embedding_1d."""
    cfg = wt.SHRUNK["small"]
    m = build(cfg)
    seen = []
    m.condition_embedder.time_embedder.register_forward_hook(lambda mod, inp, out: seen.append(inp[0]))
    lat, _, ctx = inputs(cfg, [3, 16, 1, 2, 2], 6)
    t = torch.tensor([0.0, 1.0, 999.0])
    with torch.no_grad():
        m(lat, t, ctx)
    half = cfg["freq_dim"] // 2
    ang = t.double()[:, None] * torch.pow(10000.0, -torch.arange(half, dtype=torch.float64) / half)
    diff = (seen[0].double() - torch.cat([ang.cos(), ang.sin()], 1)).abs().max().item()
    check("timestep sinusoid == [cos|sin] float64 reference", diff < 1e-3, f"max |diff| {diff:.2e}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
    print("all checks passed")
