"""Build the corpus: synthetic passages plus the user's own text → train/valid/test splits.

    python -m corpus.build --out-dir data/corpus                    # the default corpus
    python -m corpus.build --text-dir path/to/wikitext-2 --no-synthetic --out-dir data/wikitext-2

Output (passages separated by blank lines; see model/data.py):
    OUT/train.txt  OUT/valid.txt  OUT/test.txt  OUT/manifest.json (seed, sources, counts)

Your own text: put UTF-8 `.txt` files in `corpus/user/` (or name another folder with
`--user-dir`); blank lines separate passages, and each passage goes to train, valid or test
by a stable hash of its text (90/5/5). A folder given with `--text-dir` that holds
train.txt/valid.txt/test.txt is used split for split (WikiText-2, Penn Treebank); any other
folder is treated like the user folder. In WikiText-style files, whose articles start with a
line " = Title = ", an article is one passage.

Valid and test must each get at least one passage: a corpus too small to split is refused with
an error (it is never padded with training text, which would make evaluation meaningless).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

from corpus.cues import LANGUAGES
from corpus.filler import FillerGenerator
from corpus.passages import MAX_GAP_WORDS, cue_passage, everyday_passage, phrase_passage

SPLITS = ("train", "valid", "test")
DEFAULT_USER_DIR = Path(__file__).resolve().parent / "user"
# Shares of each kind of synthetic passage: the cue task needs many answers to learn from.
MIX = {"cue_short": 0.4, "cue": 0.35, "everyday": 0.15, "phrase": 0.1}
ANSWER_WEIGHT = 30  # loss weight of a language word as a target, against 1 for every other word
WIKITEXT_ARTICLE = re.compile(r"^ = [^=].* = $")


def synthetic_passages(n: int, seed: str, max_gap: int) -> list[str]:
    rng = random.Random(seed)
    filler = FillerGenerator(rng)
    makers: dict[str, Callable[[], str]] = {
        "cue_short": lambda: cue_passage(rng, filler, max_gap=max_gap, short=True),
        "cue": lambda: cue_passage(rng, filler, max_gap=max_gap),
        "everyday": lambda: everyday_passage(rng, filler),
        "phrase": lambda: phrase_passage(rng, filler),
    }
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    return [makers[kind]() for kind in kinds]


def split_text_into_passages(text: str) -> list[str]:
    """Plain text → passages: WikiText articles if it has their headings, else blank-line blocks.

    A passage keeps its lines (one line per paragraph), joined with newlines.
    """
    lines = [line.rstrip("\n") for line in text.splitlines()]
    if any(WIKITEXT_ARTICLE.match(line) for line in lines):
        passages, current = [], []
        for line in lines:
            if WIKITEXT_ARTICLE.match(line) and current:
                passages.append(current)
                current = []
            if line.strip():
                current.append(line.strip())
        if current:
            passages.append(current)
        return ["\n".join(p) for p in passages]
    blocks = re.split(r"\n\s*\n", text)
    return ["\n".join(line.strip() for line in b.splitlines() if line.strip()) for b in blocks if b.strip()]


def hashed_split(passage: str) -> str:
    """A stable 90/5/5 assignment, so adding files never moves old passages between splits."""
    bucket = zlib.crc32(passage.encode("utf-8")) % 100
    return "valid" if bucket < 5 else "test" if bucket < 10 else "train"


def read_text_dir(directory: Path) -> dict[str, list[str]]:
    """Passages per split from a folder of .txt files (see the module docstring)."""
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    if not directory.is_dir():
        return out
    presplit = all((directory / f"{s}.txt").is_file() for s in SPLITS)
    if presplit:
        for s in SPLITS:
            out[s] = split_text_into_passages((directory / f"{s}.txt").read_text(encoding="utf-8"))
        return out
    for path in sorted(directory.glob("*.txt")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{path} is not UTF-8 text ({e})") from None
        for passage in split_text_into_passages(text):
            out[hashed_split(passage)].append(passage)
    return out


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build(out_dir: Path, seed: int = 0, train_passages: int = 12000, eval_passages: int = 600,
          user_dir: Path | None = DEFAULT_USER_DIR, text_dir: Path | None = None, synthetic: bool = True,
          max_gap: int = MAX_GAP_WORDS) -> dict:
    sizes = {"train": train_passages, "valid": eval_passages, "test": eval_passages}
    splits: dict[str, list[str]] = {s: [] for s in SPLITS}
    sources: dict[str, dict[str, int]] = {}
    if synthetic:
        for s in SPLITS:
            # A different seed per split: valid and test passages are drawn afresh, not resampled from train.
            splits[s] += synthetic_passages(sizes[s], f"{seed}-{s}", max_gap)
        sources["synthetic"] = {s: sizes[s] for s in SPLITS}
    for name, directory in (("user", user_dir), ("text", text_dir)):
        if directory is None:
            continue
        found = read_text_dir(Path(directory))
        if any(found.values()):
            sources[f"{name}:{directory}"] = {s: len(found[s]) for s in SPLITS}
        for s in SPLITS:
            splits[s] += found[s]
    if not splits["train"]:
        raise ValueError("the corpus would be empty: enable the synthetic passages or give some text")
    empty = [s for s in ("valid", "test") if not splits[s]]
    if empty:
        # Filling them from train would score the model on text it trained on, so refuse instead.
        raise ValueError(
            f"the {' and '.join(empty)} split{'s' if len(empty) > 1 else ''} would be empty "
            f"({len(splits['train'])} passages in train): each of valid and test gets about 5% of your "
            "passages (blank-line separated), so give roughly 100 passages or more, keep the synthetic "
            "passages (leave out --no-synthetic, with --eval-passages above 0), or use a --text-dir "
            "folder with its own train.txt, valid.txt and test.txt")
    out_dir.mkdir(parents=True, exist_ok=True)
    for s in SPLITS:
        write_atomic(out_dir / f"{s}.txt", "\n\n".join(splits[s]) + "\n")
    manifest = {
        "seed": seed, "max_gap_words": max_gap, "sources": sources,
        "passages": {s: len(splits[s]) for s in SPLITS},
        "words": {s: sum(len(p.split()) for p in splits[s]) for s in SPLITS},
    }
    write_atomic(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    weights_path = out_dir / "loss_weights.json"
    if synthetic:
        # The answers of the cue passages weigh more in the training loss (see model/train.py).
        write_atomic(weights_path, json.dumps({lang: ANSWER_WEIGHT for lang in LANGUAGES}, indent=2) + "\n")
    elif weights_path.exists():
        weights_path.unlink()
    return manifest


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description="Build the corpus splits. Valid and test must each get a passage: a corpus too small to split is an "
                    "error, never filled from train.", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out-dir", type=Path, default=Path("data/corpus"), help="where train/valid/test.txt go")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic passages")
    p.add_argument("--train-passages", type=int, default=12000, help="synthetic passages in train")
    p.add_argument("--eval-passages", type=int, default=600, help="synthetic passages in valid and in test")
    p.add_argument("--max-gap", type=int, default=MAX_GAP_WORDS, help="longest filler gap in a cue passage, in words")
    p.add_argument("--user-dir", type=Path, default=DEFAULT_USER_DIR, help="folder of your own .txt files")
    p.add_argument("--text-dir", type=Path, default=None, help="a plain-text corpus folder to mix in (e.g. WikiText-2)")
    p.add_argument("--no-synthetic", dest="synthetic", action="store_false", help="leave out the generated passages")
    a = p.parse_args(argv)
    try:
        manifest = build(a.out_dir, a.seed, a.train_passages, a.eval_passages, a.user_dir, a.text_dir, a.synthetic, a.max_gap)
    except ValueError as e:
        sys.exit(f"error: {e}")
    counts = (f"{s} {manifest['passages'][s]:,} passages / {manifest['words'][s]:,} words" for s in SPLITS)
    print(f"wrote {a.out_dir}: " + ", ".join(counts))


if __name__ == "__main__":
    main()
