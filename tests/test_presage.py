"""Presage as a typist in the real-text evaluation (model/evaluation/presage.py): the engine as Debian ships
it, reached through its C API, typing the same words through the same counter as our own suggestions."""
from __future__ import annotations

import json
import os

import pytest

from model.checkpoint import load_latest
from model.evaluation import presage
from model.evaluation.keystrokes import count_keystrokes, typing_steps
from model.evaluation.real_text import main
from model.predict import Predictor


def started_presage() -> presage.Presage:
    """Skipped where Presage is not installed, except under CI (.ci/run installs it): there it fails."""
    try:
        return presage.Presage()
    except presage.PresageUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(str(e))
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def engine():
    with started_presage() as found:
        yield found


@pytest.fixture(scope="module")
def predictor(tiny_models_dir) -> Predictor:
    return Predictor(load_latest(tiny_models_dir))


def test_presage_suggests_next_words_and_completes_the_word_being_typed(engine):
    after = engine.predict("I would like a cup of ", 3)
    assert len(after) == 3 and all(w == w.lower() and w.isalpha() for w in after), after
    completed = engine.predict("I would like a cup of te", 5)
    assert len(completed) == 5 and all(w.startswith("te") for w in completed), completed
    assert "tea" in completed


def test_presage_remembers_a_made_up_word_typed_earlier_in_the_document(engine, predictor):
    """What reaches Presage is the document so far: a word it cannot know, typed once, is offered the
    second time within a letter or two (its recency predictor), and each word typed counts as ours do."""
    text = "My friend Quorvath came to dinner . Later that night Quorvath went home ."
    typist = presage.PresageTypist(predictor, engine)
    count = count_keystrokes(typing_steps(typist, [[text]], 3))
    words = [w for w in text.split() if w != "."]
    assert count.words == len(words) and count.letters_and_spaces == sum(len(w) + 1 for w in words)
    first, second = [k for w, k in zip(words, count.per_word) if w == "Quorvath"]
    assert first == len("Quorvath") + 1  # never suggested: every letter and the space
    assert second <= 3, count.per_word
    assert typist.text.endswith("Quorvath went home . \n")


def test_words_passed_over_are_not_shown_again(engine, predictor):
    typist = presage.PresageTypist(predictor, engine)
    typist.feed(predictor.tokenizer.encode("the clouds are in the"), [None] * 5)
    suggest = typist.suggester(3)
    shown = suggest("", ())
    again = suggest("", shown)
    assert len(again) == 3 and not set(again) & set(shown)


def test_presage_learns_in_a_folder_of_its_own_never_the_users_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    engine = started_presage()
    folder = engine._folder.name
    engine.predict("a word or two typed here ", 3)
    assert os.path.exists(os.path.join(folder, "lm.db")) and not any(tmp_path.iterdir())
    engine.close()
    assert not os.path.exists(folder)


def test_a_missing_presage_is_a_clear_error_and_the_evaluation_goes_on_without_it(tiny_models_dir, tmp_path,
                                                                                  monkeypatch, capsys):
    monkeypatch.setattr(presage, "LIBRARY", "libpresage-not-here.so.1")
    with pytest.raises(presage.PresageUnavailable, match="apt-get install presage"):
        presage.Presage()
    with pytest.raises(presage.PresageUnavailable, match="no Presage configuration"):
        presage.Presage(tmp_path / "none.xml")
    typed = tmp_path / "typed.txt"
    typed.write_text("The clouds are in the sky.\n")
    out = tmp_path / "result.json"
    main(["--models-dir", str(tiny_models_dir), "--keystrokes", str(typed), "--keystroke-words", "6",
          "--presage", "--json", str(out)])
    assert json.loads(out.read_text())["systems"] == ["model"]
    assert "Presage is not compared: Presage is not installed" in capsys.readouterr().out


def test_the_cli_types_with_presage_beside_the_model(engine, tiny_models_dir, tmp_path, capsys):
    lambada = tmp_path / "lambada.jsonl"
    lambada.write_text(json.dumps({"text": "The clouds are in the sky."}) + "\n")
    typed = tmp_path / "typed.txt"
    typed.write_text("The clouds are in the sky.\nShe poured milk into her tea.\n")
    out = tmp_path / "result.json"
    main(["--models-dir", str(tiny_models_dir), "--lambada", str(lambada), "--lambada-limit", "1",
          "--keystrokes", str(typed), "--keystroke-words", "8", "--presage", "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["systems"] == ["model", "Presage"]
    assert [lam["system"] for lam in result["lambada"]] == ["model"]  # Presage types; it ranks no last word
    presaged = [ks for ks in result["keystrokes"] if ks["system"] == "Presage"]
    assert len(presaged) == 1 and presaged[0]["words"] == 8 and 0 < presaged[0]["savings"] < 1
    assert "| Presage | keystroke savings, 3 suggestions |" in capsys.readouterr().out
