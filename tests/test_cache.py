"""The document cache (model/cache.py): against a slow reference, whole text against word by word,
words it never learned, its bounds, and the block-wise scorer (model/evaluation/cache_scoring.py)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from model.cache import CacheSettings, cache_share, entropy, load_settings
from model.checkpoint import load_latest, load_version
from model.evaluation import cache_scoring
from model.ngram import NGRAM_FILE, KneserNeyLM
from model.predict import Predictor

TEXT = ("I grew up in France. The clouds are in the sky. The dog is barking at the postman. "
        "We eat breakfast in the kitchen every morning. She poured milk into her tea. I speak fluent French. ")


@pytest.fixture(scope="module")
def predictor(tiny_models_dir) -> Predictor:
    return Predictor(load_latest(tiny_models_dir))


def reference_mixture(predictor: Predictor, ids: list[int], settings: CacheSettings,
                      ngram: KneserNeyLM | None = None) -> list[np.ndarray]:
    """The formula written out position by position, with the model run step by step in torch: for each
    t ≥ 1, p(w) = (1-λ) p_model(w | h_t) + λ Σ_{t-W ≤ i ≤ t-1, x_{i+1}=w} exp(θ h_t·h_i) / Σ exp(θ h_t·h_i);
    with skip_latest the sums stop at i = t-2, and where they are empty p is the model's; with ramp_pairs N
    λ is scaled by min(1, pairs in the sums / N); with an n-gram model, p_model is (1-μ) p_rnn + μ p_ngram(w |
    x_1 .. x_t, the words the cache holds), λ_t's entropy p_rnn's."""
    model = predictor.model
    state, hidden, model_probs = None, [], []
    with torch.inference_mode():
        for token in ids:
            out, state = model.encode(torch.tensor([[token]]), state)
            hidden.append(out[0, 0].double().numpy())
            model_probs.append(model.log_probs(out[0, 0]).exp().double().numpy())
    mixtures = []
    theta, window = settings.flatness, settings.window
    for t in range(1, len(ids)):
        lam = settings.weight
        if settings.entropy_scale > 0:  # λ_t = λ · min(1, H_t / S)
            entropy = -sum(p * math.log(p) for p in model_probs[t] if p > 0)
            lam = settings.weight * min(1.0, entropy / settings.entropy_scale)
        entries = range(max(0, t - window), t - 1 if settings.skip_latest else t)
        if not entries:
            mixtures.append(model_probs[t])
            continue
        if settings.ramp_pairs:
            lam *= min(1.0, len(entries) / settings.ramp_pairs)
        model = model_probs[t]
        if ngram is not None:
            mu = settings.ngram_weight
            model = (1 - mu) * model + mu * ngram.distribution(ids[1 : t + 1])
        scores = [math.exp(theta * float(hidden[t] @ hidden[i])) for i in entries]
        total = sum(scores)
        cache = np.zeros_like(model_probs[t])
        for i, s in zip(entries, scores):
            cache[ids[i + 1]] += s / total
        mixtures.append((1 - lam) * model + lam * cache)
    return mixtures


@pytest.mark.parametrize("entropy_scale", [0.0, 2.5])
@pytest.mark.parametrize("skip_latest, ramp_pairs", [(False, 0), (True, 0), (True, 7)])
def test_cache_matches_the_formula_position_by_position(predictor, entropy_scale, skip_latest, ramp_pairs):
    settings = CacheSettings(weight=0.3, flatness=0.7, window=12, copy_unknown=False, entropy_scale=entropy_scale,
                             skip_latest=skip_latest, ramp_pairs=ramp_pairs)
    ids = predictor.encode(TEXT)
    assert len(ids) > 3 * settings.window  # the window must slide
    expected = reference_mixture(predictor, ids, settings)
    cache = predictor.new_cache(settings)
    state = predictor.read(ids[:1], None, cache)
    for t in range(1, len(ids)):
        state = predictor.read([ids[t]], state, cache)
        mixed = cache.mix(predictor.next_word_probabilities(state).numpy(), predictor._output(state).numpy())
        np.testing.assert_allclose(mixed.probs, expected[t - 1], atol=1e-5)
        assert len(cache) == min(t, settings.window)


def test_whole_text_and_word_by_word_agree(predictor):
    """The same cache and predictions whether the text comes at once or in pieces of 1-5 tokens."""
    settings = CacheSettings(weight=0.25, flatness=0.5, window=150)
    text = TEXT * 4  # ~ 300 tokens: the window slides
    whole_cache = predictor.new_cache(settings)
    whole = predictor.predict(text, k=5, cache=whole_cache)
    ids, spellings = predictor.encode_with_spellings(text)
    pieces_cache, state, start = predictor.new_cache(settings), None, 0
    rng = np.random.default_rng(0)
    while start < len(ids):
        step = int(rng.integers(1, 6))
        state = predictor.read(ids[start : start + step], state, pieces_cache, spellings[start : start + step])
        start += step
    pieces = predictor.top_words(state, 5, cache=pieces_cache)
    assert len(whole_cache) == len(pieces_cache) == settings.window
    np.testing.assert_allclose(whole_cache.keys, pieces_cache.keys, atol=1e-5)
    assert whole_cache.words.tolist() == pieces_cache.words.tolist()
    assert [p.word for p in whole.predictions] == [p.word for p in pieces]
    for a, b in zip(whole.predictions, pieces):
        assert abs(a.probability - b.probability) < 1e-4


def test_a_word_never_learned_is_suggested_from_the_document(predictor):
    """'Zorblax' is outside the tiny vocabulary: after it appears, its prefix brings it back, as written."""
    cache = predictor.new_cache(CacheSettings(weight=0.3, flatness=0.5, window=100))
    prompt = "I grew up in Zorblax. The clouds are in the sky. I speak fluent"
    result = predictor.predict(prompt, k=3, prefix="zor", cache=cache)
    assert [p.word for p in result.predictions] == ["Zorblax"]
    assert result.predictions[0].probability == pytest.approx(1.0)
    # Without the cache the model knows no word starting with "zor".
    assert predictor.predict(prompt, k=3, prefix="zor").predictions == []
    # Without copying, the cache gives the mass to <unk>, which is never offered.
    no_copy = predictor.new_cache(CacheSettings(weight=0.3, flatness=0.5, window=100, copy_unknown=False))
    assert predictor.predict(prompt, k=3, prefix="zor", cache=no_copy).predictions == []


def test_copied_words_share_the_models_unknown_mass(predictor):
    cache = predictor.new_cache(CacheSettings(weight=0.2, flatness=0.0, window=100))
    ids, spellings = predictor.encode_with_spellings("I grew Zorblax and Quux")
    predictor.read(ids, None, cache, spellings)
    model_probs = np.full(predictor.tokenizer.vocab_size, 1.0 / predictor.tokenizer.vocab_size)
    mixed = cache.mix(model_probs, np.zeros(predictor.model.config.hidden_size, dtype=np.float32))
    # θ = 0: every pair weighs the same; the unknown words take their cache share and the model's <unk>.
    total = mixed.probs.sum() + sum(p for _, p in mixed.unknown.values())
    assert total == pytest.approx(1.0)
    assert mixed.probs[predictor.tokenizer.unk_id] == 0.0
    assert set(mixed.unknown) == {"zorblax", "quux"}


def test_cache_is_bounded_by_its_window(predictor):
    settings = CacheSettings(weight=0.1, flatness=0.3, window=7)
    cache = predictor.new_cache(settings)
    predictor.predict(TEXT * 3, cache=cache)
    assert len(cache) == 7 and cache.keys.shape == (7, predictor.model.config.hidden_size) and len(cache.spellings) == 7


def test_copies_are_snapshots_while_the_rows_are_shared():
    """add writes past the shared rows' frontier only: a copy taken earlier keeps its pairs, two copies
    extended from one snapshot (one token sent twice) do not overwrite each other, and every cache holds
    what a plain list of its pairs, cut to the window, would hold."""
    import copy
    import random

    from model.cache import DocumentCache

    rng = random.Random(0)
    settings = CacheSettings(weight=0.1, window=300)
    caches = [(DocumentCache(settings, 4, unk_id=0), [])]  # (cache, the pairs it should hold)
    for step in range(400):
        cache, expected = rng.choice(caches[-5:])
        child, n = copy.copy(cache), rng.choice([1, 1, 2, 3, 40, 350])
        words = [rng.randrange(1, 50) for _ in range(n)]
        keys = np.random.default_rng(step).standard_normal((n, 4)).astype(np.float32)
        child.add(keys, words)
        pairs = (expected + [(tuple(k), w) for k, w in zip(keys.tolist(), words)])[-settings.window:]
        caches.append((child, pairs))
    for cache, expected in caches:
        assert [(tuple(k), w) for k, w in zip(cache.keys.tolist(), cache.words.tolist())] == expected
        assert len(cache) == len(cache.spellings) == len(expected) <= settings.window
    # Typing word by word, each request's cache a copy of the last: the window is copied once per
    # window/2 words, not once per word.
    cache, storages = DocumentCache(settings, 4, unk_id=0), []
    for step in range(3000):
        cache = copy.copy(cache)
        cache.add(np.full((1, 4), step, np.float32), [step % 50])
        storages.append(cache.storage()[0])
    assert len({id(s) for s in storages}) <= 3000 // (settings.window // 2) + 6
    assert cache.keys[:, 0].tolist() == list(range(3000 - settings.window, 3000))


def test_every_storage_chains_a_digest_over_its_words():
    """Each row's digest follows from the previous one and its word (seeded by the storage's name): two caches
    on one storage that read different words differ from there on, the same words agree, and rows moved to
    a new storage are chained again under its name."""
    import copy

    from model.cache import DocumentCache, chain_digests, seed_digest

    def storage_digests(cache):
        rows, _, end = cache.location()
        return rows.digests[:end]

    cache = DocumentCache(CacheSettings(weight=0.1, window=50), 4, unk_id=0)
    cache.add(np.ones((10, 4), np.float32), list(range(1, 11)))
    rows, _, _ = cache.location()
    assert storage_digests(cache).tolist() == chain_digests(seed_digest(rows.name), list(range(1, 11))).tolist()
    assert cache.digest == int(rows.digests[9])
    same, other = copy.copy(cache), copy.copy(cache)
    same.add(np.ones((1, 4), np.float32), [11])
    other.add(np.ones((1, 4), np.float32), [12])  # moves to a storage of its own (row 10 is taken)
    assert same.digest == int(chain_digests(cache.digest, [11])[0])
    assert other.location()[0] is not rows and other.digest != same.digest
    moved = other.location()[0]
    assert storage_digests(other).tolist() == chain_digests(seed_digest(moved.name), other.words.tolist()).tolist()
    assert len(set(chain_digests(0, [1, 2]).tolist()) | set(chain_digests(0, [2, 1]).tolist())) == 4  # order counts


def test_the_same_words_read_twice_from_one_snapshot_share_their_rows():
    """A retry (one token, the same next word) reuses the rows the first reading wrote; another word moves on."""
    import copy

    from model.cache import DocumentCache

    cache = DocumentCache(CacheSettings(weight=0.1, window=50), 4, unk_id=0)
    cache.add(np.ones((10, 4), np.float32), list(range(1, 11)))
    first, retry, other = copy.copy(cache), copy.copy(cache), copy.copy(cache)
    first.add(np.full((1, 4), 7, np.float32), [5])
    retry.add(np.full((1, 4), 7, np.float32), [5])
    other.add(np.full((1, 4), 8, np.float32), [5])
    assert first.location() == retry.location() and other.location()[0] is not first.location()[0]
    assert other.keys[-1].tolist() == [8] * 4 and first.keys[-1].tolist() == [7] * 4


def test_skipping_the_latest_pair_never_suggests_the_word_just_read_from_the_cache(predictor):
    """With skip_latest the cache gives the word just read nothing from its own pair: on a two-word text
    the cache has no pair in use and the mixture is the model's; the settings survive a round trip."""
    skip = CacheSettings(weight=0.5, flatness=0.5, window=50, skip_latest=True)
    keep = CacheSettings(weight=0.5, flatness=0.5, window=50)
    assert CacheSettings.from_json(skip.as_json()) == skip
    assert CacheSettings.from_json({k: v for k, v in skip.as_json().items() if k != "skip_latest"}) == keep
    ids = predictor.encode("France Paris")
    caches = {name: predictor.new_cache(s) for name, s in (("skip", skip), ("keep", keep))}
    states = {name: predictor.read(ids, None, cache) for name, cache in caches.items()}
    probs = predictor.next_word_probabilities(states["skip"]).numpy()
    mixed = {name: caches[name].mix(probs, predictor._output(states[name]).numpy()) for name in caches}
    assert len(caches["skip"]) == 1 and caches["skip"].pairs_in_use == 0
    np.testing.assert_allclose(mixed["skip"].probs, probs, atol=1e-7)  # the model's, not (1-λ) of it
    assert mixed["keep"].probs[ids[-1]] > 0.5 > mixed["skip"].probs[ids[-1]]  # the one pair: "Paris" again
    assert [p.word for p in predictor.top_words(states["skip"], 3, cache=caches["skip"])] == \
        [p.word for p in predictor.top_words(states["skip"], 3)]


@pytest.mark.parametrize("bad", [{"weight": 1.0}, {"weight": -0.1}, {"flatness": -1}, {"window": 0}, {"ramp_pairs": -1}])
def test_settings_out_of_range_are_refused(bad):
    with pytest.raises(ValueError):
        CacheSettings(**bad)


@pytest.mark.parametrize("entropy_scale", [0.0, 2.5])
@pytest.mark.parametrize("skip_latest, ramp_pairs", [(False, 0), (True, 0), (True, 30)])
def test_block_scorer_matches_the_position_by_position_cache(predictor, entropy_scale, skip_latest, ramp_pairs):
    settings = CacheSettings(weight=0.3, flatness=0.6, window=20, copy_unknown=False, entropy_scale=entropy_scale,
                             skip_latest=skip_latest, ramp_pairs=ramp_pairs)
    ids = predictor.encode(TEXT * 2)
    outputs = cache_scoring.passage_outputs(predictor.model, ids, chunk=17)
    cached = cache_scoring.cache_probs(outputs, settings.flatness, settings.window, block=9, skip_latest=skip_latest)
    cache = predictor.new_cache(settings)
    state = predictor.read(ids[:1], None, cache)
    for t in range(1, len(ids)):
        probs = predictor.next_word_probabilities(state).numpy()
        assert outputs.model_probs[t - 1] == pytest.approx(float(probs[ids[t]]), rel=1e-4)
        expected = cache.mixed_target_probability(probs, predictor._output(state).numpy(), ids[t])
        assert outputs.entropy[t - 1] == pytest.approx(float(entropy(probs)), rel=1e-4)
        pairs = cache_scoring.pairs_in_use(len(outputs.targets), settings.window, skip_latest)[t - 1 : t]
        share = cache_share(settings, outputs.entropy[t - 1 : t], pairs)
        got = math.exp(cache_scoring.mixed_log_likelihood(outputs.model_probs[t - 1 : t], cached[t - 1 : t], share))
        assert got == pytest.approx(expected, rel=1e-4)
        state = predictor.read([ids[t]], state, cache)


def test_tuning_finds_a_cache_that_helps_on_repetitive_text_and_saves_it(predictor, tmp_path):
    text = tmp_path / "valid.txt"
    text.write_text("\n".join([TEXT] * 6) + "\n")
    tuned = cache_scoring.tune(predictor.loaded, [text], flatness_grid=(0.1, 0.5), window_grid=(50, 200),
                               weights=(0.0, 0.2, 0.4), entropy_grid=(0.0, 1.0), ramp_grid=(0, 40))
    assert tuned["best_fixed_weight"]["perplexity"] >= tuned["perplexity_with_cache"]
    assert set(tuned["best_by_ramp_pairs"]) == {"0", "40"} and tuned["settings"]["skip_latest"]
    assert tuned["perplexity_with_cache"] == min(row["perplexity"] for row in tuned["best_by_ramp_pairs"].values())
    assert tuned["perplexity_with_cache"] < tuned["perplexity_without_cache"]
    assert tuned["settings"]["weight"] > 0
    settings = CacheSettings.from_json(tuned["settings"])
    path = cache_scoring.save_tuned_version(predictor.loaded, settings, tuned, tmp_path / "models")
    assert load_settings(path) == settings
    assert Predictor(load_version(path)).cache_settings == settings
    assert json.loads((path / "manifest.json").read_text())["cache.json"]  # checksummed with the version
    scored = cache_scoring.score_with_cache(predictor.loaded, text, settings)
    assert scored["perplexity_with_cache"] == pytest.approx(tuned["perplexity_with_cache"], rel=1e-3)


def test_a_cache_file_outside_the_manifest_is_ignored(predictor, tmp_path):
    assert load_settings(predictor.loaded.path) == CacheSettings(weight=0.0)
    (tmp_path / "cache.json").write_text(json.dumps({"weight": 0.5}))
    (tmp_path / "manifest.json").write_text("{}")
    assert not load_settings(tmp_path).enabled


def test_the_grid_gives_each_setting_what_it_gives_alone(predictor):
    outputs = cache_scoring.passage_outputs(predictor.model, predictor.encode(TEXT * 2))
    grid = cache_scoring.cache_probs_grid(outputs, (0.3, 0.6), (5, 20), block=16)
    for (flatness, window), probs in grid.items():
        alone = cache_scoring.cache_probs_grid(outputs, (flatness,), (window,), block=7)[flatness, window]
        # The dot products are float32 products of differently shaped blocks, which BLAS may sum in another
        # order (on this machine's CPU, 2026-12-07, up to 2.6e-7 apart): agreement to float32 rounding.
        np.testing.assert_allclose(probs, alone, rtol=1e-5)
    assert not np.allclose(grid[0.3, 5][6:], grid[0.3, 20][6:], equal_nan=True)  # the window matters


def test_training_with_tune_cache_saves_the_tuned_settings_with_the_version(tiny_corpus, tmp_path):
    from model.training.run import train
    from tests.conftest import tiny_train_config

    path = train(tiny_train_config(tiny_corpus, tmp_path / "models", tune_cache=True, epochs=2))
    loaded = load_version(path)  # cache.json is in the manifest, so checked with the rest
    settings = load_settings(path)
    assert json.loads((path / "cache.json").read_text()) == settings.as_json()
    assert loaded.metrics["cache"]["settings"] == settings.as_json()
    # λ = 0 is on the grid, so the tuned cache is never worse than none on the text it was tuned on (the tiny
    # model already predicts its validation sentences almost surely: there the cache may well be turned off).
    tuned = loaded.metrics["cache"]
    assert tuned["perplexity_with_cache"] <= tuned["perplexity_without_cache"] and tuned["tokens"] > 0
    assert Predictor(loaded).cache_settings == settings


@pytest.fixture(scope="module")
def text_ngram(predictor) -> KneserNeyLM:
    """A trigram that knows TEXT (the cache's tests' text) well: blending it in changes the mixture a lot."""
    return KneserNeyLM(predictor.tokenizer.vocab_size, order=3).fit([predictor.encode(TEXT)] * 3)


@pytest.mark.parametrize("entropy_scale", [0.0, 2.5])
def test_the_ngram_blend_matches_the_formula_position_by_position(predictor, text_ngram, monkeypatch, entropy_scale):
    settings = CacheSettings(weight=0.3, flatness=0.7, window=12, copy_unknown=False, entropy_scale=entropy_scale,
                             skip_latest=True, ngram_weight=0.4)
    monkeypatch.setattr(predictor, "ngram", text_ngram)
    ids = predictor.encode(TEXT)
    expected = reference_mixture(predictor, ids, settings, text_ngram)
    without = reference_mixture(predictor, ids, settings)
    cache = predictor.new_cache(settings)
    state = predictor.read(ids[:1], None, cache)
    for t in range(1, len(ids)):
        state = predictor.read([ids[t]], state, cache)
        mixed = predictor.mixed_distribution(state, cache)
        np.testing.assert_allclose(mixed.probs, expected[t - 1], atol=1e-5)
        top = predictor.top_words(state, 3, cache=cache)  # the service's path (mixture_parts), in float32
        offerable = predictor.offerable.numpy()
        best = np.argsort(-np.where(offerable, expected[t - 1], -1))[:3]
        assert [p.probability for p in top] == pytest.approx(expected[t - 1][best].tolist(), abs=1e-5)
    assert not np.allclose(expected[-1], without[-1], atol=1e-3)  # the n-gram did change the mixture


def test_block_scorer_blends_the_ngram_as_the_predictor_does(predictor, text_ngram):
    settings = CacheSettings(weight=0.3, flatness=0.6, window=20, copy_unknown=False, skip_latest=True, ngram_weight=0.3)
    ids = predictor.encode(TEXT * 2)
    expected = reference_mixture(predictor, ids, settings, text_ngram)
    outputs = cache_scoring.passage_outputs(predictor.model, ids, chunk=17)
    cached = cache_scoring.cache_probs(outputs, settings.flatness, settings.window, block=9, skip_latest=True)
    blended = cache_scoring.with_ngram(outputs.model_probs, cache_scoring.ngram_target_probs(text_ngram, ids), cached,
                                       settings.ngram_weight)
    share = cache_share(settings, outputs.entropy, cache_scoring.pairs_in_use(len(ids) - 1, settings.window, True))
    for j in range(1, len(ids) - 1):  # target j is ids[j + 1], read after ids[0 .. j]: the reference's mixture j - 1
        got = math.exp(cache_scoring.mixed_log_likelihood(blended[j : j + 1], cached[j : j + 1], share[j : j + 1]))
        assert got == pytest.approx(expected[j - 1][ids[j + 1]], rel=1e-4)


def test_tuning_with_an_ngram_chooses_its_weight_and_saves_it_with_the_version(predictor, text_ngram, tmp_path):
    text = tmp_path / "valid.txt"
    text.write_text("\n".join([TEXT] * 3) + "\n")
    tuned = cache_scoring.tune(predictor.loaded, [text], ngram=text_ngram, flatness_grid=(0.5,), window_grid=(200,),
                               weights=(0.0, 0.2), entropy_grid=(0.0,))
    assert set(tuned["best_by_ngram_weight"]) == {str(mu) for mu in cache_scoring.NGRAM_GRID}
    assert tuned["settings"]["ngram_weight"] > 0  # the trigram knows this text by heart
    assert tuned["perplexity_with_cache"] < tuned["best_by_ngram_weight"]["0.0"]["perplexity"]
    settings = CacheSettings.from_json(tuned["settings"])
    path = cache_scoring.save_tuned_version(predictor.loaded, settings, tuned, tmp_path / "models", ngram=text_ngram)
    assert json.loads((path / "manifest.json").read_text())[NGRAM_FILE]  # checksummed with the version
    served = Predictor(load_version(path))
    assert served.cache_settings == settings and served.ngram is not None
    scored = cache_scoring.score_with_cache(load_version(path), text, settings)
    assert scored["perplexity_with_cache"] == pytest.approx(tuned["perplexity_with_cache"], rel=1e-3)
    with pytest.raises(ValueError, match="none was given"):
        cache_scoring.save_tuned_version(predictor.loaded, settings, tuned, tmp_path / "models")


def test_training_with_an_ngram_order_fits_it_and_tunes_its_weight(tiny_corpus, tmp_path):
    from model.training.run import train
    from tests.conftest import tiny_train_config

    path = train(tiny_train_config(tiny_corpus, tmp_path / "models", tune_cache=True, ngram_order=3, epochs=2))
    tuned = load_version(path).metrics["cache"]
    assert set(tuned["best_by_ngram_weight"]) == {str(mu) for mu in cache_scoring.NGRAM_GRID}
    settings = load_settings(path)
    # Saved with the version exactly when the tuning gave it a weight.
    assert (path / NGRAM_FILE).is_file() == (settings.ngram_weight > 0)
    assert (Predictor(load_version(path)).ngram is not None) == (settings.ngram_weight > 0)


def test_a_short_text_gives_a_4gram_every_word_the_cache_holds(predictor, monkeypatch):
    """Two words held and a 4-gram: its context is both of them (a slice from len - 3 once wrapped to one)."""
    ngram = KneserNeyLM(predictor.tokenizer.vocab_size, order=4).fit([predictor.encode(TEXT)] * 3)
    monkeypatch.setattr(predictor, "ngram", ngram)
    settings = CacheSettings(weight=0.3, flatness=0.7, window=12, copy_unknown=False, skip_latest=True, ngram_weight=0.4)
    ids = predictor.encode(TEXT)
    expected = reference_mixture(predictor, ids[:4], settings, ngram)
    cache = predictor.new_cache(settings)
    state = predictor.read(ids[:3], None, cache)  # pairs for ids[1], ids[2]: one in use
    np.testing.assert_allclose(predictor.mixed_distribution(state, cache).probs, expected[1], atol=1e-5)
