"""Compare our WAN 2.1 networks with the reference implementations they were written from.

    python models/export/reference_check.py --config shrunk|full [--device cpu|cuda] [--tolerance 1e-3]
        [--umt5-layers N] [--networks transformer,vae,umt5] [--json]

Needs the reference libraries importable: diffusers (WanTransformer3DModel, AutoencoderKLWan, the WAN
pipeline's VideoProcessor) and transformers (UMT5EncoderModel, UMT5Config). For each network it builds
the reference and ours from the SAME config dict, initialises ours with our init_random_, and copies our
state_dict() into the reference with load_state_dict(strict=True) -- that load succeeding is itself the
check that every parameter name and shape matches. Both then run in float32 on the same random inputs,
and we report max |ours - ref| (max_abs) and that divided by max |ref| (rel, the error relative to the
output's scale). Exit status 1 if any rel exceeds --tolerance.

--config full uses FULL["1.3B"] (transformer), FULL (VAE), and umT5-XXL's widths with --umt5-layers
blocks (default 2; all 24 would be 5.7 B parameters, twice over).
"""
import argparse
import gc
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import umt5  # noqa: E402
import wan_transformer  # noqa: E402
import wan_vae  # noqa: E402

SEED = 1234


def errors(ours, ref, mask=None):
    """max_abs and rel (= max_abs / max |ref|) over the positions where mask (broadcastable) is True."""
    ours, ref = ours.detach().double().cpu(), ref.detach().double().cpu()
    if ours.shape != ref.shape:
        raise AssertionError(f"output shapes differ: ours {tuple(ours.shape)}, reference {tuple(ref.shape)}")
    if mask is not None:
        mask = mask.cpu().expand_as(ref)
        ours, ref = ours[mask], ref[mask]
    max_abs = (ours - ref).abs().max().item()
    scale = ref.abs().max().item()
    return {"rel": max_abs / scale if scale > 0 else max_abs, "max_abs": max_abs, "ref_max": scale,
            "shape": list(ours.shape) if mask is None else None}


def randn(shape, seed, device):
    # Inputs drawn on the CPU with a fixed generator, so every device sees the same numbers.
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(device)


def check_transformer(config, device):
    from diffusers import WanTransformer3DModel

    ours = wan_transformer.init_random_(wan_transformer.WanTransformer(config), SEED).to(device).eval()
    ref = WanTransformer3DModel.from_config(config)
    ref.load_state_dict(ours.state_dict(), strict=True)
    ref = ref.to(device).eval()
    # A tiny latent (2 frames, 2 x 3 patches: 12 tokens) and a 512-token context laid out as the
    # pipeline makes it: the prompt's embeddings, then zeros up to max_sequence_length = 512.
    latent = randn((1, 16, 2, 4, 6), SEED + 1, device)
    context = randn((1, 512, config["text_dim"]), SEED + 2, device)
    context[:, 37:] = 0
    timestep = torch.tensor([731.0], device=device)
    out = ours(latent, timestep, context)
    want = ref(hidden_states=latent, timestep=timestep, encoder_hidden_states=context, return_dict=False)[0]
    return {"transformer": errors(out, want)}


def reference_decode_video(vae, latents):
    """What diffusers' WanPipeline.__call__ does with the final latents for output_type="np" (the
    pipeline's default), its lines repeated: de-normalise, vae.decode, then VideoProcessor
    .postprocess_video (x / 2 + 0.5 clamped to [0, 1], frames channels-last)."""
    from diffusers.video_processor import VideoProcessor

    latents = latents.to(vae.dtype)
    latents_mean = (torch.tensor(vae.config.latents_mean).view(1, vae.config.z_dim, 1, 1, 1)
                    .to(latents.device, latents.dtype))
    latents_std = 1.0 / torch.tensor(vae.config.latents_std).view(1, vae.config.z_dim, 1, 1, 1).to(
        latents.device, latents.dtype)
    latents = latents / latents_std + latents_mean
    video = vae.decode(latents, return_dict=False)[0]
    # The pipeline's VideoProcessor(vae_scale_factor=vae_scale_factor_spatial); the factor is only
    # used for resizing inputs, not by postprocess_video.
    video = VideoProcessor(vae_scale_factor=8).postprocess_video(video, output_type="np")
    return torch.from_numpy(np.ascontiguousarray(video))   # [B, frames, H, W, 3]


def check_vae(config, device):
    from diffusers import AutoencoderKLWan

    ours = wan_vae.init_random_(wan_vae.WanVae(config), SEED).to(device).eval()
    ref = AutoencoderKLWan.from_config(config)
    ref.load_state_dict(ours.state_dict(), strict=True)
    ref = ref.to(device).eval()
    # The decoder's output before the clamp to [-1, 1] too, which would hide differences where a
    # value saturates: the reference's decoder runs once per latent frame (its feature cache carries
    # the causal context), so a hook collects the chunks and joins them along time.
    chunks = []
    hook = ref.decoder.register_forward_hook(lambda module, inputs, output: chunks.append(output))
    results = {}
    # T = 2 exercises the causal temporal upsampling (frame 0 undoubled, frame 1 through time_conv
    # with the reference's "Rep" cache); T = 3 adds a frame whose time_conv window is all real.
    for t in (2, 3):
        z = randn((1, config["z_dim"], t, 4, 6), SEED + 10 + t, device)
        chunks.clear()
        results[f"vae_T{t}"] = errors(ours.decode_video(z), reference_decode_video(ref, z))
        raw = ours.decoder(ours.post_quant_conv(ours.denormalize_latent(z)))
        results[f"vae_T{t}_raw"] = errors(raw, torch.cat(chunks, dim=2))
    hook.remove()
    return results


def check_umt5(config, device):
    from transformers import UMT5Config, UMT5EncoderModel

    ours = umt5.init_random_(umt5.UMT5Encoder(config), SEED).to(device).eval()
    ref = UMT5EncoderModel(UMT5Config(**config))
    # transformers registers the embedding twice (shared and encoder.embed_tokens, one module), so
    # its state_dict wants both names; ours has one. Give the reference ours under both names.
    state = ours.state_dict()
    state[umt5.EMBED_ALIAS] = state[umt5.EMBED_KEY]
    ref.load_state_dict(state, strict=True)
    assert ref.encoder.embed_tokens.weight is ref.shared.weight, "reference embedding is not tied"
    ref = ref.to(device).eval()
    # Two right-padded rows of 512 (the pipeline tokenizes with padding="max_length",
    # max_length=512): 23 and 300 real tokens, pad id 0 after them.
    length, lengths = 512, (23, 300)
    g = torch.Generator().manual_seed(SEED + 20)
    ids = torch.randint(1, config["vocab_size"], (len(lengths), length), generator=g)
    mask = (torch.arange(length)[None, :] < torch.tensor(lengths)[:, None]).long()
    ids = (ids * mask).to(device)
    mask = mask.to(device)
    out = ours(ids, mask)
    want = ref(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = (mask != 0)[:, :, None]
    result = errors(out, want, keep)
    # Ours must give exactly +0.0 where the mask is 0 (what the pipeline's zero padding puts there).
    result["padded_nonzero"] = int((out.masked_select(~keep.expand_as(out)) != 0).sum().item())
    return {"umt5": result}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", choices=("shrunk", "full"), default="shrunk")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--tolerance", type=float, default=1e-3)
    p.add_argument("--umt5-layers", type=int, default=2,
                   help="umT5 blocks for --config full (the widths stay umT5-XXL's)")
    p.add_argument("--networks", default="transformer,vae,umt5",
                   help="comma-separated subset of transformer,vae,umt5")
    p.add_argument("--json", action="store_true", help="print one line of JSON instead of a table")
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)

    if args.config == "full":
        configs = {"transformer": wan_transformer.FULL["1.3B"], "vae": wan_vae.FULL,
                   "umt5": dict(umt5.FULL, num_layers=args.umt5_layers)}
    else:
        configs = {"transformer": wan_transformer.SHRUNK["large"], "vae": wan_vae.SHRUNK, "umt5": umt5.SHRUNK}
    checks = {"transformer": check_transformer, "vae": check_vae, "umt5": check_umt5}
    results = {}
    for name in args.networks.split(","):
        if name not in checks:
            p.error(f"--networks: unknown network {name!r}")
        try:
            results.update(checks[name](configs[name], args.device))
        except ImportError as e:   # the reference library is not installed: say which
            sys.exit(f"reference_check: {name} needs its reference library importable: {e}")
        gc.collect()   # the full-size pairs are several GB each: free one before building the next

    versions = {"torch": torch.__version__}
    versions.update({m: sys.modules[m].__version__ for m in ("diffusers", "transformers") if m in sys.modules})
    ok = all(r["rel"] <= args.tolerance and not r.get("padded_nonzero") for r in results.values())
    summary = {"config": args.config, "device": args.device, "tolerance": args.tolerance, "ok": ok,
               "versions": versions, "results": results}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"config={args.config} device={args.device} " + " ".join(f"{k} {v}" for k, v in versions.items()))
        print(f"{'network':<12} {'rel':>10} {'max_abs':>10} {'max|ref|':>10}")
        for name, r in results.items():
            extra = f"  padded_nonzero={r['padded_nonzero']}" if "padded_nonzero" in r else ""
            flag = "" if r["rel"] <= args.tolerance else "  EXCEEDS tolerance"
            print(f"{name:<12} {r['rel']:10.3e} {r['max_abs']:10.3e} {r['ref_max']:10.3e}{extra}{flag}")
        print("OK" if ok else f"FAIL (tolerance {args.tolerance})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
