"""corpus/english.py: the real-English corpus from encyclopedia, fiction and dialogue folders plus cue passages;
and `make english`, which trains nothing when a version is there."""
from __future__ import annotations

import json
import lzma
import subprocess
from pathlib import Path

import pytest

from corpus.english import build_english, fiction_passages, untokenize_wikitext
from model.training.data import read_passages

ROOT = Path(__file__).resolve().parents[1]


def write_sources(root: Path) -> dict[str, Path]:
    wiki, fiction, dialogue = root / "wiki", root / "fiction", root / "dialogue"
    for folder in (wiki, fiction, dialogue):
        folder.mkdir()
    for split in ("train", "valid", "test"):
        (wiki / f"{split}.txt").write_text(
            f" = {split.title()} Alpha = \n The early @-@ 1990s were Alpha 's years , ( mostly ) . \n"
            f" = {split.title()} Beta = \n Beta did n't . \n")
        # Fiction, xz-compressed, two books per split (books.tsv: the second starts at line 3).
        with lzma.open(fiction / f"{split}.txt.xz", "wt", encoding="utf-8") as f:
            f.write("It was _very_ dark.\nShe said “don’t” twice.\nA second book begins.\nAnd ends.\n")
        (dialogue / f"{split}.txt").write_text("Book a table.\nFor when?\n\nPlay some music.\nWhich song?\n")
    (fiction / "books.tsv").write_text("split\tfirst_line\tlines\n" + "".join(
        f"{s}\t1\t2\n{s}\t3\t2\n" for s in ("train", "valid", "test")))
    return {"wikitext": wiki, "fiction": fiction, "dialogue": dialogue}


def test_build_english_from_three_sources_and_cue_passages(tmp_path):
    sources = write_sources(tmp_path)
    manifest = build_english(tmp_path / "out", sources, cue_passages=40, eval_words=10_000)
    train = read_passages(tmp_path / "out" / "train.txt")
    texts = ["\n".join(p) for p in train]
    # WikiText: one article a passage, its tokenisation undone.
    assert "= Train Alpha =\nThe early-1990s were Alpha's years, (mostly)." in texts
    assert "= Train Beta =\nBeta didn't." in texts
    # Fiction: one passage per book (books.tsv), italics underscores gone, quotes kept for the tokenizer.
    assert "It was very dark.\nShe said “don’t” twice." in texts and "A second book begins.\nAnd ends." in texts
    # Dialogue: a passage per blank-line block.
    assert "Book a table.\nFor when?" in texts
    assert manifest["counts"]["cue passages"]["train"]["passages"] == 40
    assert manifest["passages"]["train"] == 2 + 2 + 2 + 40
    assert json.loads((tmp_path / "out" / "loss_weights.json").read_text())  # the cue answers weigh more
    for split in ("valid", "test"):
        assert manifest["passages"][split] >= 4


def test_train_words_cap_and_no_cue_passages(tmp_path):
    sources = write_sources(tmp_path)
    manifest = build_english(tmp_path / "out", {"fiction": sources["fiction"]}, cue_passages=0,
                             train_words={"fiction": 3})
    assert manifest["counts"]["fiction"]["train"]["passages"] == 1  # the first book already holds 3 words
    assert not (tmp_path / "out" / "loss_weights.json").exists()
    with pytest.raises(ValueError, match="empty"):
        build_english(tmp_path / "none", {}, cue_passages=0)


def test_fiction_passages_split_long_books(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "train.txt").write_text("".join(f"Paragraph {i} has five words.\n" for i in range(10)))
    passages = fiction_passages(folder, "train", passage_words=10)
    assert [len(p.splitlines()) for p in passages] == [2, 2, 2, 2, 2]


def test_untokenize_wikitext():
    assert untokenize_wikitext("3 @,@ 000 people , 1 @.@ 5 m ; it 's a well @-@ known ( big ) town .") == \
        "3,000 people, 1.5 m; it's a well-known (big) town."


def test_make_english_trains_nothing_when_a_version_exists(tmp_path):
    version = tmp_path / "models-english" / "20260101-000000-gru"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text("{}")
    result = subprocess.run(["make", "-s", "english", f"ENGLISH_MODELS_DIR={tmp_path / 'models-english'}",
                             "WIKITEXT_DIR=/nonexistent"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "not training" in result.stdout
    assert sorted(p.name for p in (tmp_path / "models-english").iterdir()) == [version.name]
