"""Reading a corpus directory: train.txt / valid.txt / test.txt.

Format (written by `python -m corpus.build`): UTF-8 text; passages are separated by blank
lines; each line of a passage ends with <eos> once tokenized. Passages are independent: the
model's state is reset at the start of each one.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from model.tokenizer import WordTokenizer, train_tokenizer

if TYPE_CHECKING:
    from model.training.config import TrainConfig

SPLITS = ("train", "valid", "test")


def read_passages(path: Path) -> list[list[str]]:
    """A split file → passages, each a list of non-empty lines."""
    passages: list[list[str]] = []
    current: list[str] = []
    with Path(path).open(encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if line:
                current.append(line)
            elif current:
                passages.append(current)
                current = []
    if current:
        passages.append(current)
    return passages


def encode_passages(tokenizer: WordTokenizer, passages: list[list[str]]) -> list[list[int]]:
    """Passages of lines → passages of token ids (every line followed by <eos>).

    One batched call into the Rust tokenizer, then regrouped: far faster than a call per line.
    """
    lines = [line for passage in passages for line in passage]
    encodings = tokenizer.tokenizer.encode_batch(lines, add_special_tokens=False)
    eos = tokenizer.eos_id
    out: list[list[int]] = []
    i = 0
    for passage in passages:
        ids: list[int] = []
        for encoding in encodings[i : i + len(passage)]:
            ids.extend(encoding.ids)
            ids.append(eos)
        i += len(passage)
        out.append(ids)
    return out


def check_corpus_dir(corpus_dir: Path) -> None:
    missing = [s for s in SPLITS if not (Path(corpus_dir) / f"{s}.txt").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{corpus_dir} lacks {', '.join(m + '.txt' for m in missing)}; build it with `python -m corpus.build`"
        )


def load_splits(
    cfg: TrainConfig, tokenizer: WordTokenizer | None = None
) -> tuple[WordTokenizer, dict[str, list[list[int]]]]:
    """The encoded splits, with a vocabulary learned from train.txt unless `tokenizer` is given (--resume)."""
    check_corpus_dir(cfg.corpus_dir)
    text = {s: read_passages(cfg.corpus_dir / f"{s}.txt") for s in SPLITS}
    if not text["train"]:
        raise ValueError(f"{cfg.corpus_dir}/train.txt holds no text")
    if tokenizer is None:
        tokenizer = train_tokenizer([line for p in text["train"] for line in p], cfg.vocab_size, cfg.min_frequency,
                                    as_is=cfg.as_is_tokens)
    return tokenizer, {s: encode_passages(tokenizer, p) for s, p in text.items()}
