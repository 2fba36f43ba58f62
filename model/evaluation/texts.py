"""The real texts the evaluation reads, as documents typed from their start: plain files (.xz read as
xz), LAMBADA jsonl passages, WikiText-2 articles (its tokenisation undone as typed), Gutenberg books
(books.tsv beside the file) and dialogues. The data comes only from the paths given."""
from __future__ import annotations

import argparse
import json
import lzma
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from model.predict import Predictor


def open_text(path: Path):
    """A text file for reading, .xz files decompressed on the fly."""
    path = Path(path)
    return lzma.open(path, "rt", encoding="utf-8") if path.suffix == ".xz" else path.open(encoding="utf-8")


def read_lines(path: Path, max_words: int | None = None) -> list[str]:
    """The file's non-blank lines, stopping once they hold `max_words` whitespace-separated words."""
    lines, words = [], 0
    with open_text(path) as f:
        for raw in f:
            if max_words is not None and words >= max_words:
                break
            line = raw.strip()
            if line:
                lines.append(line)
                words += len(line.split())
    return lines


def read_lambada(path: Path, limit: int | None = None) -> list[str]:
    """The first `limit` passages ("text" of each JSON line) of a LAMBADA jsonl file."""
    passages = []
    with open_text(path) as f:
        for raw in f:
            if limit is not None and len(passages) >= limit:
                break
            if raw.strip():
                passages.append(json.loads(raw)["text"])
    return passages


def line_tokens(predictor: Predictor, line: str) -> Iterator[tuple[int, str]]:
    """(token id, the text it was read from) for each token of a line, as the tokenizer splits it."""
    encoding = predictor.tokenizer.tokenizer.encode(line, add_special_tokens=False)
    for token_id, (start, end) in zip(encoding.ids, encoding.offsets):
        yield token_id, line[start:end]


# A WikiText article heading: " = Title = " (section headings are " = = Section = = ").
ARTICLE_HEADING = re.compile(r"^= [^=].* =$")


def split_articles(lines: Sequence[str]) -> list[list[str]]:
    """Lines → articles, a new one at each WikiText top-level heading (all one article if there is none)."""
    articles: list[list[str]] = []
    for line in lines:
        if not articles or ARTICLE_HEADING.match(line.strip()):
            articles.append([])
        articles[-1].append(line)
    return articles


DOCUMENT_KINDS = ("plain", "fiction", "wikitext", "dialogue", "lambada")


def read_documents(kind: str, path: Path) -> Iterator[list[str]]:
    """The documents of a text, each a list of lines, each typed from its start:
    plain: the whole file; fiction: a book each (books.tsv beside the file, else the whole file);
    wikitext: an article each, its tokenisation undone as typed ("@-@" joins, <unk> stays unknown);
    dialogue: blank-line separated blocks; lambada: a passage each (a jsonl file)."""
    path = Path(path)
    if kind == "lambada":
        for text in read_lambada(path):
            yield text.splitlines()
        return
    with open_text(path) as f:
        lines = [raw.rstrip("\n") for raw in f]
    if kind == "wikitext":
        from corpus.english import untokenize_wikitext

        for article in split_articles([line for line in lines if line.strip()]):
            yield [untokenize_wikitext(line.strip()) for line in article]
    elif kind == "dialogue":
        block: list[str] = []
        for line in [*lines, ""]:
            if line.strip():
                block.append(line.strip())
            elif block:
                yield block
                block = []
    elif kind == "fiction":
        from corpus.english import book_starts

        starts = sorted(book_starts(path.parent, path.name.split(".")[0]) | {0})
        for a, b in zip(starts, [*starts[1:], len(lines)]):
            yield [line for line in lines[a:b] if line.strip()]
    elif kind == "plain":
        yield [line for line in lines if line.strip()]
    else:
        raise ValueError(f"unknown kind of text {kind!r} (known: {', '.join(DOCUMENT_KINDS)})")


def document_source(spec: str) -> tuple[str, Path]:
    """KIND=PATH on a command line (argparse type): which reader of read_documents, and the file; a bare PATH
    is plain text, one document."""
    kind, _, path = spec.rpartition("=")
    kind = kind or "plain"
    if kind not in DOCUMENT_KINDS:
        raise argparse.ArgumentTypeError(f"unknown kind {kind!r} in {spec!r} (known: {', '.join(DOCUMENT_KINDS)})")
    return kind, Path(path)
