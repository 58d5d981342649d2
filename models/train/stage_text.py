"""Stage: train the text encoder on prompt attributes, then freeze it (our stand-in for T5/UMT5)."""
import time

import numpy as np
import torch
import torch.nn.functional as F

import common
import data
import nets
from common import log

STEPS = 600


def prompt_variants(rng, labels):
    """Grammar variants of the canonical prompt, so every vocabulary word is trained."""
    out = []
    for c, s, d in labels:
        color, shape, direction = (list(v)[i] for v, i in zip(data.ATTRIBUTES.values(), (c, s, d)))
        article = rng.choice(["a", "the"])
        verb = rng.choice(["moving", "going"])
        to = rng.choice(["", "to the "])
        out.append(f"{article} {color} {shape} {verb} {to}{direction}")
    return out


def build():
    return nets.TextEncoder(len(data.VOCAB), data.MAX_TOKENS)


def main(seed):
    t0 = time.time()
    common.seed_all(seed + 3)
    rng = np.random.default_rng(seed + 3)
    model = build()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for step in range(STEPS):
        labels = data.sample_attributes(rng, 64)
        ids = common.tokens(prompt_variants(rng, labels))
        logits = model.classify(ids)
        y = torch.from_numpy(labels)
        loss = sum(F.cross_entropy(l, y[:, i]) for i, l in enumerate(logits))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 200 == 0 or step == STEPS - 1:
            log(f"text-encoder step {step} loss {loss.item():.4f}")
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
