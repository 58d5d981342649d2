"""Shared helpers for the build stages: paths, seeding, logging, data pools."""
import json
import os
import sys
import time

import numpy as np
import torch

import data

HERE = os.path.dirname(os.path.abspath(__file__))
# where artifacts are written, and where checkpoints and caches live (overridable for experiments)
MODELS = os.environ.get("FLOWBLEND_MODELS_OUT", os.path.dirname(HERE))
WORK = os.environ.get("FLOWBLEND_WORK", os.path.join(os.path.dirname(HERE), ".build"))
THREADS = int(os.environ.get("FLOWBLEND_TRAIN_THREADS", "2"))

torch.set_num_threads(THREADS)
_T0 = time.time()


def log(msg):
    print(f"[{time.time() - _T0:7.1f}s] {msg}", flush=True)


def seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))


def work(name):
    os.makedirs(WORK, exist_ok=True)
    return os.path.join(WORK, name)


def pool(name, n, seed):
    """A cached pool of n rendered videos (uint8) with their labels, deterministic in seed."""
    path = work(f"pool-{name}-{n}-{seed}.npz")
    if os.path.exists(path):
        z = np.load(path)
        return z["videos"], z["labels"]
    rng = np.random.default_rng(seed)
    labels = data.sample_attributes(rng, n)
    videos = np.empty((n, data.FRAMES, data.HEIGHT, data.WIDTH, 3), dtype=np.uint8)
    chunk = 1000
    for i in range(0, n, chunk):
        v = data.render_batch(labels[i:i + chunk], seed * 100003 + i)
        videos[i:i + chunk] = np.round(v * 255).astype(np.uint8)
    np.savez(path, videos=videos, labels=labels)
    return videos, labels


def to_float(videos_u8):
    return torch.from_numpy(videos_u8).float() / 255.0


def tokens(prompts):
    return torch.tensor([data.tokenize(p) for p in prompts], dtype=torch.long)


def save_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def timings():
    path = work("timings.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def record_time(stage, seconds):
    t = timings()
    t[stage] = round(seconds, 1)
    save_json(work("timings.json"), t)


def lr_at(step, total, peak, warmup=200):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * p)))


def cli_seed():
    return int(sys.argv[1]) if len(sys.argv) > 1 else 0
