"""The document cache in POST /v1/predict (service/document_cache.py): typed word by word with state
tokens, on one worker or alternating between two, it gives what the whole text gives, words outside
the vocabulary included; its tokens are refused like any other when altered; its memory is bounded."""
from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from model.cache import CacheSettings
from model.checkpoint import load_latest, load_version, save_version
from model.evaluation.cache_scoring import save_tuned_version, write_cache_files
from model.training.run import train
from service import create_app, document_cache
from service.document_cache import SPELLING_BUDGET, CacheStore, RecentMixtures, within_budget
from service.state_token import Recipe
from tests.conftest import CACHE_SETTINGS as SETTINGS
from tests.conftest import tiny_ngram, tiny_train_config
from tests.test_api import assert_error
from tests.test_api_features import b64, words_of

SECRET = "shared-cache-secret-" * 2
# Zorblax is outside the tiny vocabulary: after it appears, "zor" completes to it from the document.
TEXT = ("I grew up in Zorblax. The clouds are in the sky. The dog is barking at the postman. "
        "We eat breakfast in the kitchen every morning. She poured milk into her tea. I speak fluent French. ")
LONG = (TEXT * 6).strip()  # ~ 400 tokens: past W + SLACK, so the window slides and the snapshot moves


def make_app(models_dir: Path, **config):
    return create_app({"models_dir": models_dir, "reload_interval": 0, "state_secret": SECRET, **config})


def raw_token(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def type_word_by_word(clients, text: str, **last) -> dict:
    """Send the text a word at a time with the previous state token, round robin over `clients`;
    then ask again at the same point with `last` (k, prefix)."""
    words = text.split(" ")
    body = clients[0].post("/v1/predict", json={"prompt": words[0]}).get_json()
    for i, word in enumerate(words[1:], 1):
        response = clients[i % len(clients)].post("/v1/predict", json={"prompt": word, "state": body["state"]})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
    return clients[len(words) % len(clients)].post("/v1/predict", json={"prompt": "", "state": body["state"], **last}).get_json()


def assert_same_predictions(got: dict, expected: dict) -> None:
    got, expected = words_of(got), words_of(expected)
    assert list(got) == list(expected)
    assert max(abs(got[w] - expected[w]) for w in expected) <= 1e-4


@pytest.mark.parametrize("slack", [document_cache.SLACK, 16])
@pytest.mark.parametrize("workers", ["one", "two", "two sharing rows", "two hosts with redis", "no memory"])
def test_word_by_word_matches_the_whole_text(cache_models_dir, monkeypatch, tmp_path, request, slack, workers):
    """One worker (its LRU hits), two alternating (each request rebuilds from the other's token, reads
    the rows the other wrote in the host's shared folder, or, on two hosts, reads them from Redis), or a
    worker that keeps nothing: the same predictions, prefix completion and copied words as the whole text."""
    monkeypatch.setattr(document_cache, "SLACK", slack)
    found = []
    stored_cache = document_cache.stored_cache
    monkeypatch.setattr(document_cache, "stored_cache", lambda *a: found.append(stored_cache(*a)) or found[-1])
    rows = {"shared_cache_dir": str(tmp_path / "rows")}
    if workers == "two hosts with redis":  # a folder of rows each, one Redis
        redis = request.getfixturevalue("redis_server")
        hosts = [{"shared_cache_dir": str(tmp_path / f"host{i}"), "redis_url": redis.url} for i in (1, 2)]
    apps = {"one": lambda: [make_app(cache_models_dir)],
            "two": lambda: [make_app(cache_models_dir), make_app(cache_models_dir)],
            "two sharing rows": lambda: [make_app(cache_models_dir, **rows), make_app(cache_models_dir, **rows)],
            "two hosts with redis": lambda: [make_app(cache_models_dir, **host) for host in hosts],
            "no memory": lambda: [make_app(cache_models_dir, cache_memory_mb=0)]}[workers]()
    clients = [a.test_client() for a in apps]
    whole_client = make_app(cache_models_dir).test_client()
    stores = [a.extensions["nextword_documents"] for a in apps]
    for round, last in enumerate(({"k": 20}, {"k": 5, "prefix": "zor"}, {"k": 5, "prefix": "F"})):
        whole = whole_client.post("/v1/predict", json={"prompt": LONG, **last}).get_json()
        assert_same_predictions(type_word_by_word(clients, LONG, **last), whole)
        if round == 0:  # (later rounds are issued the same tokens again, and may find them)
            continued = len(LONG.split(" "))
            assert sum(s.hits for s in stores) == (continued if workers == "one" else 0)
            assert sum(s.misses for s in stores) == (0 if workers == "one" else continued)
            # Rows written before: every miss read them (no rebuild) but the first (after one word there is no
            # pair yet, so no rows), from the host's folder or from Redis; otherwise there are none to read.
            sources = [source for cache, source in found if cache is not None]
            expected = {"two sharing rows": "shared", "two hosts with redis": "redis"}.get(workers)
            assert sources == ([expected] * (continued - 1) if expected else [])
    zor = whole_client.post("/v1/predict", json={"prompt": LONG, "prefix": "zor"}).get_json()
    assert [p["word"] for p in zor["predictions"]] == ["Zorblax"]


def test_passed_over_words_are_left_out_of_the_cache_mixture_too(cache_models_dir):
    """exclude with the document cache: a copied word (outside the vocabulary) and a vocabulary word alike."""
    client = make_app(cache_models_dir).test_client()
    ranked = [p["word"] for p in client.post("/v1/predict", json={"prompt": LONG, "k": 10}).get_json()["predictions"]]
    body = client.post("/v1/predict", json={"prompt": LONG, "k": 5, "exclude": [ranked[0].lower()]}).get_json()
    assert [p["word"] for p in body["predictions"]] == ranked[1:6]
    zor = client.post("/v1/predict", json={"prompt": LONG, "prefix": "zor", "exclude": ["ZORBLAX"]}).get_json()
    assert zor["predictions"] == []


def test_a_history_of_2000_words_at_the_default_window(tiny_models_dir, tmp_path):
    """W = 2,000 (the default) and a text of over 2,000 words in pieces of 1-6 words, most to one worker and
    some to another (hits and rebuilds mixed): the whole text's answer, copied word included."""
    models_dir = tmp_path / "models"
    shutil.copytree(tiny_models_dir, models_dir)
    save_tuned_version(load_latest(tiny_models_dir), CacheSettings(weight=0.3, flatness=0.5, window=2000), {}, models_dir)
    apps = [make_app(models_dir), make_app(models_dir)]
    clients = [a.test_client() for a in apps]
    words = (TEXT * 60).split()  # 2,160 words
    assert len(words) > 2000
    rng = np.random.default_rng(0)
    body, start, sent = None, 0, 0
    while start < len(words):
        step = int(rng.integers(1, 7))
        payload = {"prompt": " ".join(words[start : start + step])} | ({"state": body["state"]} if body else {})
        body = clients[int(rng.random() < 0.2)].post("/v1/predict", json=payload).get_json()
        start, sent = start + step, sent + 1
    whole = clients[0].post("/v1/predict", json={"prompt": " ".join(words), "k": 20}).get_json()
    typed = clients[0].post("/v1/predict", json={"prompt": "", "state": body["state"], "k": 20}).get_json()
    assert_same_predictions(typed, whole)
    zor = clients[1].post("/v1/predict", json={"prompt": "", "state": body["state"], "prefix": "zor"}).get_json()
    assert [p["word"] for p in zor["predictions"]] == ["Zorblax"]
    stores = [a.extensions["nextword_documents"] for a in apps]
    assert sum(s.hits for s in stores) > sent / 2 and sum(s.misses for s in stores) > sent / 10


@pytest.fixture(scope="module")
def lstm_cache_models_dir(tmp_path_factory, tiny_corpus) -> Path:
    """A two-layer LSTM with cache settings: a state of two parts (h, c) in the snapshot and the token."""
    models_dir = tmp_path_factory.mktemp("lstm-cache-models")
    path = train(tiny_train_config(tiny_corpus, models_dir, cell="lstm", num_layers=2))
    loaded = load_version(path)
    save_tuned_version(loaded, SETTINGS, {}, models_dir, ngram=tiny_ngram(loaded))
    return models_dir


def test_word_by_word_matches_the_whole_text_with_an_lstm(lstm_cache_models_dir, monkeypatch):
    monkeypatch.setattr(document_cache, "SLACK", 16)
    clients = [make_app(lstm_cache_models_dir).test_client() for _ in range(2)]
    for last in ({"k": 20}, {"k": 5, "prefix": "zor"}):
        whole = clients[0].post("/v1/predict", json={"prompt": LONG, **last}).get_json()
        assert_same_predictions(type_word_by_word(clients, LONG, **last), whole)


def test_the_cache_changes_the_answer_and_cache_false_is_the_model_alone(cache_models_dir, tiny_models_dir):
    cached = make_app(cache_models_dir).test_client()
    plain = make_app(tiny_models_dir).test_client()  # the same weights, a version without cache settings
    prompt = TEXT + "I grew up in"
    with_cache = cached.post("/v1/predict", json={"prompt": prompt, "k": 10}).get_json()
    without = cached.post("/v1/predict", json={"prompt": prompt, "k": 10, "cache": False}).get_json()
    today = plain.post("/v1/predict", json={"prompt": prompt, "k": 10}).get_json()
    assert without["predictions"] == today["predictions"]
    assert with_cache["predictions"] != without["predictions"]
    assert raw_token(without["state"])[:4] == raw_token(today["state"])[:4] == b"NWS3"
    assert raw_token(with_cache["state"])[:4] == b"NWS4"
    # Off per request, word by word too, from either kind of token: the model's own continuation.
    for token in (with_cache["state"], without["state"]):
        body = cached.post("/v1/predict", json={"prompt": "Zorblax", "state": token, "cache": False}).get_json()
        expected = plain.post("/v1/predict", json={"prompt": prompt + " Zorblax"}).get_json()
        assert body["predictions"] == expected["predictions"]
    # A version without cache settings: "cache" changes nothing.
    assert plain.post("/v1/predict", json={"prompt": prompt, "k": 10, "cache": True}).get_json() == today


def test_models_shows_the_cache_settings(cache_models_dir, tiny_models_dir):
    info = make_app(cache_models_dir).test_client().get("/v1/models").get_json()
    assert info["cache"] == {"enabled": True, **SETTINGS.as_json()}
    assert make_app(tiny_models_dir).test_client().get("/v1/models").get_json()["cache"]["enabled"] is False


def test_a_token_without_recipe_starts_the_cache_at_its_state(cache_models_dir):
    client = make_app(cache_models_dir).test_client()
    first = client.post("/v1/predict", json={"prompt": TEXT, "cache": False}).get_json()
    body = client.post("/v1/predict", json={"prompt": "I grew up in", "state": first["state"], "k": 10}).get_json()
    assert body["predictions"] and raw_token(body["state"])[:4] == b"NWS4"


def test_one_token_continued_twice_gives_each_text_its_own_answer(cache_models_dir):
    """The LRU entry of a token is shared, never changed: two continuations of it do not mix."""
    app = make_app(cache_models_dir)
    client, whole = app.test_client(), make_app(cache_models_dir).test_client()
    start = client.post("/v1/predict", json={"prompt": TEXT}).get_json()["state"]
    for ending in ("I grew up in Zorblax .", "She poured milk into her", "I grew up in Zorblax ."):
        body = client.post("/v1/predict", json={"prompt": ending, "state": start, "k": 10}).get_json()
        assert_same_predictions(body, whole.post("/v1/predict", json={"prompt": TEXT + ending, "k": 10}).get_json())
    assert app.extensions["nextword_documents"].hits == 3


def test_altered_or_foreign_recipe_tokens_are_refused(cache_models_dir, tiny_models_dir):
    app = make_app(cache_models_dir)
    client = app.test_client()
    token = client.post("/v1/predict", json={"prompt": LONG}).get_json()["state"]
    raw = raw_token(token)
    assert raw[:4] == b"NWS4"
    for position in (10, len(raw) // 2, len(raw) - 40, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[position] ^= 4
        for prompt in ("the", ""):  # "": a letter typed at the token's state, whose mixture this worker keeps
            assert_error(client.post("/v1/predict", json={"prompt": prompt, "state": b64(bytes(flipped)), "prefix": "t"}),
                         422, "invalid_state")
    for cut in (token[:-1], token[:-50], token[: len(token) // 2]):
        assert_error(client.post("/v1/predict", json={"prompt": "the", "state": cut}), 422, "invalid_state")
    other_secret = make_app(cache_models_dir, state_secret="another-secret-" * 2).test_client()
    assert_error(other_secret.post("/v1/predict", json={"prompt": "the", "state": token}), 422, "invalid_state")
    # The same secret, another model version: a 409 both ways, with and without the cache.
    plain = make_app(tiny_models_dir).test_client()
    assert_error(plain.post("/v1/predict", json={"prompt": "the", "state": token}), 409, "state_model_mismatch")
    old = plain.post("/v1/predict", json={"prompt": "the clouds"}).get_json()["state"]
    assert_error(client.post("/v1/predict", json={"prompt": "the", "state": old}), 409, "state_model_mismatch")
    # Generation reads the state of a token with a recipe.
    assert client.post("/v1/generate", json={"prompt": "the", "state": token, "max_words": 2}).status_code == 200


def test_recipes_the_service_would_not_issue_are_refused(cache_models_dir):
    """Signed with the right key, yet longer than the window allows, or with ids outside the vocabulary:
    a 422, never a 5xx or work proportional to them."""
    app = make_app(cache_models_dir)
    client = app.test_client()
    signer, version = app.extensions["nextword_signer"], app.extensions["nextword"].predictor.version
    predictor = app.extensions["nextword"].predictor
    state = predictor.state_to_array(predictor.advance(predictor.encode("the clouds"))).copy()
    limit = SETTINGS.window + document_cache.SLACK
    good = signer.encode(version, state, Recipe(None, [5] * limit, [None] * limit))
    assert client.post("/v1/predict", json={"prompt": "the", "state": good}).status_code == 200
    too_many = signer.encode(version, state, Recipe(None, [5] * (limit + 1), [None] * (limit + 1)))
    out_of_vocabulary = signer.encode(version, state, Recipe(state, [10**6], [None]))
    empty = signer.encode(version, state, Recipe(None, [], []))
    rng = np.random.default_rng(0)
    noise = [str(rng.integers(10**15, 10**16)) * 3 for _ in range(1000)]  # incompressible, many bytes per position
    too_long = signer.encode(version, state, Recipe(None, [0] * 1000, noise))
    assert len(too_long) > document_cache.max_token_chars(predictor)
    for bad in (too_many, out_of_vocabulary, empty, too_long):
        response = client.post("/v1/predict", json={"prompt": "the", "state": bad})
        assert_error(response, 422, "invalid_state")


def test_tokens_stay_bounded_with_many_words_outside_the_vocabulary(cache_models_dir):
    client = make_app(cache_models_dir).test_client()
    rng = np.random.default_rng(1)
    invented = " ".join("Q" + "".join(rng.choice(list("bcdfghjklmnpqrstvwxz"), 12)) for _ in range(1000))
    body = client.post("/v1/predict", json={"prompt": invented}).get_json()
    predictor = load_latest(cache_models_dir)
    assert len(body["state"]) <= 2 * SPELLING_BUDGET + 4 * 4 * predictor.model.config.hidden_size
    assert client.post("/v1/predict", json={"prompt": "Qb", "state": body["state"]}).status_code == 200


def test_the_spelling_budget_keeps_the_newest():
    spellings = [None, "aaaa", None, "bbbb", "aaaa"] * 2
    assert within_budget(spellings) == spellings
    many = [f"{i:08d}" for i in range(2 * SPELLING_BUDGET // 8)]
    kept = within_budget(many)
    assert kept[-1] == many[-1] and kept[0] is None
    assert sum(len(s) for s in kept if s) <= SPELLING_BUDGET


class FakeCache:
    def __init__(self, n: int, rows: object | None = None) -> None:
        self.keys = np.zeros((n, 8), np.float32)
        self.spellings = [None] * n
        self.rows = object() if rows is None else rows

    def storage(self):
        return self.rows, self.keys.nbytes + 8 * len(self.keys)


def test_the_lru_is_bounded_in_bytes_and_in_count():
    store = CacheStore(max_bytes=100_000, max_entries=50)
    for i in range(200):
        store.put(i.to_bytes(4, "big"), FakeCache(100))  # 100 × 8 × 4 + 800 + overhead ≈ 4.5 kB
        assert store.bytes <= 100_000 and len(store) <= 50
    assert len(store) == 100_000 // (3200 + 800 + document_cache.ENTRY_OVERHEAD)
    assert store.get((199).to_bytes(4, "big")) is not None and store.get((0).to_bytes(4, "big")) is None
    store.put(b"huge", FakeCache(10_000))  # larger than the whole budget: not kept
    assert store.get(b"huge") is None and store.bytes <= 100_000
    small = CacheStore(max_bytes=10**9, max_entries=3)
    for i in range(10):
        small.put(bytes([i]), FakeCache(1))
    assert len(small) == 3


def test_rows_shared_by_entries_are_counted_once_while_held():
    store, rows = CacheStore(max_bytes=100_000), object()
    one = 3200 + 800  # a FakeCache(100)'s rows
    for i in range(10):  # one document's successive tokens
        store.put(bytes([i]), FakeCache(100, rows))
    assert store.bytes == one + 10 * document_cache.ENTRY_OVERHEAD
    store.put(b"other", FakeCache(100))
    assert store.bytes == 2 * one + 11 * document_cache.ENTRY_OVERHEAD
    for i in range(10):  # replaced one by one: the rows stay counted until the last entry holding them goes
        store.put(bytes([i]), FakeCache(1))
        assert store.bytes >= one * (2 if i < 9 else 1)
    assert store.bytes == one + 10 * (32 + 8) + 11 * document_cache.ENTRY_OVERHEAD


def test_a_token_rebuilt_on_another_worker_is_kept_there(cache_models_dir):
    """The letters of a word being typed reuse one token: the worker that did not issue it rebuilds once,
    then finds it, with the whole text's answers each time."""
    issuer, other = make_app(cache_models_dir), make_app(cache_models_dir)
    token = issuer.test_client().post("/v1/predict", json={"prompt": LONG}).get_json()["state"]
    whole = make_app(cache_models_dir).test_client()
    client, store = other.test_client(), other.extensions["nextword_documents"]
    for prefix in ("F", "Fr", "Fre"):
        body = client.post("/v1/predict", json={"prompt": "", "state": token, "prefix": prefix}).get_json()
        assert_same_predictions(body, whole.post("/v1/predict", json={"prompt": LONG, "prefix": prefix}).get_json())
    assert (store.misses, store.hits) == (1, 2)


def test_letters_typed_at_one_state_rank_the_kept_mixture_as_the_whole_text_would(cache_models_dir, monkeypatch,
                                                                                  tmp_path):
    """After a word is read, the letters of the next (no new text, the same token, a longer prefix each
    time, words passed over left out) are ranked from the mixture kept for that token, without computing
    it again; each answer is the whole text's, copied word included, and the token comes back unchanged.
    Once another version is served, the same letter gets the 409 of a token from another model."""
    models_dir = tmp_path / "models"
    shutil.copytree(cache_models_dir, models_dir)
    app = make_app(models_dir)
    client, whole = app.test_client(), make_app(cache_models_dir).test_client()
    computed = []
    predictor = app.extensions["nextword"].predictor
    mixture_parts = predictor.mixture_parts
    monkeypatch.setattr(predictor, "mixture_parts", lambda *a: computed.append(1) or mixture_parts(*a))
    body = client.post("/v1/predict", json={"prompt": LONG}).get_json()
    token = client.post("/v1/predict", json={"prompt": "in", "state": body["state"]}).get_json()["state"]
    assert len(computed) == 2
    shown: list[str] = []
    for prefix in ("s", "sp", "F", "Fr", "zor"):  # a word passed over at "s" is not offered at "sp"
        last = {"k": 1, "prefix": prefix, "exclude": shown if prefix.startswith(("sp", "Fr")) else []}
        body = client.post("/v1/predict", json={"prompt": "", "state": token, **last}).get_json()
        assert body["state"] == token and body["predictions"]
        assert_same_predictions(body, whole.post("/v1/predict", json={"prompt": f"{LONG} in", **last}).get_json())
        shown = [p["word"] for p in body["predictions"]]
    assert body["predictions"][0]["word"] == "Zorblax"
    assert len(computed) == 2
    # A new word read at that token is another state: its mixture is computed.
    client.post("/v1/predict", json={"prompt": "France", "state": token})
    assert len(computed) == 3
    loaded = load_latest(models_dir)  # the same weights and settings under a newer version name
    ngram = tiny_ngram(loaded)
    save_version(models_dir, loaded.model, loaded.tokenizer, loaded.config["training"], loaded.metrics,
                 version="29990101-000000-gru", write_extras=lambda directory: write_cache_files(directory, SETTINGS, {}, ngram))
    assert app.extensions["nextword"].check() and app.extensions["nextword"].predictor.cache_settings.enabled
    assert_error(client.post("/v1/predict", json={"prompt": "", "state": token, "prefix": "zor"}), 409, "state_model_mismatch")


def test_an_expired_token_is_refused_for_letters_too_though_its_mixture_is_kept(cache_models_dir):
    """Letters only verify the token's signature (its mixture is kept): that check refuses it once expired."""
    app = make_app(cache_models_dir, state_max_age_s=60)
    clock = [1_800_000_000.0]
    app.extensions["nextword_signer"].clock = lambda: clock[0]
    client = app.test_client()
    token = client.post("/v1/predict", json={"prompt": LONG}).get_json()["state"]
    clock[0] += 60
    assert client.post("/v1/predict", json={"prompt": "", "state": token, "prefix": "zor"}).status_code == 200
    clock[0] += 1
    for body in ({"prompt": "", "prefix": "zor"}, {"prompt": "in"}):
        response = client.post("/v1/predict", json={"state": token, **body})
        assert_error(response, 409, "state_expired")
        assert "expired" in response.get_json()["error"]["message"]


def test_kept_mixtures_are_bounded_in_count():
    kept = RecentMixtures(max_entries=3)
    for i in range(5):
        kept.put(("v", bytes([i])), f"parts {i}")
    assert len(kept) == 3 and kept.get(("v", bytes([0]))) is None and kept.get(("v", bytes([1]))) is None
    assert kept.get(("v", bytes([2]))) == "parts 2"
    kept.put(("v", bytes([5])), "parts 5")  # 2 was used last: 3 goes first
    assert kept.get(("v", bytes([3]))) is None and kept.get(("v", bytes([2]))) == "parts 2"


def test_shared_rows_gone_or_forked_still_give_the_whole_texts_answer(cache_models_dir, tmp_path):
    """Two workers of a host sharing rows: a token continued twice (two different next words: the second
    cannot append in place and moves to new rows), and a token whose rows file was removed (rebuilt
    from its recipe), each answer as the whole text does; the folder stays within its budget."""
    rows_dir = tmp_path / "rows"
    apps = [make_app(cache_models_dir, shared_cache_dir=str(rows_dir)) for _ in range(2)]
    a, b = (app.test_client() for app in apps)
    whole = make_app(cache_models_dir).test_client()
    token = a.post("/v1/predict", json={"prompt": LONG}).get_json()["state"]
    for client, word in ((b, "French"), (a, "dog"), (b, "sky")):  # one token, three continuations
        body = client.post("/v1/predict", json={"prompt": word, "state": token, "k": 20}).get_json()
        assert_same_predictions(body, whole.post("/v1/predict", json={"prompt": f"{LONG} {word}", "k": 20}).get_json())
    assert len(list(rows_dir.iterdir())) >= 2  # the forks moved to rows of their own
    for f in rows_dir.iterdir():
        f.unlink()
    fresh = make_app(cache_models_dir, shared_cache_dir=str(rows_dir)).test_client()  # an empty LRU
    body = fresh.post("/v1/predict", json={"prompt": "zor", "state": token, "prefix": "zor"}).get_json()
    expected = whole.post("/v1/predict", json={"prompt": f"{LONG} zor", "prefix": "zor"}).get_json()
    assert_same_predictions(body, expected)


def test_the_shared_rows_folder_is_bounded_and_private(tmp_path):
    from service.shared_rows import SharedRows, SharedRowsFolder, file_bytes

    one = file_bytes(100, 8)
    folder = SharedRowsFolder(tmp_path / "rows", max_bytes=3 * one)
    assert (tmp_path / "rows").stat().st_mode & 0o777 == 0o700
    made = [folder.new_rows(100, 8) for _ in range(5)]
    assert all(isinstance(r, SharedRows) for r in made)
    assert sum(f.stat().st_size for f in (tmp_path / "rows").iterdir()) <= 3 * one
    other_worker = SharedRowsFolder(tmp_path / "rows", max_bytes=3 * one)
    assert other_worker.open(made[0].name, 8) is None and other_worker.open(made[-1].name, 8) is not None  # oldest out
    assert folder.open(made[0].name, 8) is made[0]  # still mapped here: a worker reads what it holds until it lets go
    assert other_worker.open(made[-1].name, 16) is None  # another model's hidden size
    assert made[-1].claim(0, 10) and not made[-1].claim(0, 1) and made[-1].claim(10, 90) and not made[-1].claim(100, 1)
    assert other_worker.open(made[-1].name, 8).frontier == 100  # seen through another mapping
    assert other_worker.open(made[-1].name, 8) is other_worker.open(made[-1].name, 8)  # mapped once per worker
    too_big = SharedRowsFolder(tmp_path / "small", max_bytes=one - 1).new_rows(100, 8)
    assert not isinstance(too_big, SharedRows) and too_big.claim(0, 100)  # this process's rows instead
    (tmp_path / "open").mkdir(mode=0o755)
    with pytest.raises(PermissionError):
        SharedRowsFolder(tmp_path / "open", max_bytes=one)


def _claim_many(path: str, name: bytes, tries: int, start, queue) -> None:
    """In another process: try to extend one shared file row by row from wherever it ends, counting wins."""
    from service.shared_rows import SharedRowsFolder

    rows = SharedRowsFolder(Path(path), max_bytes=1 << 30).open(name, 8)
    start.wait(timeout=60)  # both processes begin together
    won = 0
    for _ in range(tries):
        end = rows.frontier
        if rows.claim(end, 1):
            rows.words[end] = os.getpid()
            won += 1
    queue.put((os.getpid(), won))


def test_processes_claiming_one_file_never_get_the_same_rows(tmp_path):
    """Two processes race to append to one shared file: each row is claimed by exactly one of them, and
    the frontier is the sum of their wins (the flock makes read-check-advance one step)."""
    import multiprocessing

    from service.shared_rows import SharedRowsFolder

    folder = SharedRowsFolder(tmp_path / "rows", max_bytes=1 << 30)
    rows = folder.new_rows(4000, 8)
    context = multiprocessing.get_context("spawn")
    queue, start = context.Queue(), context.Barrier(2)
    workers = [context.Process(target=_claim_many, args=(str(tmp_path / "rows"), rows.name, 1500, start, queue))
               for _ in range(2)]
    for w in workers:
        w.start()
    wins = dict(queue.get(timeout=120) for _ in workers)  # pid → rows it claimed, in the order they finish
    for w in workers:
        w.join(timeout=60)
    assert rows.frontier == sum(wins.values()) <= 3000 and min(wins.values()) > 0
    owners = rows.words[: rows.frontier].tolist()
    assert sorted(set(owners)) == sorted(w.pid for w in workers)
    assert {pid: owners.count(pid) for pid in wins} == wins  # no row written by both
