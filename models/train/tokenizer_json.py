"""The family's tokenizer as a Hugging Face tokenizer.json (stdlib json only).

A WordLevel model over the vocabulary list, id = list index, so the ids are exactly those of
data.tokenize: a Lowercase normalizer, a WhitespaceSplit pre-tokenizer (split on whitespace only,
as str.split() does; "Whitespace" would also split punctuation off words), no post-processor
(nothing is appended), no padding or truncation (flowblend pads to text.max_tokens and refuses
longer prompts itself). The unknown token is the pad token, so a word outside the vocabulary
encodes as the pad id, which flowblend refuses by name. The pad token is also an added special
token, as Hugging Face tokenizers declare theirs.

    /usr/bin/python3 models/train/tokenizer_json.py [OUT]   # default: models/tokenizer.json
"""
import json
import os
import sys

PAD = "<pad>"


def word_level(vocab, pad=PAD):
    """The tokenizer.json document for a word list whose first entry is the pad token."""
    if not vocab or vocab[0] != pad:
        raise ValueError(f"the vocabulary must start with the pad token {pad!r}")
    if len(set(vocab)) != len(vocab):
        raise ValueError("the vocabulary has duplicate words")
    for w in vocab:
        if w != w.lower() or w.split() != [w]:
            raise ValueError(f"vocabulary word {w!r} must be lower case and contain no whitespace")
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": 0, "content": pad, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {w: i for i, w in enumerate(vocab)}, "unk_token": pad},
    }


def write(path, vocab):
    """Writes the document: UTF-8, two-space indent, keys in the order above, one final newline."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(word_level(vocab), fh, indent=2, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import data  # the build's vocabulary (data.py needs numpy, this file does not)

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(here), "tokenizer.json")
    write(out, data.VOCAB)
    print(f"wrote {out}: {len(data.VOCAB)} words")
