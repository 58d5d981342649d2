"""Stage: train the evaluator (our stand-in for CLIP/DINO/Inception) on renders.

It sees real renders, autoencoder reconstructions and reconstructions of perturbed latents, so
it judges decoded videos by their content rather than by codec artefacts.
"""
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import common
import data
import nets
from common import log

STEPS = int(os.environ.get("FLOWBLEND_EVALUATOR_STEPS", "1500"))
BATCH = 48


def build():
    # a head per entry of data.ATTRIBUTES; families with one object per frame region (data.REGIONS)
    # pool each region separately
    n_classes = tuple(len(v) for v in data.ATTRIBUTES.values())
    return nets.Evaluator(data.FRAMES, n_classes=n_classes, width=16, regions=getattr(data, "REGIONS", 1))


def load_autoencoder():
    ck = torch.load(common.work("autoencoder.pt"))
    enc, dec = nets.VideoEncoder(), nets.VideoDecoder()
    enc.load_state_dict(ck["enc"])
    dec.load_state_dict(ck["dec"])
    enc.eval()
    dec.eval()
    return enc, dec


def reconstructions(enc, dec, videos, seed, noise=0.1):
    """Autoencoder reconstructions (half of them from mildly perturbed latents), computed once."""
    gen = torch.Generator().manual_seed(seed)
    out = np.empty_like(videos)
    with torch.no_grad():
        for i in range(0, len(videos), 250):
            z = enc(common.to_float(videos[i:i + 250]))
            z[1::2] += noise * torch.randn(z[1::2].shape, generator=gen)
            out[i:i + 250] = np.round(dec(z).numpy() * 255).astype(np.uint8)
    return out


def main(seed):
    t0 = time.time()
    common.seed_all(seed + 5)
    videos, labels = common.pool("train", 12000, seed + 11)
    enc, dec = load_autoencoder()
    n_rec = 4000
    rec = reconstructions(enc, dec, videos[:n_rec], seed + 7)
    log(f"evaluator: {n_rec} reconstructions ready")
    gen = torch.Generator().manual_seed(seed + 6)
    model = build()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = common.lr_at(step, STEPS, 2e-3, warmup=100)
        # two thirds real renders, one third reconstructions, so decoded videos are judged by content
        idx = torch.randint(0, len(videos), (BATCH,), generator=gen).numpy()
        ridx = torch.randint(0, n_rec, (BATCH // 3,), generator=gen).numpy()
        v = common.to_float(np.concatenate([videos[idx[:BATCH - BATCH // 3]], rec[ridx]]))
        y = torch.from_numpy(np.concatenate([labels[idx[:BATCH - BATCH // 3]], labels[ridx]]))
        v = (v + 0.02 * torch.randn(v.shape, generator=gen)).clamp(0, 1)
        out = model(v)
        loss = sum(F.cross_entropy(l, y[:, i], label_smoothing=0.05) for i, l in enumerate(out[:-1]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == STEPS - 1:
            log(f"evaluator step {step} loss {loss.item():.4f}")
    model.eval()
    torch.save(model.state_dict(), common.work("evaluator.pt"))
    test_v, test_l = common.pool("test", 1000, seed + 12)
    with torch.no_grad():
        v = common.to_float(test_v)
        acc_real = accuracy(model, v, test_l)
        acc_rec = accuracy(model, torch.cat([dec(enc(v[i:i + 250])) for i in range(0, 1000, 250)]), test_l)
    log(f"evaluator held-out accuracy on renders {acc_real}, on autoencoder reconstructions {acc_rec}")
    common.record_time("evaluator", time.time() - t0)


@torch.no_grad()
def classify(model, v, batch=250):
    outs = [model(v[i:i + batch]) for i in range(0, len(v), batch)]
    preds = np.stack([torch.cat([o[h] for o in outs]).argmax(1).numpy() for h in range(len(outs[0]) - 1)], axis=1)
    feats = torch.cat([o[-1] for o in outs]).numpy().astype(np.float64)
    return preds, feats


def accuracy(model, v, labels):
    preds, _ = classify(model, v)
    per = {name: float((preds[:, i] == labels[:, i]).mean()) for i, name in enumerate(data.ATTRIBUTES)}
    per["all"] = float((preds == labels).all(1).mean())
    return per


def load():
    model = build()
    model.load_state_dict(torch.load(common.work("evaluator.pt")))
    model.eval()
    return model


if __name__ == "__main__":
    main(common.cli_seed())
