"""The family's sampling conventions (mirrored by the Java orchestrator; the manifest records them).

x_sigma = (1 - sigma) * x0 + sigma * eps, velocity = eps - x0, timestep = 1000 * sigma,
shifted schedule sigma' = s*sigma / (1 + (s-1)*sigma) over the grid 1 - k/N, Euler steps,
classifier-free guidance v = v_u + g * (v_c - v_u) with cond and uncond in one batch.
"""
import torch

TIMESTEP_SCALE = 1000.0
SHIFT = 3.0
STEPS = 50
GUIDANCE = 4.0


def sigmas(steps=STEPS, shift=SHIFT):
    s = 1.0 - torch.arange(steps + 1, dtype=torch.float64) / steps
    return (shift * s / (1 + (shift - 1) * s)).float()


@torch.no_grad()
def velocity(model, x, sigma, ctx, null_ctx, guidance):
    b = x.shape[0]
    t = torch.full((2 * b,), float(sigma) * TIMESTEP_SCALE)
    v = model(torch.cat([x, x]), t, torch.cat([ctx, null_ctx.expand(b, -1, -1)]))
    v_c, v_u = v[:b], v[b:]
    return v_u + guidance * (v_c - v_u)


@torch.no_grad()
def sample(models_by_step, noise, ctx, null_ctx, steps=STEPS, shift=SHIFT, guidance=GUIDANCE, batch=100):
    """Euler sampling; models_by_step[k] is the model that serves step k."""
    sig = sigmas(steps, shift)
    outs = []
    for i in range(0, len(noise), batch):
        x = noise[i:i + batch].clone()
        c = ctx[i:i + batch]
        for k in range(steps):
            v = velocity(models_by_step[k], x, sig[k], c, null_ctx, guidance)
            x = x + (sig[k + 1] - sig[k]) * v
        outs.append(x)
    return torch.cat(outs)
