"""A shrunk umT5-style tokenizer for the random test checkpoints: `write(directory)` fills a diffusers
`tokenizer/` directory (tokenizer.json, tokenizer_config.json, special_tokens_map.json);
`vocab_size()` is the number of ids it can produce (the shrunk encoder's vocab_size).

It is the stand-in family's tokenizer (models/standin/standin_tokenizer.py: SentencePiece Unigram,
256 byte pieces with byte_fallback, NFKC, WhitespaceSplit + Metaspace "▁", `</s>` appended by a
TemplateProcessing post-processor), imported and transformed where umT5's differs in ids:

- umT5's SentencePiece model has four control/unk pieces, <pad>=0, </s>=1, <s>=2, <unk>=3 (the
  published tokenizer_config's added_tokens_decoder); the stand-in has three, with <unk>=2. We insert
  <s> at id 2 (never emitted: T5's template adds only </s>), so <unk> is 3 and every later piece
  moves up by one.
- transformers' T5 converter (convert_slow_tokenizer.T5Converter) appends `extra_ids` sentinel
  pieces <extra_id_{n-1}> .. <extra_id_0> after the SentencePiece pieces (umT5: 300, ids
  256000..256299, <extra_id_0> = 256299 as transformers' umT5 integration test shows) and lists them
  as special added tokens. We append EXTRA_IDS of them the same way.
Kept as the stand-in has them, knowingly: NFKC stands for umT5's Precompiled charsmap (an nmt-NFKC
table that only exists inside the .spm file) and no " {2,}" Replace is added (WhitespaceSplit already
collapses runs of spaces). Whether umT5's own tokenizer.json sets byte_fallback is not settled by
what we could read (transformers' T5Converter leaves it false; tokenizers' Unigram byte fallback,
PR #1217, was timed by its maintainer to umT5's transformers release); ours sets it, so any prompt
encodes. No spiece.model is written: T5TokenizerFast
loads from tokenizer.json alone. umT5-XXL's embedding has 256384 rows, 84 more than its tokenizer's
256300 ids; the shrunk encoder uses exactly vocab_size().
"""
import copy
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "standin"))
import standin_tokenizer  # noqa: E402

PAD_ID, EOS_ID, BOS_ID, UNK_ID = 0, 1, 2, 3
SPECIALS = ["<pad>", "</s>", "<s>", "<unk>"]
EXTRA_IDS = 8          # umT5: 300
MODEL_MAX_LENGTH = 512  # WAN's max_sequence_length


def _added(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def extra_tokens():
    """Sentinels in id order, highest number first (T5's layout)."""
    return [f"<extra_id_{i}>" for i in range(EXTRA_IDS - 1, -1, -1)]


def build():
    """The tokenizer.json document (a dict)."""
    doc = copy.deepcopy(standin_tokenizer.build())
    model = doc["model"]
    vocab = model["vocab"]
    # the transformation assumes the stand-in's layout; fail loudly if that generator changes
    if [p for p, _ in vocab[:3]] != ["<pad>", "</s>", "<unk>"] or model["unk_id"] != 2:
        raise ValueError("standin_tokenizer layout changed: expected <pad>, </s>, <unk> at ids 0..2")
    vocab.insert(BOS_ID, ["<s>", 0.0])
    vocab.extend([t, 0.0] for t in extra_tokens())
    model["unk_id"] = UNK_ID
    base = len(vocab) - EXTRA_IDS
    doc["added_tokens"] = ([_added(i, s) for i, s in enumerate(SPECIALS)]
                           + [_added(base + j, t) for j, t in enumerate(extra_tokens())])
    specials = doc["post_processor"]["special_tokens"]
    if specials.get("</s>", {}).get("ids") != [EOS_ID]:
        raise ValueError("standin_tokenizer post-processor no longer appends </s> as id 1")
    ids = [p for p, _ in vocab]
    if ids.index("<pad>") != PAD_ID or ids.index("</s>") != EOS_ID or ids.index("<unk>") != UNK_ID:
        raise ValueError("special token ids are not umT5's")
    return doc


def vocab_size():
    """Ids the tokenizer can produce: [0, vocab_size())."""
    return len(build()["model"]["vocab"])


def tokenizer_config():
    """tokenizer_config.json as the published umT5 one is laid out (T5Tokenizer, extra_ids, legacy),
    with model_max_length 512."""
    added = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                               "single_word", "special")}
             for t in build()["added_tokens"]}
    return {"added_tokens_decoder": added,
            "additional_special_tokens": [f"<extra_id_{i}>" for i in range(EXTRA_IDS)],
            "bos_token": "<s>", "clean_up_tokenization_spaces": True, "eos_token": "</s>",
            "extra_ids": EXTRA_IDS, "legacy": True, "model_max_length": MODEL_MAX_LENGTH,
            "pad_token": "<pad>", "sp_model_kwargs": {}, "spaces_between_special_tokens": False,
            "tokenizer_class": "T5Tokenizer", "unk_token": "<unk>"}


def special_tokens_map():
    return {"additional_special_tokens": [f"<extra_id_{i}>" for i in range(EXTRA_IDS)],
            "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}


def write(directory):
    """Writes the three files into `directory` (created if missing), byte-identical on every run;
    returns their paths."""
    os.makedirs(directory, exist_ok=True)
    docs = {"tokenizer.json": build(), "tokenizer_config.json": tokenizer_config(),
            "special_tokens_map.json": special_tokens_map()}
    paths = []
    for name, doc in docs.items():
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: umt5_tokenizer.py OUT_DIR")
    for p in write(sys.argv[1]):
        print(p)
