"""Build the real-English corpus: encyclopedia, fiction and dialogue text plus the long-range cue passages.

    python -m corpus.english --wikitext DATA/wikitext-2 --fiction DATA/gutenberg-fiction \
        --dialogue DATA/sgd-partial --out-dir data/english     # DATA: where the text folders are (make english)

Each source is a folder holding train / valid / test text, as `NAME.txt` or `NAME.txt.xz`; any of
them may be left out, and a folder of your own text in the same shape can stand in for any of them
(`--fiction my-books`). Output is corpus.build's format (passages separated by blank lines), so
`python -m model.training --preset english --corpus-dir data/english` trains on it.

How each source becomes passages (a passage is trained from the zero state, as a prompt starts):
- wikitext: one article per passage, its tokenisation undone where it would differ from typed
  text (" @-@ " → "-", " 's" → "'s"), so the model learns the words people type.
- fiction: one paragraph per line; consecutive paragraphs are grouped into passages of about
  FICTION_PASSAGE_WORDS words, never across a book when the folder has books.tsv (its
  `first_line`/`lines` columns). Gutenberg's `_italic_` underscores are removed.
- dialogue: blank-line separated blocks (one dialogue each), one turn per line.
- cue passages: corpus.build's generated passages (a language named, a gap, "I speak fluent"),
  with their answers weighted in the loss (loss_weights.json), so the model keeps its
  long-range memory while it learns English.

Valid and test are capped (`--eval-words`, taken evenly from each source): the trainer validates
every few minutes and a 2-core machine cannot afford a million tokens each time. The whole test
texts are scored by `python -m model.evaluation.real_text`, not from here.
"""
from __future__ import annotations

import argparse
import csv
import json
import lzma
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from corpus.build import ANSWER_WEIGHT, SPLITS, split_text_into_passages, synthetic_passages, write_atomic
from corpus.cues import LANGUAGES
from corpus.passages import MAX_GAP_WORDS

FICTION_PASSAGE_WORDS = 1500
# Train words taken from each source by default (0 = all): with the cue passages about 17M tokens,
# of which the english preset's 54 minutes on 2 cores read ~12M; more fiction would go unread, and
# SGD's dialogues are narrow and repetitive (its README), so half of them is plenty.
TRAIN_WORDS = {"wikitext": 0, "fiction": 9_000_000, "dialogue": 1_200_000}
# WikiText's tokenisation, undone: "@-@" joins a hyphenated word, "@,@" and "@.@" a number; clitics
# and closing punctuation were split off with a space that nobody types.
WIKITEXT_JOINS = [(re.compile(r" @([-,.])@ "), r"\1"), (re.compile(r" (n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"),
                  (re.compile(r" ([.,;:!?)])"), r"\1"), (re.compile(r"\( "), "(")]
ITALIC_UNDERSCORES = re.compile(r"(?<!\w)_+|_+(?!\w)")


def open_split(folder: Path, split: str) -> Iterator[str]:
    """The lines of FOLDER/SPLIT.txt or FOLDER/SPLIT.txt.xz, without their line ends."""
    plain, packed = folder / f"{split}.txt", folder / f"{split}.txt.xz"
    if plain.is_file():
        handle = plain.open(encoding="utf-8")
    elif packed.is_file():
        handle = lzma.open(packed, "rt", encoding="utf-8")
    else:
        raise FileNotFoundError(f"{folder} has neither {plain.name} nor {packed.name}")
    with handle:
        for line in handle:
            yield line.rstrip("\n")


def untokenize_wikitext(line: str) -> str:
    for pattern, replacement in WIKITEXT_JOINS:
        line = pattern.sub(replacement, line)
    return line


def wikitext_passages(folder: Path, split: str) -> list[str]:
    passages = split_text_into_passages("\n".join(open_split(folder, split)))
    return ["\n".join(untokenize_wikitext(line) for line in p.splitlines()) for p in passages]


def book_starts(folder: Path, split: str) -> set[int]:
    """Line numbers (0-based) where a new book starts, from books.tsv if the folder has one."""
    table = folder / "books.tsv"
    if not table.is_file():
        return set()
    with table.open(encoding="utf-8", newline="") as f:
        return {int(row["first_line"]) - 1 for row in csv.DictReader(f, delimiter="\t") if row["split"] == split}


def fiction_passages(folder: Path, split: str, passage_words: int = FICTION_PASSAGE_WORDS) -> list[str]:
    starts = book_starts(folder, split)
    passages: list[str] = []
    current: list[str] = []
    words = 0
    for number, line in enumerate(open_split(folder, split)):
        if current and (number in starts or words >= passage_words):
            passages.append("\n".join(current))
            current, words = [], 0
        line = ITALIC_UNDERSCORES.sub("", line).strip()
        if line:
            current.append(line)
            words += len(line.split())
    if current:
        passages.append("\n".join(current))
    return passages


def dialogue_passages(folder: Path, split: str) -> list[str]:
    return split_text_into_passages("\n".join(open_split(folder, split)))


READERS = {"wikitext": wikitext_passages, "fiction": fiction_passages, "dialogue": dialogue_passages}


def take_words(passages: list[str], words: int) -> list[str]:
    """Passages from the start until `words` words are taken (all of them for words <= 0)."""
    if words <= 0:
        return passages
    taken, total = [], 0
    for passage in passages:
        if total >= words:
            break
        taken.append(passage)
        total += len(passage.split())
    return taken


def build_english(out_dir: Path, sources: dict[str, Path], cue_passages: int = 16000, seed: int = 0,
                  train_words: dict[str, int] | None = None, eval_words: int = 150_000) -> dict:
    """Write OUT/{train,valid,test}.txt, loss_weights.json and manifest.json; returns the manifest."""
    train_words = train_words or {}
    if not sources and not cue_passages:
        raise ValueError("the corpus would be empty: give a text folder or some cue passages")
    splits: dict[str, list[str]] = {s: [] for s in SPLITS}
    counts: dict[str, dict[str, dict[str, int]]] = {}
    # Valid and test share eval_words evenly among the text sources and the cue passages.
    share = eval_words // (len(sources) + (1 if cue_passages else 0)) if eval_words > 0 else 0
    for name, folder in sources.items():
        counts[name] = {}
        for split in SPLITS:
            passages = READERS[name](Path(folder), split)
            passages = take_words(passages, train_words.get(name, 0) if split == "train" else share)
            splits[split] += passages
            counts[name][split] = {"passages": len(passages), "words": sum(len(p.split()) for p in passages)}
    if cue_passages:
        counts["cue passages"] = {}
        eval_count = max(1, cue_passages // 20)
        for split in SPLITS:
            n = cue_passages if split == "train" else eval_count
            # A seed per split, as corpus.build: valid and test passages are drawn afresh.
            passages = take_words(synthetic_passages(n, f"english-{seed}-{split}", MAX_GAP_WORDS),
                                  0 if split == "train" else share)
            splits[split] += passages
            counts["cue passages"][split] = {"passages": len(passages), "words": sum(len(p.split()) for p in passages)}
    for split in SPLITS:
        if not splits[split]:
            raise ValueError(f"the {split} split would be empty: give at least one source with {split} text")
    out_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        write_atomic(out_dir / f"{split}.txt", "\n\n".join(splits[split]) + "\n")
    weights = out_dir / "loss_weights.json"
    if cue_passages:
        write_atomic(weights, json.dumps({lang: ANSWER_WEIGHT for lang in LANGUAGES}, indent=2) + "\n")
    elif weights.exists():
        weights.unlink()
    manifest = {"seed": seed, "sources": {name: str(path) for name, path in sources.items()}, "counts": counts,
                "passages": {s: len(splits[s]) for s in SPLITS},
                "words": {s: sum(len(p.split()) for p in splits[s]) for s in SPLITS}}
    write_atomic(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Build the real-English corpus (see the module docstring).",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out-dir", type=Path, default=Path("data/english"), help="where train/valid/test.txt go")
    for name, what in (("wikitext", "encyclopedia articles (WikiText-2)"), ("fiction", "novels, a paragraph per line"),
                       ("dialogue", "dialogues, a turn per line, blank lines between")):
        p.add_argument(f"--{name}", type=Path, help=f"folder of {what}: train/valid/test .txt or .txt.xz")
        p.add_argument(f"--{name}-words", type=int, default=TRAIN_WORDS[name], help=f"train words taken from --{name} (0 = all)")
    p.add_argument("--cue-passages", type=int, default=16000, help="generated long-range cue passages in train")
    p.add_argument("--eval-words", type=int, default=150_000, help="words in valid and in test, shared by the sources")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated passages")
    a = p.parse_args(argv)
    sources = {name: getattr(a, name) for name in READERS if getattr(a, name) is not None}
    try:
        manifest = build_english(a.out_dir, sources, a.cue_passages, a.seed,
                                 {name: getattr(a, f"{name}_words") for name in READERS}, a.eval_words)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f"error: {e}")
    counts = (f"{s} {manifest['passages'][s]:,} passages / {manifest['words'][s]:,} words" for s in SPLITS)
    print(f"wrote {a.out_dir}: " + ", ".join(counts))


if __name__ == "__main__":
    main()
