"""The n-gram baseline's perplexity on a corpus, beside the recurrent models':

    python -m model.evaluation.ngram --corpus-dir data/corpus [--order 5] [--discount 0.75]

fits model/ngram.py's Kneser-Ney model on train.txt (same tokenizer settings as `model.training`) and
prints the valid and test perplexities, same convention as the RNN's evaluation: the first token of a
passage is not predicted. An n-gram model sees only the last order−1 tokens, so it cannot carry a cue
across a long gap.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from model.ngram import KneserNeyLM


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(argv: list[str] | None = None) -> None:
    from model.tokenizer import train_tokenizer
    from model.training.data import check_corpus_dir, encode_passages, read_passages

    p = argparse.ArgumentParser(description="Fit a Kneser-Ney n-gram baseline on DIR/train.txt; "
                                            "print valid and test perplexity.")
    p.add_argument("--corpus-dir", type=Path, required=True, help="holds train.txt, valid.txt, test.txt")
    p.add_argument("--order", type=int, default=5)
    p.add_argument("--discount", type=float, default=0.75)
    p.add_argument("--vocab-size", type=int, default=10000, help="as model.training: largest vocabulary")
    p.add_argument("--min-frequency", type=int, default=2, help="as model.training: rarer words become <unk>")
    p.add_argument("--as-is-tokens", action="store_true", help="as model.training: case kept, whitespace split")
    args = p.parse_args(argv)

    check_corpus_dir(args.corpus_dir)
    t0 = time.monotonic()
    text = {s: read_passages(args.corpus_dir / f"{s}.txt") for s in ("train", "valid", "test")}
    tokenizer = train_tokenizer([line for ps in text["train"] for line in ps], args.vocab_size, args.min_frequency,
                                as_is=args.as_is_tokens)
    splits = {s: encode_passages(tokenizer, ps) for s, ps in text.items()}
    print(f"corpus {args.corpus_dir}: " + " / ".join(f"{sum(map(len, splits[s])):,}" for s in splits)
          + f" tokens (train/valid/test), vocabulary {tokenizer.vocab_size:,}; "
          f"prepared in {time.monotonic() - t0:.1f}s", flush=True)

    t0 = time.monotonic()
    lm = KneserNeyLM(tokenizer.vocab_size, order=args.order, discount=args.discount).fit(splits["train"])
    fit_s = time.monotonic() - t0
    print(f"{args.order}-gram Kneser-Ney (D={args.discount}) fitted in {fit_s:.1f}s", flush=True)
    for split in ("valid", "test"):
        t0 = time.monotonic()
        ppl = lm.perplexity(splits[split])
        print(f"{split} perplexity {ppl:.2f} ({time.monotonic() - t0:.1f}s)")
    rss = _peak_rss_mb()
    if rss is not None:
        print(f"peak RSS {rss:,.0f} MB")


if __name__ == "__main__":
    main()
