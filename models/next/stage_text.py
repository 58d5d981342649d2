"""Stage: the text encoder (our stand-in for T5/UMT5), trained on the prompt, then frozen.

Objectives (FLOWBLEND_TEXT_OBJECTIVE): "bound" classifies every head of the prompt, object by
object, from the pooled tokens, so the encoder itself binds attributes to sides; "words" only
asks which values occur anywhere in the prompt, so binding is left to the velocity model's
cross-attention, where capacity decides it; "tokens" (the default) is "words" plus probes that
keep each output token's word and position (see docs/family-v2-experiments.md, experiment 5).
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

STEPS = int(os.environ.get("FLOWBLEND_TEXT_STEPS", "1500"))
OBJECTIVE = os.environ.get("FLOWBLEND_TEXT_OBJECTIVE", "tokens")
GROUPS = list(data.OBJECT_ATTRIBUTES.values())


def build():
    n_classes = data.N_CLASSES if OBJECTIVE == "bound" else tuple(len(g) for g in GROUPS)
    # "tokens": the "words" objective plus, per output token, its word and its position, so the
    # encoder keeps what each token is and where it stands (as T5's outputs do) instead of
    # smearing the whole prompt over every token
    return nets.TextEncoder(len(data.VOCAB), data.MAX_TOKENS, n_classes=n_classes)


def loss_and_accuracy(logits, labels):
    y = torch.from_numpy(labels)
    if OBJECTIVE == "bound":  # per head and side
        loss = sum(F.cross_entropy(l, y[:, i]) for i, l in enumerate(logits))
        acc = torch.stack([l.argmax(1) == y[:, i] for i, l in enumerate(logits)]).all(0).float().mean()
        return loss, float(acc)
    loss, right = 0.0, []
    for l, t in zip(logits, data.text_targets(labels)):
        target = torch.from_numpy(t)
        loss = loss + F.binary_cross_entropy_with_logits(l, target)
        right.append(((l > 0).float() == target).all(1))
    return loss, float(torch.stack(right).all(0).float().mean())


def main(seed):
    t0 = time.time()
    common.seed_all(seed + 3)
    rng = np.random.default_rng(seed + 3)
    model = build()
    dim = model.norm.normalized_shape[0]
    probes = torch.nn.ModuleList([torch.nn.Linear(dim, len(data.VOCAB)), torch.nn.Linear(dim, data.MAX_TOKENS)])
    params = list(model.parameters()) + (list(probes.parameters()) if OBJECTIVE == "tokens" else [])
    opt = torch.optim.AdamW(params, lr=1e-3)
    for step in range(STEPS):
        labels = data.sample_attributes(rng, 64)
        for g in opt.param_groups:
            g["lr"] = common.lr_at(step, STEPS, 2e-3, warmup=100)
        ids = common.tokens(data.prompt_variants(rng, labels))
        logits = model.classify(ids)
        loss, acc = loss_and_accuracy(logits, labels)
        if OBJECTIVE == "tokens":
            out = model(ids)
            pos = torch.arange(data.MAX_TOKENS).expand_as(ids)
            loss = loss + F.cross_entropy(probes[0](out).flatten(0, 1), ids.flatten()) \
                + F.cross_entropy(probes[1](out).flatten(0, 1), pos.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == STEPS - 1:
            log(f"text-encoder ({OBJECTIVE}) step {step} loss {loss.item():.4f} all-heads {acc:.3f}")
    model.eval()
    torch.save(model.state_dict(), common.work("text-encoder.pt"))
    common.record_time("text-encoder", time.time() - t0)


def load():
    model = build()
    model.load_state_dict(torch.load(common.work("text-encoder.pt")))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


if __name__ == "__main__":
    main(common.cli_seed())
