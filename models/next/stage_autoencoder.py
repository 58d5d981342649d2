"""Stage: the tubelet autoencoder, with an edge term so textures a few pixels apart survive."""
import os
import time

import numpy as np
import torch

import common
import nets
from common import log

STEPS = 1000
BATCH = 32


def foreground_weight(v):
    # The objects cover ~25% of pixels; weight them up so the decoder keeps edges and textures sharp.
    med = v.median(dim=2, keepdim=True).values.median(dim=3, keepdim=True).values
    fg = ((v - med).abs().sum(-1, keepdim=True) > 0.15).float()
    return 1.0 + 3.0 * fg


EDGE = 2.0


def edge_loss(r, v, w):
    """L1 between the reconstruction's and the video's finite differences along x and y, weighted
    like the pixel term: a blurred texture keeps its mean colour but loses these differences."""
    dx = lambda t: t[:, :, :, 1:] - t[:, :, :, :-1]
    dy = lambda t: t[:, :, 1:] - t[:, :, :-1]
    return ((w[:, :, :, 1:] * (dx(r) - dx(v)).abs()).mean() + (w[:, :, 1:] * (dy(r) - dy(v)).abs()).mean())


def main(seed):
    t0 = time.time()
    common.seed_all(seed + 1)
    videos, _ = common.pool("train", 12000, seed + 11)
    enc, dec = nets.VideoEncoder(), nets.VideoDecoder()
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed + 2)
    steps = int(os.environ.get("FLOWBLEND_STEPS", STEPS))  # shorter runs for experiments
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = common.lr_at(step, steps, 2e-3, warmup=100)
        idx = torch.randint(0, len(videos), (BATCH,), generator=gen).numpy()
        v = common.to_float(videos[idx])
        z = enc.raw(v)
        # latent noise makes the decoder tolerant of the small errors a sampler leaves in x_0
        z_noisy = z + 0.05 * z.detach().std() * torch.randn(z.shape, generator=gen)
        r = dec.raw(z_noisy)
        w = foreground_weight(v)
        loss = (w * ((r - v).abs() + 4 * (r - v) ** 2)).mean() + EDGE * edge_loss(r, v, w) + 1e-4 * z.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"autoencoder step {step} loss {loss.item():.4f} l1 {(r - v).abs().mean().item():.4f}")
    enc.eval()
    dec.eval()
    with torch.no_grad():
        zs = torch.cat([enc.raw(common.to_float(videos[i:i + 500])) for i in range(0, 4000, 500)])
        shift = zs.mean(dim=(0, 2, 3, 4), keepdim=True)
        scale = zs.std(dim=(0, 2, 3, 4), keepdim=True)
        for m in (enc, dec):
            m.shift.copy_(shift)
            m.scale.copy_(scale)
        v = common.to_float(videos[:500])
        rec = dec(enc(v))
        log(f"autoencoder recon l1 {(rec - v).abs().mean().item():.4f} psnr "
            f"{(10 * torch.log10(1 / ((rec - v) ** 2).mean())).item():.2f} dB")
    torch.save({"enc": enc.state_dict(), "dec": dec.state_dict()}, common.work("autoencoder.pt"))
    common.record_time("autoencoder", time.time() - t0)


if __name__ == "__main__":
    main(common.cli_seed())
