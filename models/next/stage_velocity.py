"""Stage: a rectified-flow DiT velocity model (large or small) on frozen latents and text.

As ../train/stage_velocity.py, except that the prompts are drawn per batch (two objects give
too many label rows to encode every context ahead): each row gets a fresh grammar variant, the
frozen text encoder encodes the batch, and the null prompt replaces it at CFG_DROP.
"""
import os
import sys
import time

import numpy as np
import torch

import common
import data
import nets
import stage_text
from common import log

LATENT_POOL = 24000
CONFIGS = {
    # dim, depth, heads, peak lr, steps, batch
    "large": dict(dim=128, depth=5, heads=4, lr=1e-3, steps=2200, batch=64),
    "small": dict(dim=64, depth=2, heads=2, lr=2e-3, steps=2800, batch=64),
    # experiment: the small model's FLOPs spent on width in a single block instead of depth
    "small-1block": dict(dim=96, depth=1, heads=2, lr=2e-3, steps=2800, batch=64),
}
LATENT_CHANNELS = 8
LATENT_SHAPE = (LATENT_CHANNELS, data.FRAMES // nets.TUBELET, data.HEIGHT // nets.SPATIAL, data.WIDTH // nets.SPATIAL)
CFG_DROP = 0.1
EMA = 0.998


def build(size):
    c = CONFIGS[size]
    return nets.VelocityDiT(LATENT_SHAPE, 64, c["dim"], c["depth"], c["heads"])


def latents(seed):
    """Cached latents of LATENT_POOL renders, with their labels."""
    path = common.work(f"latents-{LATENT_POOL}-{seed}.npz")
    if os.path.exists(path):
        z = np.load(path)
        return torch.from_numpy(z["latents"]), z["labels"]
    import stage_evaluator
    enc, _ = stage_evaluator.load_autoencoder()
    videos, labels = common.pool("latent", LATENT_POOL, seed + 21)
    with torch.no_grad():
        z = torch.cat([enc(common.to_float(videos[i:i + 500])) for i in range(0, len(videos), 500)])
    np.savez(path, latents=z.numpy(), labels=labels)
    return z, labels


def main(size, seed):
    t0 = time.time()
    cfg = CONFIGS[size]
    steps = int(os.environ.get("FLOWBLEND_STEPS", cfg["steps"]))
    common.seed_all(seed + (41 if size == "large" else 43))
    z, labels = latents(seed)
    text = stage_text.load()
    with torch.no_grad():
        null = text(common.tokens([""]))
    model = build(size)
    ema = build(size)
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    log(f"velocity-{size}: {sum(p.numel() for p in model.parameters())} params, {steps} steps")
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed + 51)
    rng = np.random.default_rng(seed + 53)
    b = cfg["batch"]
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = common.lr_at(step, steps, cfg["lr"])
        idx = torch.randint(0, len(z), (b,), generator=gen)
        x0 = z[idx]
        with torch.no_grad():
            ctx = text(common.tokens(data.prompt_variants(rng, labels[idx.numpy()])))
        drop = torch.rand(b, generator=gen) < CFG_DROP
        ctx = torch.where(drop[:, None, None], null.expand(b, -1, -1), ctx)
        # logit-normal sigma (SD3), mixed with uniform so the ends are trained too
        sigma = torch.sigmoid(torch.randn(b, generator=gen))
        uni = torch.rand(b, generator=gen) < 0.25
        sigma = torch.where(uni, torch.rand(b, generator=gen), sigma)
        eps = torch.randn(x0.shape, generator=gen)
        s = sigma[:, None, None, None, None]
        xt = (1 - s) * x0 + s * eps
        pred = model(xt, sigma * 1000.0, ctx)
        loss = ((pred - (eps - x0)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            d = min(EMA, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm, alpha=1 - d)
        if step % 100 == 0 or step == steps - 1:
            log(f"velocity-{size} step {step} loss {loss.item():.4f}")
    torch.save(ema.state_dict(), common.work(f"velocity-{size}.pt"))
    common.record_time(f"velocity-{size}", time.time() - t0)


def load(size):
    model = build(size)
    model.load_state_dict(torch.load(common.work(f"velocity-{size}.pt")))
    model.eval()
    return model


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
