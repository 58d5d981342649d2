"""Next bundled family's data (issue 13 work in progress): two textured objects, one per half.

Every video is a function of (attributes, seed). Each half of the frame holds one object with its
own color, texture, shape and vertical motion; the prompt names each object's side, in either
order, so which attributes belong to which object (binding) is read from the words. The layout
and the binding are decided early in a trajectory, the coarse shape in the middle, the texture
(stripes or dots a few pixels apart) late. Videos are float32 in [0, 1], laid out [F, H, W, 3].
"""
import os

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
TEXTURES = ["solid", "striped", "dotted"]
SHAPES = ["circle", "square", "triangle"]
DIRECTIONS = {"up": -1, "down": 1}
SIDES = ("left", "right")
OBJECT_ATTRIBUTES = {"color": list(COLORS), "texture": TEXTURES, "shape": SHAPES, "direction": list(DIRECTIONS)}

# Evaluator heads, in the order the evaluator emits them and the manifest lists them.
ATTRIBUTES = {f"{a}_{side}": values for side in SIDES for a, values in OBJECT_ATTRIBUTES.items()}
N_CLASSES = tuple(len(v) for v in ATTRIBUTES.values())
REGIONS = len(SIDES)  # the evaluator pools each half separately

# How the prompt gives motion (FLOWBLEND_MOTION): "each" names every object's direction in its
# clause; "relation" names only how the two move relative to each other ("moving the same way",
# "moving opposite ways"), so which way is chosen by the trajectory from its noise and the two
# objects must agree, a decision shared across the frame that the model makes early.
MOTION = os.environ.get("FLOWBLEND_MOTION", "each")
RELATIONS = {"same": "the same way", "opposite": "opposite ways"}

VOCAB = (["<pad>", "a", "the", "and", "on", "moving", "going"] + list(COLORS) + TEXTURES + SHAPES
         + list(SIDES) + list(DIRECTIONS) + ["same", "way", "opposite", "ways"])
MAX_TOKENS = 24
_CLAUSE = "a {color_%s} {texture_%s} {shape_%s} on the %s moving {direction_%s}"
PROMPT_TEMPLATE = " and ".join(_CLAUSE % ((s,) * 5) for s in SIDES)
if MOTION == "relation":
    PROMPT_TEMPLATE = " and ".join("a {color_%s} {texture_%s} {shape_%s} on the %s" % ((s,) * 4)
                                   for s in SIDES) + " moving {relation}"
PROMPT_GRAMMAR = ("<object> and <object>, one on each side, in either order; "
                  "<object> = {a|the} <color> <texture> <shape> on the <left|right> {moving|going} <up|down>")

RADIUS = 6.0
SPEED = 1.2        # pixels per frame: 13 px over the clip
PERIOD = 6.0       # texture period in pixels
# brightness of a texture's dark parts relative to the object's color (FLOWBLEND_TEXTURE_DARK):
# the fainter the pattern, the lower the noise level at which a trajectory can place it
DARK = float(os.environ.get("FLOWBLEND_TEXTURE_DARK", "0.3"))
SUPERSAMPLE = 4


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
    """n label rows, an index per head, uniform and independent (two objects may share a color)."""
    return np.stack([rng.integers(0, len(v), n) for v in ATTRIBUTES.values()], axis=1)


def _names(labels):
    names = {h: ATTRIBUTES[h][i] for h, i in zip(ATTRIBUTES, labels)}
    names["relation"] = RELATIONS[relation(names["direction_left"], names["direction_right"])]
    return names


def relation(left, right):
    return "same" if left == right else "opposite"


def text_targets(labels):
    """Per object attribute, which of its values the prompt names (multi-hot [N, values]); in the
    "relation" mode the direction group stands for the relation (same, opposite)."""
    out = []
    for a, values in OBJECT_ATTRIBUTES.items():
        t = np.zeros((len(labels), len(values)), dtype=np.float32)
        for side in SIDES:
            col = list(ATTRIBUTES).index(f"{a}_{side}")
            if a == "direction" and MOTION == "relation":
                l, r = (list(ATTRIBUTES).index(f"direction_{s}") for s in SIDES)
                t[np.arange(len(labels)), (labels[:, l] != labels[:, r]).astype(int)] = 1.0
            else:
                t[np.arange(len(labels)), labels[:, col]] = 1.0
        out.append(t)
    return out


def judge(preds, labels):
    """Per video and criterion, whether the evaluator's predictions match the prompt: every head
    the prompt names, and in the "relation" mode the two directions' relation instead of each."""
    heads = list(ATTRIBUTES)
    out = {}
    for i, h in enumerate(heads):
        if MOTION == "relation" and h.startswith("direction_"):
            continue
        out[h] = preds[:, i] == labels[:, i]
    if MOTION == "relation":
        l, r = heads.index("direction_left"), heads.index("direction_right")
        out["relation"] = (preds[:, l] == preds[:, r]) == (labels[:, l] == labels[:, r])
    return out


def labels_to_prompt(labels):
    return PROMPT_TEMPLATE.format(**_names(labels))


def _clause(names, side, article, verb):
    text = f"{article} {names['color_' + side]} {names['texture_' + side]} {names['shape_' + side]} on the {side}"
    return text if MOTION == "relation" else f"{text} {verb} {names['direction_' + side]}"


# "either": training prompts name either side first, so binding must be read from the side words;
# "left_first": the left object is always named first, so word order alone binds (experiment 5).
ORDER = os.environ.get("FLOWBLEND_ORDER", "either")


def prompt_variants(rng, labels):
    """Grammar variants of each row's prompt: article, verb, and which object is named first."""
    out = []
    for row in labels:
        names = _names(row)
        first_left = rng.random() < 0.5 or ORDER == "left_first"
        sides = list(SIDES) if first_left else list(SIDES[::-1])
        text = " and ".join(_clause(names, s, rng.choice(["a", "the"]), rng.choice(["moving", "going"]))
                            for s in sides)
        if MOTION == "relation":
            text += f" {rng.choice(['moving', 'going'])} {names['relation']}"
        out.append(text)
    return out


def _coverage(shape, dx, dy, r):
    if shape == "circle":
        return (dx * dx + dy * dy) <= r * r
    if shape == "square":
        h = r * 0.88
        return (np.abs(dx) <= h) & (np.abs(dy) <= h)
    R = r * 1.15  # upward-pointing triangle inscribed in the circle of radius 1.15 r
    top, base = -R, R * 0.5
    half_width = (dy - top) / (base - top) * (R * 0.866)
    return (dy >= top) & (dy <= base) & (np.abs(dx) <= half_width)


def _pattern(texture, dx, dy, phase):
    """1 where the texture darkens the object: diagonal stripes, or dots on a square grid."""
    if texture == "striped":
        return (np.mod(dx + dy + phase[0], PERIOD) < PERIOD / 2)
    if texture == "dotted":
        gx = np.mod(dx + phase[0], PERIOD) - PERIOD / 2
        gy = np.mod(dy + phase[1], PERIOD) - PERIOD / 2
        return gx * gx + gy * gy <= 1.35 ** 2
    return np.zeros_like(dx, dtype=bool)


def _draw(frame, obj, cx, cy):
    """Composites one object into frame [H, W, 3], supersampled over its bounding box only."""
    r = obj["r"]
    ext = r * 1.2 + 1
    x0, x1 = max(0, int(np.floor(cx - ext))), min(WIDTH, int(np.ceil(cx + ext)))
    y0, y1 = max(0, int(np.floor(cy - ext))), min(HEIGHT, int(np.ceil(cy + ext)))
    ss = SUPERSAMPLE
    gx = x0 + (np.arange((x1 - x0) * ss, dtype=np.float32) + 0.5) / ss - cx
    gy = y0 + (np.arange((y1 - y0) * ss, dtype=np.float32) + 0.5) / ss - cy
    dx, dy = np.meshgrid(gx, gy)
    cov = _coverage(obj["shape"], dx, dy, r)
    dark = cov & _pattern(obj["texture"], dx, dy, obj["phase"])
    h, w = y1 - y0, x1 - x0
    cov = cov.reshape(h, ss, w, ss).mean(axis=(1, 3))[..., None]
    dark = dark.reshape(h, ss, w, ss).mean(axis=(1, 3))[..., None]
    color = obj["color"]
    region = frame[y0:y1, x0:x1]
    frame[y0:y1, x0:x1] = region * (1 - cov) + color * (cov - dark) + color * DARK * dark


def render(labels, rng):
    """One video [F, H, W, 3] for a label row (an index per head)."""
    names = _names(labels)
    bg = np.clip(rng.uniform(0.02, 0.18) + rng.uniform(-0.02, 0.02, 3), 0, 1).astype(np.float32)
    video = np.broadcast_to(bg, (FRAMES, HEIGHT, WIDTH, 3)).copy()
    for k, side in enumerate(SIDES):
        r = RADIUS * rng.uniform(0.92, 1.08)
        obj = {"r": r, "shape": names["shape_" + side], "texture": names["texture_" + side],
               "color": np.array(COLORS[names["color_" + side]], dtype=np.float32),
               "phase": rng.uniform(0, PERIOD, 2)}
        speed = SPEED * rng.uniform(0.92, 1.08) * DIRECTIONS[names["direction_" + side]]
        travel = abs(speed) * (FRAMES - 1)
        margin = r * 1.15 + 0.5
        y_start = rng.uniform(margin, HEIGHT - margin - travel)
        if speed < 0:
            y_start = HEIGHT - y_start
        half = WIDTH / 2
        cx = rng.uniform(margin, half - r - 0.5) + k * half if k == 0 else rng.uniform(half + r + 0.5, WIDTH - margin)
        for f in range(FRAMES):
            _draw(video[f], obj, cx, y_start + speed * f)
    return video


def render_batch(labels, seed):
    """Videos [N, F, H, W, 3] for an [N, heads] label array; deterministic in seed."""
    rng = np.random.default_rng(seed)
    return np.stack([render(l, rng) for l in labels])

DESCRIPTION = ("Bundled text-to-video family: two procedural textured shapes, one per half, "
               "12 frames of 32x32 RGB at 8 fps.")
GOLDEN_PROMPT = ("a red striped circle on the left moving up and a blue dotted square on the right "
                 "moving down")
