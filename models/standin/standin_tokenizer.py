"""The stand-in's tokenizer.json: a Hugging Face tokenizer of the kind umT5's is (SentencePiece
Unigram with byte fallback, Metaspace "▁" word boundaries, </s> appended), over a few hundred
English pieces. Words outside it still encode: Unigram falls back to letters, then to byte pieces
<0x00>..<0xFF> for anything else (accents, emoji), so no prompt is rejected for its words."""

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
SPECIALS = ["<pad>", "</s>", "<unk>"]
META = "\u2581"  # ▁

# Whole-word pieces, most frequent first (scores fall with rank): the bundled family's grammar,
# WAN-style prompt vocabulary and the negative prompt's words.
WORDS = """a the of and in on with to at is are from by for as it its an this that into over under
red green blue yellow cyan magenta white black gray orange purple pink brown golden silver dark bright light
circle square triangle ball box cube shape shapes object line
moving going move moves left right up down forward backward around across through toward away slowly quickly fast
slow rotating spinning falling rising flying walking running jumping dancing swimming floating
cat dog bird fish horse person man woman child people car train boat plane tree trees flower flowers
grass water river ocean sea sky cloud clouds sun moon star stars city street road house room window door
mountain mountains forest field beach snow rain fire smoke night day morning evening sunset light
camera shot view close wide aerial slow motion scene background foreground frame video film
small large big tall little old young beautiful calm soft sharp smooth
overexposed static blurry blurred details subtitles worst quality low high jpeg artifacts ugly
deformed messy still picture painting style artwork overall extra fingers poorly drawn hands faces
disfigured malformed limbs fused three legs many walking backwards incomplete""".split()
SUFFIXES = ["s", "es", "ed", "ing", "er", "est", "ly", "y"]
PUNCT = [",", ".", "!", "?", "'", "-", ":", ";", "(", ")", "\""]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
DIGITS = [str(d) for d in range(10)]


def pieces():
    """(piece, score) in id order: specials, the 256 byte pieces, then word pieces by falling score."""
    out = [(s, 0.0) for s in SPECIALS]
    out += [(f"<0x{b:02X}>", 0.0) for b in range(256)]
    seen = set()
    words = [w for w in WORDS if not (w in seen or seen.add(w))]
    out += [(META + w, round(-3.0 - 0.01 * i, 4)) for i, w in enumerate(words)]
    out += [(META, -6.0)]
    out += [(p, -7.0 - 0.01 * i) for i, p in enumerate(PUNCT)]
    out += [(s, -9.0 - 0.01 * i) for i, s in enumerate(SUFFIXES)]
    out += [(d, -10.0) for d in DIGITS]
    out += [(c, round(-11.0 - 0.01 * i, 4)) for i, c in enumerate(LETTERS)]
    return out


def _metaspace():
    return {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True}


def build():
    """The tokenizer.json document. Padding and truncation are left to the caller (the manifest's
    text.max_tokens), as umT5's tokenizer.json leaves them."""
    vocab = pieces()
    eos = {"id": SPECIALS[EOS_ID], "type_id": 0}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, s in enumerate(SPECIALS)],
        "normalizer": {"type": "NFKC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, _metaspace()]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": eos}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": eos},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": eos}],
            "special_tokens": {SPECIALS[EOS_ID]: {"id": SPECIALS[EOS_ID], "ids": [EOS_ID],
                                                  "tokens": [SPECIALS[EOS_ID]]}},
        },
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, _metaspace()]},
        "model": {"type": "Unigram", "unk_id": UNK_ID, "vocab": [[p, s] for p, s in vocab], "byte_fallback": True},
    }
