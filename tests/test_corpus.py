import random
import re
from pathlib import Path

import pytest

from corpus.build import build, hashed_split, main, read_text_dir, split_text_into_passages
from corpus.cues import COUNTRY_LANGUAGE, CUE_TEMPLATES, QUERY_TEMPLATES
from corpus.filler import FillerGenerator
from corpus.passages import cue_passage
from model.training.data import read_passages

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CUE = re.compile(r"I grew up in (\w+)\.|I was born in (\w+)\.|My family comes from (\w+)\.|I spent my childhood in (\w+)\.")
QUERY = re.compile(r"(?:I speak fluent|My native language is|I am fluent in) (\w+)\.")


def test_cue_passages_answer_with_the_language_of_the_cue_country():
    rng = random.Random(1)
    filler = FillerGenerator(rng)
    seen_cues, seen_queries = set(), set()
    for _ in range(300):
        passage = cue_passage(rng, filler)
        cues = [next(g for g in m.groups() if g) for m in CUE.finditer(passage)]
        assert len(cues) == 1, passage  # a passing mention uses other wording
        answers = QUERY.findall(passage)
        assert answers and set(answers) == {COUNTRY_LANGUAGE[cues[0]]}, passage
        seen_cues |= {t for t in CUE_TEMPLATES if t.format(country=cues[0]) in passage}
        seen_queries |= {t for t in QUERY_TEMPLATES if t.format(language=answers[0]) in passage}
    assert seen_cues == set(CUE_TEMPLATES) and seen_queries == set(QUERY_TEMPLATES)


def test_build_is_deterministic_and_mixes_in_user_text(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "notes.txt").write_text("\n\n".join(f"My own note number {i} about the zeppelin." for i in range(200)))
    a = build(tmp_path / "a", seed=3, train_passages=50, eval_passages=5, user_dir=user)
    b = build(tmp_path / "b", seed=3, train_passages=50, eval_passages=5, user_dir=user)
    for split in ("train", "valid", "test"):
        assert (tmp_path / "a" / f"{split}.txt").read_text() == (tmp_path / "b" / f"{split}.txt").read_text()
    assert a == b and a["passages"]["train"] > 50
    train_text = (tmp_path / "a" / "train.txt").read_text()
    assert "zeppelin" in train_text
    build(tmp_path / "c", seed=4, train_passages=50, eval_passages=5, user_dir=None)
    other_seed = (tmp_path / "c" / "train.txt").read_text()
    assert other_seed != train_text and "zeppelin" not in other_seed
    passages = read_passages(tmp_path / "a" / "train.txt")
    assert len(passages) == a["passages"]["train"]


def test_gaps_reach_at_least_300_words():
    rng = random.Random(0)
    filler = FillerGenerator(rng)
    longest = 0
    for _ in range(200):
        passage = cue_passage(rng, filler)
        cue_end = CUE.search(passage).end()
        query_start = QUERY.search(passage).start()
        longest = max(longest, len(passage[cue_end:query_start].split()))
    assert longest >= 300


def test_plain_text_is_split_at_blank_lines_and_hashed_into_splits():
    assert split_text_into_passages("a b\nc\n\n\nd e\n") == ["a b\nc", "d e"]
    assert hashed_split("some passage") == hashed_split("some passage")
    shares = [hashed_split(f"passage {i}") for i in range(4000)]
    assert 0.85 < shares.count("train") / 4000 < 0.95


def test_wikitext_articles_become_passages():
    text = " = Alpha = \n\n Alpha is a letter . \n\n = = History = = \n\n Old . \n\n = Beta = \n\n Beta too . \n"
    assert split_text_into_passages(text) == ["= Alpha =\nAlpha is a letter .\n= = History = =\nOld .", "= Beta =\nBeta too ."]


@pytest.mark.skipif(not (SHARED / "wikitext-2").is_dir(), reason="../shared/data is not beside the repo")
def test_wikitext_2_is_read_split_for_split():
    found = read_text_dir(SHARED / "wikitext-2")
    assert len(found["train"]) > 500 and len(found["valid"]) > 50 and len(found["test"]) > 50
    assert all(p.startswith("= ") for p in found["valid"])
    words = sum(len(line.split()) + 1 for p in found["valid"] for line in p.split("\n"))
    assert abs(words - 217646) / 217646 < 0.01  # the README's token count, <eos> per line


# sha256 of the files of the default build (`python -m corpus.build`, seed 0, no user text),
# recorded before the filler grammar was split into modules; the build takes a few seconds.
PINNED_DEFAULT_BUILD = {
    "train.txt": "83397915e5c36eb35a9deaa3a4aa81c9c6a53539d0a4b614ed36da8782708688",
    "valid.txt": "27e9e43f0daf26286161e1c7d7bedee3aeca009047e202b0bd2f6610b712758c",
    "test.txt": "9987ca9a1f52f8ee7b2339d642cb0c4492f2f529fc9739bec0fb1e994b984801",
    "manifest.json": "4039c45014ad4187fb338be4e4510ac865125985086f535a6ea74e496bd0a2c8",
    "loss_weights.json": "29251b5af7f9db684f687e874a7e0b98dda09cf623ccfa05c29e3886207fb77f",
}


def test_default_build_is_pinned(tmp_path):
    import hashlib

    build(tmp_path, user_dir=None)
    got = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in PINNED_DEFAULT_BUILD}
    assert got == PINNED_DEFAULT_BUILD


def test_a_corpus_too_small_to_split_is_an_error_not_train_text_reused(tmp_path, capsys):
    user = tmp_path / "user"
    user.mkdir()
    # three passages that the 90/5/5 hash all sends to train
    passages = [p for p in (f"Note {i} about the zeppelin." for i in range(50)) if hashed_split(p) == "train"][:3]
    (user / "notes.txt").write_text("\n\n".join(passages))
    with pytest.raises(ValueError, match=r"the valid and test splits would be empty .*100 passages"):
        build(tmp_path / "out", user_dir=user, synthetic=False)
    assert not (tmp_path / "out" / "valid.txt").exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["--out-dir", str(tmp_path / "out"), "--user-dir", str(user), "--no-synthetic"])
    assert "would be empty" in str(exit_info.value)
