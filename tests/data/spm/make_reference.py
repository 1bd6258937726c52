"""A small SentencePiece BPE model (LLaMA's settings: byte fallback, no normalization, spaces kept,
a dummy prefix, digits split) and its ids for every string of ../falcon3_pretokenizer/corpus.json,
from the `sentencepiece` package. tests/tokenizer_spm.rs converts the model to GGUF keys the way
`bitnet-tui convert` does for 1bitLLM's tokenizer.model and must produce the same ids.

    python3 -m venv /tmp/spmvenv && /tmp/spmvenv/bin/pip install sentencepiece==0.2.3
    /tmp/spmvenv/bin/python make_reference.py
"""

import json
import pathlib

import sentencepiece as spm

HERE = pathlib.Path(__file__).parent
CORPUS = json.loads((HERE.parent / "falcon3_pretokenizer" / "corpus.json").read_text(encoding="utf-8"))


def main():
    training = HERE / "training.txt"
    training.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(training), model_prefix=str(HERE / "tiny"), model_type="bpe", vocab_size=600,
        byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=True, split_digits=True, character_coverage=0.9995,
        bos_id=1, eos_id=2, unk_id=0, pad_id=-1, num_threads=1, minloglevel=2)
    training.unlink()
    (HERE / "tiny.vocab").unlink()
    sp = spm.SentencePieceProcessor(model_file=str(HERE / "tiny.model"))
    cases = [{"text": s, "ids": sp.encode(s)} for s in CORPUS]
    lines = ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases)
    header = json.dumps({"sentencepiece_version": spm.__version__, "model": "tiny.model"})[:-1]
    (HERE / "expected.json").write_text(header + ', "cases": [\n' + lines + "\n]}\n", encoding="utf-8")
    print(len(cases), "strings, sentencepiece", spm.__version__)


if __name__ == "__main__":
    main()
