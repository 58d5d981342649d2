"""Stage: the quality table (evaluator over generated videos) and the sample strips.

Writes models/quality.json, models/samples-large.png, models/samples-small.png and the
evaluator's reference feature statistics of real renders (models/evaluator-reference.json).
"""
import sys
import time

import numpy as np
import torch
from PIL import Image

import common
import data
import metrics
import sampling
import stage_evaluator
import stage_text
import stage_velocity
from common import log

SAMPLES = 256
REFERENCE = 2000


def plans(large, small, steps):
    return {
        "large-only": [large] * steps,
        "small-only": [small] * steps,
        "flowblending": [large if (k < 0.4 * steps or k >= 0.8 * steps) else small for k in range(steps)],
    }


def strip(videos, path, rows=6, frames=(0, 2, 4, 6, 8, 11), zoom=3):
    v = (np.clip(videos[:rows], 0, 1) * 255).astype(np.uint8)
    h, w = data.HEIGHT * zoom, data.WIDTH * zoom
    pad = 2
    img = Image.new("RGB", (len(frames) * (w + pad) + pad, rows * (h + pad) + pad), (255, 255, 255))
    for r in range(rows):
        for j, f in enumerate(frames):
            tile = Image.fromarray(v[r, f]).resize((w, h), Image.NEAREST)
            img.paste(tile, (pad + j * (w + pad), pad + r * (h + pad)))
    img.save(path)


def reference_stats(evaluator, seed):
    videos, _ = common.pool("reference", REFERENCE, seed + 61)
    with torch.no_grad():
        _, feats = stage_evaluator.classify(evaluator, common.to_float(videos))
    mu, cov = metrics.stats(feats)
    common.save_json(f"{common.MODELS}/evaluator-reference.json", {
        "description": "evaluator feature statistics of real renders (Fréchet reference)",
        "samples": REFERENCE, "seed": seed + 61, "dim": len(mu),
        "mean": [round(float(x), 7) for x in mu],
        "covariance": [[round(float(x), 7) for x in row] for row in cov]})
    return mu, cov


def main(seed, samples=SAMPLES):
    t0 = time.time()
    evaluator = stage_evaluator.load()
    _, dec = stage_evaluator.load_autoencoder()
    text = stage_text.load()
    large, small = stage_velocity.load("large"), stage_velocity.load("small")
    mu_r, cov_r = reference_stats(evaluator, seed)
    rng = np.random.default_rng(seed + 71)
    labels = data.sample_attributes(rng, samples)
    with torch.no_grad():
        ctx = text(common.tokens([data.labels_to_prompt(l) for l in labels]))
        null = text(common.tokens([""]))
    noise = torch.randn((samples,) + stage_velocity.LATENT_SHAPE, generator=torch.Generator().manual_seed(seed + 72))
    table = {"samples": samples, "steps": sampling.STEPS, "guidance": sampling.GUIDANCE, "shift": sampling.SHIFT,
             "rows": {}}
    videos = {}
    for name, by_step in plans(large, small, sampling.STEPS).items():
        t = time.time()
        x0 = sampling.sample(by_step, noise, ctx, null)
        with torch.no_grad():
            v = torch.cat([dec(x0[i:i + 128]) for i in range(0, samples, 128)])
            preds, feats = stage_evaluator.classify(evaluator, v)
        mu, cov = metrics.stats(feats)
        row = {name_: float((preds[:, i] == labels[:, i]).mean()) for i, name_ in enumerate(data.ATTRIBUTES)}
        row["all"] = float((preds == labels).all(1).mean())
        row["frechet"] = metrics.frechet(mu, cov, mu_r, cov_r)
        row["seconds"] = round(time.time() - t, 1)
        # which attribute combinations fail most, for the README's note on the small model
        wrong = ~(preds == labels)
        row["errors_by_attribute"] = {n: int(wrong[:, i].sum()) for i, n in enumerate(data.ATTRIBUTES)}
        table["rows"][name] = row
        videos[name] = v.numpy()
        log(f"quality {name}: {row}")
    # Fréchet of a second set of real renders: the noise floor for this sample count
    real, _ = common.pool("reference-b", samples, seed + 62)
    with torch.no_grad():
        _, feats = stage_evaluator.classify(evaluator, common.to_float(real))
    table["real_renders_frechet"] = metrics.frechet(*metrics.stats(feats), mu_r, cov_r)
    common.save_json(f"{common.MODELS}/quality.json", table)
    strip(videos["large-only"], f"{common.MODELS}/samples-large.png")
    strip(videos["small-only"], f"{common.MODELS}/samples-small.png")
    common.save_json(common.work("strip-prompts.json"), [data.labels_to_prompt(l) for l in labels[:6]])
    log(f"strip prompts: {[data.labels_to_prompt(l) for l in labels[:6]]}")
    common.record_time("quality", time.time() - t0)


if __name__ == "__main__":
    main(common.cli_seed(), int(sys.argv[2]) if len(sys.argv) > 2 else SAMPLES)
