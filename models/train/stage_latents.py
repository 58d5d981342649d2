"""Stage: encode the latent training pool once, before the velocity models train on it in parallel."""
import os
import time

import common
import stage_velocity


def main(seed):
    t0 = time.time()
    # The cache depends on the autoencoder this build just trained: never reuse an older one.
    cached = common.work(f"latents-{stage_velocity.LATENT_POOL}-{seed}.npz")
    if os.path.exists(cached):
        os.remove(cached)
    z, labels = stage_velocity.latents(seed)
    common.log(f"latents {tuple(z.shape)} mean {z.mean().item():.3f} std {z.std().item():.3f}")
    common.record_time("latents", time.time() - t0)


if __name__ == "__main__":
    main(common.cli_seed())
