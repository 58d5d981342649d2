"""Procedural text-to-video data: a seeded prompt grammar and a deterministic renderer.

Every video is a function of (attributes, seed): re-running with the same seed gives the same
bytes. Videos are float32 in [0, 1], laid out [F, H, W, 3] (frames, rows, columns, RGB), the
layout decoder.onnx emits and evaluator.onnx consumes.
"""
import numpy as np

FRAMES, HEIGHT, WIDTH = 12, 32, 32
FPS = 8

COLORS = {
    "red": (0.90, 0.16, 0.16),
    "green": (0.16, 0.80, 0.24),
    "blue": (0.20, 0.32, 0.95),
    "yellow": (0.95, 0.86, 0.16),
    "cyan": (0.16, 0.82, 0.86),
    "magenta": (0.86, 0.20, 0.82),
}
SHAPES = ["circle", "square", "triangle"]
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}

# Attribute heads, in the order the evaluator emits them and the manifest lists them.
ATTRIBUTES = {
    "color": list(COLORS),
    "shape": SHAPES,
    "direction": list(DIRECTIONS),
}

# Token 0 pads every prompt to MAX_TOKENS; the empty (null) prompt is all padding.
VOCAB = ["<pad>", "a", "the", "moving", "going", "to"] + list(COLORS) + SHAPES + list(DIRECTIONS)
MAX_TOKENS = 16
SPEED = 2.0  # pixels per frame: 22 px over the clip, so direction is visible and learnable
RADIUS = 5.0
SUPERSAMPLE = 4


def prompt_of(color, shape, direction):
    return f"a {color} {shape} moving {direction}"


# What stage_export writes into the manifest: the canonical prompt with a {head} per evaluator
# head (the Java PromptSet fills it), the grammar in words, and the golden files' prompt.
PROMPT_TEMPLATE = prompt_of("{color}", "{shape}", "{direction}")
PROMPT_GRAMMAR = "{a|the} <color> <shape> {moving|going} [to the] <direction>"
DESCRIPTION = "Bundled text-to-video family: procedural shapes, 12 frames of 32x32 RGB at 8 fps."
GOLDEN_PROMPT = "a red circle moving left"


def tokenize(prompt):
    """Token ids padded to MAX_TOKENS; raises ValueError naming the first unknown word."""
    words = prompt.lower().split()
    if len(words) > MAX_TOKENS:
        raise ValueError(f"prompt has {len(words)} words, the limit is {MAX_TOKENS}")
    ids = []
    for w in words:
        if w not in VOCAB:
            raise ValueError(f"unknown word '{w}'")
        ids.append(VOCAB.index(w))
    return ids + [0] * (MAX_TOKENS - len(ids))


def sample_attributes(rng, n):
    """n attribute index triples (color, shape, direction), uniform over the grammar."""
    return np.stack([rng.integers(0, len(v), n) for v in ATTRIBUTES.values()], axis=1)


def labels_to_prompt(labels):
    c, s, d = labels
    return prompt_of(ATTRIBUTES["color"][c], ATTRIBUTES["shape"][s], ATTRIBUTES["direction"][d])


def _coverage(shape, cx, cy, r, xs, ys):
    dx, dy = xs - cx, ys - cy
    if shape == "circle":
        return (dx * dx + dy * dy) <= r * r
    if shape == "square":
        h = r * 0.88
        return (np.abs(dx) <= h) & (np.abs(dy) <= h)
    # upward-pointing triangle inscribed in the circle of radius 1.15 r
    R = r * 1.15
    top = -R
    base = R * 0.5
    inside_y = (dy >= top) & (dy <= base)
    half_width = (dy - top) / (base - top) * (R * 0.866)
    return inside_y & (np.abs(dx) <= half_width)


def render(labels, rng):
    """One video [F, H, W, 3] for attribute indices (color, shape, direction)."""
    c, s, d = labels
    color = np.array(COLORS[ATTRIBUTES["color"][c]], dtype=np.float32)
    shape = SHAPES[s]
    ux, uy = DIRECTIONS[ATTRIBUTES["direction"][d]]
    speed = SPEED * rng.uniform(0.92, 1.08)
    travel = speed * (FRAMES - 1)
    r = RADIUS * rng.uniform(0.9, 1.1)
    # along the motion axis, start so the whole path stays in frame; across it, anywhere with margin
    margin = r * 1.2 + 0.5
    along0 = rng.uniform(margin, WIDTH - margin - travel) if travel < WIDTH - 2 * margin else margin
    across = rng.uniform(margin, WIDTH - margin)
    bg = np.clip(rng.uniform(0.02, 0.18) + rng.uniform(-0.02, 0.02, 3), 0, 1).astype(np.float32)
    ss = SUPERSAMPLE
    grid = (np.arange(WIDTH * ss, dtype=np.float32) + 0.5) / ss
    xs, ys = np.meshgrid(grid, grid)
    video = np.empty((FRAMES, HEIGHT, WIDTH, 3), dtype=np.float32)
    for f in range(FRAMES):
        along = along0 + speed * f
        if ux != 0:
            cx = along if ux > 0 else WIDTH - along
            cy = across
        else:
            cy = along if uy > 0 else HEIGHT - along
            cx = across
        cov = _coverage(shape, cx, cy, r, xs, ys).astype(np.float32)
        cov = cov.reshape(HEIGHT, ss, WIDTH, ss).mean(axis=(1, 3))[..., None]
        video[f] = bg * (1 - cov) + color * cov
    return video


def render_batch(labels, seed):
    """Videos [N, F, H, W, 3] for an [N, 3] label array; deterministic in seed."""
    rng = np.random.default_rng(seed)
    return np.stack([render(l, rng) for l in labels])
