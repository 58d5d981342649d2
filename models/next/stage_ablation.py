"""Stage: how the pair behaves under FlowBlending, measured the way `flowblend calibrate` does.

Velocity divergence by phase along the large model's trajectory, and the LLL/SSS/SLL/LSS/LSL
ablations at 40/40/20 with calibrate's default tolerances (feature similarity to large-only at
least 0.95, accuracy at least 0.98 x large-only's, Fréchet at most 1.1 x large-only's).
Writes <work>/ablation.json: python3 run.py stage_ablation [seed] [samples].
"""
import os
import sys
import time

import numpy as np
import torch

import common
import data
import metrics
import sampling
import stage_evaluator
import stage_text
import stage_velocity
from common import log

PLANS = {"LLL": "L" * 50, "SSS": "S" * 50, "SLL": "S" * 20 + "L" * 30, "LSS": "L" * 20 + "S" * 30,
         "LSL": "L" * 20 + "S" * 20 + "L" * 10}
# phases of the acceptance check: the first 20%, the middle 40% (30%..70%), the last 20%
PHASES = {"first_20": (0.0, 0.2), "middle_40": (0.3, 0.7), "last_20": (0.8, 1.0)}
TOLERANCES = {"min_similarity": 0.95, "min_accuracy_ratio": 0.98, "max_frechet_ratio": 1.1}


@torch.no_grad()
def divergence(large, small, noise, ctx, null):
    """Per step: mean over samples of ||v_L - v_S|| / ||v_L|| with guidance, on the large trajectory."""
    sig = sampling.sigmas()
    x = noise.clone()
    per_step = []
    for k in range(sampling.STEPS):
        vl = sampling.velocity(large, x, sig[k], ctx, null, sampling.GUIDANCE)
        vs = sampling.velocity(small, x, sig[k], ctx, null, sampling.GUIDANCE)
        d = (vl - vs).flatten(1).norm(dim=1) / vl.flatten(1).norm(dim=1)
        per_step.append(float(d.mean()))
        x = x + (sig[k + 1] - sig[k]) * vl
    n = sampling.STEPS
    by_phase = {p: float(np.mean(per_step[int(round(a * n)):int(round(b * n))])) for p, (a, b) in PHASES.items()}
    return per_step, by_phase


def main(seed, samples):
    t0 = time.time()
    evaluator = stage_evaluator.load()
    _, dec = stage_evaluator.load_autoencoder()
    text = stage_text.load()
    small = os.environ.get("FLOWBLEND_SMALL", "small")  # another small configuration, for experiments
    models = {"L": stage_velocity.load("large"), "S": stage_velocity.load(small)}
    ref, _ = common.pool("reference", 2000, seed + 61)
    with torch.no_grad():
        _, ref_feats = stage_evaluator.classify(evaluator, common.to_float(ref))
    mu_r, cov_r = metrics.stats(ref_feats)
    rng = np.random.default_rng(seed + 10071)  # seeds the build's quality table never used
    labels = data.sample_attributes(rng, samples)
    with torch.no_grad():
        ctx = text(common.tokens([data.labels_to_prompt(l) for l in labels]))
        null = text(common.tokens([""]))
    noise = torch.randn((samples,) + stage_velocity.LATENT_SHAPE, generator=torch.Generator().manual_seed(seed + 10072))
    per_step, by_phase = divergence(models["L"], models["S"], noise[:32], ctx[:32], null)
    log(f"divergence by phase {by_phase}")
    out = {"samples": samples, "divergence": [round(d, 4) for d in per_step], "divergence_by_phase": by_phase,
           "tolerances": TOLERANCES, "plans": {}}
    feats_of = {}
    for name, plan in PLANS.items():
        x0 = sampling.sample([models[c] for c in plan], noise, ctx, null)
        with torch.no_grad():
            v = torch.cat([dec(x0[i:i + 128]) for i in range(0, samples, 128)])
        preds, feats = stage_evaluator.classify(evaluator, v)
        feats_of[name] = feats
        verdict = data.judge(preds, labels)
        row = {h: float(ok.mean()) for h, ok in verdict.items()}
        row["all"] = float(np.stack(list(verdict.values())).all(0).mean())
        row["frechet"] = metrics.frechet(*metrics.stats(feats), mu_r, cov_r)
        ref_f = feats_of["LLL"]
        cos = (feats * ref_f).sum(1) / (np.linalg.norm(feats, axis=1) * np.linalg.norm(ref_f, axis=1) + 1e-12)
        row["similarity"] = float(cos.mean())
        lll = out["plans"].get("LLL", row)
        row["meets_tolerances"] = bool(row["similarity"] >= TOLERANCES["min_similarity"]
                                       and row["all"] >= TOLERANCES["min_accuracy_ratio"] * lll["all"]
                                       and row["frechet"] <= TOLERANCES["max_frechet_ratio"] * lll["frechet"])
        out["plans"][name] = row
        log(f"{name}: all {row['all']:.3f} frechet {row['frechet']:.2f} similarity {row['similarity']:.3f} "
            f"meets {row['meets_tolerances']} | " + " ".join(f"{h} {row[h]:.2f}" for h in verdict))
    common.save_json(common.work("ablation.json" if small == "small" else f"ablation-{small}.json"), out)
    common.record_time("ablation", time.time() - t0)


if __name__ == "__main__":
    main(common.cli_seed(), int(sys.argv[2]) if len(sys.argv) > 2 else 256)
