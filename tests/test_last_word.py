"""The last-word ranker (model/evaluation/last_word.py): its features on a hand-checked passage, its fit,
its file, and its use by real_text's LAMBADA scoring."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from model.cache import CacheSettings
from model.checkpoint import load_latest
from model.evaluation.lambada import feed_prompt
from model.evaluation.last_word import FEATURES, LastWordRanker, candidate_features, inner_capitals
from model.evaluation.last_word import main as fit_main
from model.evaluation.listwise import FitSettings, Scorer, accuracy, cross_validated, fit_scorer
from model.evaluation.real_text import main as real_text_main
from model.evaluation.typists import NeuralTypist, word_id
from model.predict import Predictor

SETTINGS = CacheSettings(weight=0.3, flatness=0.5, window=500)
PROMPT = "I speak Zorblax in France. The clouds are in the sky. I speak"


@pytest.fixture(scope="module")
def predictor(tiny_models_dir) -> Predictor:
    return Predictor(load_latest(tiny_models_dir))


def feature(candidates, word: str, name: str) -> float:
    return float(candidates.features[candidates.words.index(word), FEATURES.index(name)])


def test_inner_capitals_count_names_not_sentence_openings():
    text = "Then Anna said, Tom is here. Anna? He saw Anna and Bob.\nCarl left; Dora"
    assert inner_capitals(text) == {"anna": 2, "tom": 1, "bob": 1, "dora": 1}


def test_candidate_features_on_a_hand_checked_passage(predictor):
    typist = NeuralTypist(predictor, SETTINGS)
    feed_prompt(typist, PROMPT)
    candidates = candidate_features(typist, PROMPT, flatness=0.5)
    written = ["i", "speak", "zorblax", "in", "france", "the", "clouds", "are", "sky"]
    assert set(written) <= set(candidates.words) and len(set(candidates.words)) == len(candidates.words)
    assert candidates.spellings[candidates.words.index("zorblax")] == "Zorblax"  # offered as written
    assert word_id(predictor, "zorblax") == predictor.tokenizer.unk_id
    # The passage ends on "speak", which Zorblax followed the one time it was written before.
    assert feature(candidates, "zorblax", "count") == pytest.approx(math.log1p(1))
    assert feature(candidates, "speak", "count") == pytest.approx(math.log1p(2))
    assert feature(candidates, "zorblax", "follows_last") == pytest.approx(math.log(1 + 1e-4))
    assert feature(candidates, "sky", "follows_last") == pytest.approx(math.log(1e-4))
    assert feature(candidates, "zorblax", "capitalised") == pytest.approx(math.log1p(1))  # "speak Zorblax"
    assert feature(candidates, "france", "capitalised") == pytest.approx(math.log1p(1))  # "in France"
    assert feature(candidates, "clouds", "capitalised") == 0.0
    assert feature(candidates, "zorblax", "unknown") == 1.0 and feature(candidates, "sky", "unknown") == 0.0
    assert feature(candidates, "in", "function_word") == 1.0 and feature(candidates, "sky", "function_word") == 0.0
    assert feature(candidates, "sky", "short") == 1.0 and feature(candidates, "clouds", "short") == 0.0
    assert feature(candidates, "sky", "in_text") == 1.0
    assert feature(candidates, "zorblax", "capital_share") == 1.0 == feature(candidates, "france", "capital_share")
    assert feature(candidates, "the", "capital_share") == 0.5  # "The clouds", "the sky"
    assert feature(candidates, "clouds", "capital_share") == 0.0
    assert feature(candidates, "zorblax", "known_name") == 1.0 == feature(candidates, "france", "known_name")
    assert feature(candidates, "sky", "known_name") == 0.0 == feature(candidates, "i", "known_name")
    vocabulary = len(predictor.tokenizer.display_forms)
    assert feature(candidates, "sky", "rarity") == pytest.approx(math.log1p(word_id(predictor, "sky")) / 10)
    assert feature(candidates, "zorblax", "rarity") == pytest.approx(math.log1p(vocabulary) / 10)
    # The cache over this passage's positions (each word's share of exp(θ h_t · h_i)), and the model's own.
    probs = predictor.next_word_probabilities(typist.state).numpy()
    assert feature(candidates, "sky", "model") == pytest.approx(math.log(probs[word_id(predictor, "sky")] + 1e-9), abs=1e-5)
    assert feature(candidates, "zorblax", "model") == pytest.approx(math.log(probs[predictor.tokenizer.unk_id] + 1e-9),
                                                                    abs=1e-5)
    keys, query = typist.cache.keys.astype(np.float64), Predictor._hidden(typist.state).astype(np.float64)
    weights = np.exp(0.5 * keys @ query - (0.5 * keys @ query).max())
    weights /= weights.sum()
    sky_at = typist.cache.words == word_id(predictor, "sky")
    assert feature(candidates, "sky", "cache") == pytest.approx(math.log(weights[sky_at].sum() + 1e-6), abs=1e-6)
    assert feature(candidates, "sky", "ending") == pytest.approx(
        math.log(typist.ending_probabilities(["sky"])[0]), abs=1e-5)
    # After "sky" come ".", "I" and "speak": the last position is 3 further on.
    assert feature(candidates, "sky", "distance") == pytest.approx(math.log1p(4))
    # A model candidate that was not written has no count, distance or share of the cache.
    unwritten = [w for w in candidates.words if w not in written]
    assert unwritten and all(feature(candidates, w, "in_text") == 0.0 == feature(candidates, w, "distance")
                             for w in unwritten)


def test_candidate_features_need_the_document_cache(predictor):
    typist = NeuralTypist(predictor, CacheSettings(weight=0.0))
    feed_prompt(typist, PROMPT)
    with pytest.raises(ValueError, match="document cache"):
        candidate_features(typist, PROMPT, 0.5)


def synthetic(n_passages: int, deciding: str, seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """Lists of 8 candidates with random features where the right one is the highest on one feature."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_passages):
        x = rng.normal(size=(8, len(FEATURES)))
        out.append((x, int(np.argmax(x[:, FEATURES.index(deciding)]))))
    return out


def test_fit_finds_the_feature_that_decides():
    train, test = synthetic(200, "capitalised"), synthetic(100, "capitalised", seed=1)
    linear = fit_scorer(train, FitSettings(hidden=0, epochs=40, learning_rate=0.03))
    assert FEATURES[int(np.argmax(linear.linear))] == "capitalised"
    top1, top5 = accuracy(test, linear)
    assert top1 >= 0.9 and top5 == 1.0
    assert accuracy(test, Scorer.weighing(FEATURES, {"distance": 1.0}))[0] < 0.3  # another feature ranks them at random (1 in 8)
    assert accuracy(test, fit_scorer(train))[0] >= 0.9  # the hidden units do not get in the way
    assert cross_validated(train + test, folds=2, settings=FitSettings(hidden=0, epochs=40, learning_rate=0.03))["top1"] >= 0.9


def test_the_hidden_units_learn_what_one_signal_means_given_another():
    """The true word is the one highest on `count` where `unknown` is on, else the one highest on `recent`: no
    single weighing of the features ranks that, the scorer's tanh units can."""
    rng = np.random.default_rng(3)
    examples = []
    for _ in range(600):
        x = rng.normal(size=(8, len(FEATURES)))
        flag = float(rng.random() < 0.5)
        x[:, FEATURES.index("unknown")] = flag
        decide = "count" if flag else "recent"
        examples.append((x, int(np.argmax(x[:, FEATURES.index(decide)]))))
    train, test = examples[:400], examples[400:]
    linear = accuracy(test, fit_scorer(train, FitSettings(hidden=0)))[0]
    hidden = accuracy(test, fit_scorer(train, FitSettings(hidden=8, epochs=60)))[0]
    assert hidden > linear + 0.2, (linear, hidden)
    assert fit_scorer(train[:50], FitSettings(epochs=2)).as_json() == fit_scorer(train[:50], FitSettings(epochs=2)).as_json()


def test_passages_whose_last_word_is_no_candidate_count_as_misses():
    examples = synthetic(10, "count")
    missing = [(c, -1) for c, _ in synthetic(10, "count", seed=2)]
    assert accuracy(examples + missing, Scorer.weighing(FEATURES, {"count": 1.0})) == (0.5, 0.5)
    with pytest.raises(ValueError, match="no passage"):
        fit_scorer(missing)


def test_ranker_file_round_trip_and_refuses_another_version_or_features(tmp_path):
    ranker = LastWordRanker("v1", 0.3, fit_scorer(synthetic(20, "count"), FitSettings(epochs=2)))
    path = tmp_path / "ranker.json"
    ranker.save(path, {"passages": 20})
    loaded = LastWordRanker.load(path, "v1")
    assert loaded.scorer.as_json() == ranker.scorer.as_json() and loaded.flatness == 0.3
    x = synthetic(1, "count")[0][0]
    assert loaded.scorer(x) == pytest.approx(ranker.scorer(x))
    with pytest.raises(ValueError, match="fitted for model 'v1'"):
        LastWordRanker.load(path, "v2")
    data = json.loads(path.read_text())
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="features"):
        LastWordRanker.load(path, "v1")


def test_a_ranker_that_weighs_names_names_the_one_written_before(predictor):
    typist = NeuralTypist(predictor, SETTINGS)
    feed_prompt(typist, PROMPT)
    names = LastWordRanker("v", 0.5, Scorer.weighing(FEATURES, {"capitalised": 1.0, "unknown": 0.5}))
    assert names.rank(typist, PROMPT, 2) == ["Zorblax", "France"]
    assert LastWordRanker("v", 0.5, Scorer.weighing(FEATURES, {"follows_last": 1.0})).rank(typist, PROMPT, 1) == ["Zorblax"]


def test_fit_cli_then_lambada_scored_with_the_ranker(cache_models_dir, tmp_path):
    passages = tmp_path / "passages.jsonl"
    texts = ["I met Zorblax in France. The clouds are in the sky. I met Zorblax.",
             "She poured milk into her tea. I grew up in France. I speak fluent French.",
             "The clouds are in the sky. I met Anna in France. Then I saw Anna."] * 4
    passages.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    out = tmp_path / "ranker.json"
    fit_main(["--models-dir", str(cache_models_dir), "--passages-file", str(passages), "--epochs", "300",
              "--out", str(out)])
    saved = json.loads(out.read_text())
    version = load_latest(cache_models_dir).version
    assert saved["version"] == version and saved["features"] == list(FEATURES)
    assert saved["fit"]["passages"] == 12 and saved["fit"]["fitted"]["top1"] == 1.0
    assert "held_out" in saved["fit"]
    result_path = tmp_path / "result.json"
    real_text_main(["--models-dir", str(cache_models_dir), "--lambada", str(passages), "--lambada-limit", "12",
                    "--keystroke-words", "0", "--no-cache-baseline", "--last-word-ranker", str(out),
                    "--json", str(result_path)])
    rows = json.loads(result_path.read_text())["lambada"]
    fitted = [r for r in rows if isinstance(r["ranking"], dict) and "fitted_ranker" in r["ranking"]]
    assert [r["system"] for r in fitted] == ["model + cache + 3-gram"]  # the ranker reads the cache: not for "model, no cache"
    assert fitted[0]["top1"] == 1.0 and fitted[0]["n"] == 12


def test_a_model_without_a_cache_gets_no_ranker_and_is_still_evaluated(tiny_models_dir, tmp_path, capsys):
    """make evaluate-text runs both steps for any model: without a document cache the fit writes nothing
    (and removes a ranker left from another model), and the evaluation goes on without one."""
    out = tmp_path / "ranker.json"
    out.write_text("{}")  # left from another model
    passages = tmp_path / "passages.jsonl"
    passages.write_text(json.dumps({"text": "I grew up in France. I speak fluent French."}) + "\n")
    fit_main(["--models-dir", str(tiny_models_dir), "--passages-file", str(passages), "--out", str(out)])
    assert not out.exists() and "no document cache" in capsys.readouterr().out
    result_path = tmp_path / "result.json"
    real_text_main(["--models-dir", str(tiny_models_dir), "--lambada", str(passages), "--lambada-limit", "1",
                    "--keystroke-words", "0", "--last-word-ranker", str(out), "--json", str(result_path)])
    assert [r["ranking"] for r in json.loads(result_path.read_text())["lambada"]] == ["next word"]
