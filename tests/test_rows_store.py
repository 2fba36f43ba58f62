"""Document cache rows in Redis (service/rows_store.py), against a real redis-server on loopback."""
from __future__ import annotations

import numpy as np
import pytest

from model import LocalRows
from service import document_cache
from service.rows_store import RedisRowsStore, key_for, row_dtype
from tests.test_api_cache import LONG, assert_same_predictions, make_app, type_word_by_word

HIDDEN = 8


def written_rows(n: int, capacity: int = 64, seed: int = 0) -> LocalRows:
    rows = LocalRows(capacity, HIDDEN)
    assert rows.claim(0, n)
    rng = np.random.default_rng(seed)
    rows.keys[:n] = rng.standard_normal((n, HIDDEN), dtype=np.float32)
    rows.words[:n] = rng.integers(0, 1000, n)
    return rows


def extend(rows: LocalRows, n: int, seed: int = 1) -> None:
    end = rows.frontier
    assert rows.claim(end, n)
    rng = np.random.default_rng(seed)
    rows.keys[end:end + n] = rng.standard_normal((n, HIDDEN), dtype=np.float32)
    rows.words[end:end + n] = rng.integers(0, 1000, n)


def assert_fetched(store: RedisRowsStore, rows: LocalRows, start: int, end: int) -> None:
    keys, words = store.fetch(rows.name, HIDDEN, start, end)
    assert np.array_equal(keys, rows.keys[start:end]) and np.array_equal(words, rows.words[start:end])


def test_rows_round_trip_and_grow_by_appending(redis_server):
    store = RedisRowsStore(redis_server.url, ttl_s=60)
    rows = written_rows(5)
    assert store.publish(rows, 0, 5)
    assert_fetched(store, rows, 0, 5)
    assert_fetched(store, rows, 2, 4)
    extend(rows, 3)
    assert store.publish(rows, 5, 8)  # only the new rows are sent
    assert redis_server.client.strlen(key_for(rows.name, HIDDEN)) == 8 * row_dtype(HIDDEN).itemsize
    assert_fetched(store, rows, 0, 8)
    assert store.publish(rows, 5, 8)  # the same rows again (a retry): already there, nothing appended
    assert redis_server.client.strlen(key_for(rows.name, HIDDEN)) == 8 * row_dtype(HIDDEN).itemsize
    assert store.fetch(rows.name, HIDDEN, 6, 9) is None  # past what was published
    assert store.fetch(rows.name, HIDDEN + 1, 0, 5) is None  # another model's hidden size: another key
    assert store.fetch(bytes(16), HIDDEN, 0, 1) is None  # rows no one published


def test_a_writer_that_guesses_wrong_sends_what_redis_lacks(redis_server):
    """A worker that did not publish the earlier rows (another worker of its host did, or no one) sends its
    own rows first; Redis answers with what it holds, and the worker sends the rest."""
    store = RedisRowsStore(redis_server.url, ttl_s=60)
    rows = written_rows(5)
    assert store.publish(rows, 0, 3)
    extend(rows, 4)
    assert store.publish(rows, 7, 9)  # Redis has 3 rows, not 7: rows 3..9 are sent
    assert_fetched(store, rows, 0, 9)
    other = written_rows(4, seed=5)
    assert store.publish(other, 3, 4)  # nothing in Redis yet: all four go
    assert_fetched(store, other, 0, 4)


def test_a_value_that_is_not_these_rows_is_left_alone(redis_server):
    store = RedisRowsStore(redis_server.url, ttl_s=60)
    rows = written_rows(5)
    redis_server.client.set(key_for(rows.name, HIDDEN), b"x" * 7)  # not whole rows
    assert not store.publish(rows, 0, 5)
    assert redis_server.client.get(key_for(rows.name, HIDDEN)) == b"x" * 7
    assert store.fetch(rows.name, HIDDEN, 0, 1) is None


def test_every_key_expires(redis_server):
    store = RedisRowsStore(redis_server.url, ttl_s=30)
    rows = written_rows(5)
    assert store.publish(rows, 0, 5)
    assert 0 < redis_server.client.ttl(key_for(rows.name, HIDDEN)) <= 30
    with pytest.raises(ValueError):
        RedisRowsStore(redis_server.url, ttl_s=0)


def test_redis_down_costs_no_errors_and_is_left_alone_for_a_while(redis_server):
    store = RedisRowsStore(redis_server.url, ttl_s=60)
    rows = written_rows(5)
    redis_server.stop()
    assert not store.publish(rows, 0, 5)
    assert store.failures == 1
    assert store.fetch(rows.name, HIDDEN, 0, 5) is None  # not even tried: backing off
    assert store.failures == 1


def test_an_outage_is_counted_in_the_metrics(cache_models_dir, tmp_path, redis_server):
    client = make_app(cache_models_dir, redis_url=redis_server.url).test_client()

    def errors() -> float:
        lines = client.get("/metrics").get_data(as_text=True).splitlines()
        return sum(float(line.split()[-1]) for line in lines if line.startswith("nextword_rows_store_errors_total "))
    before = errors()
    assert client.post("/v1/predict", json={"prompt": LONG}).status_code == 200
    assert errors() == before
    redis_server.stop()
    assert client.post("/v1/predict", json={"prompt": LONG}).status_code == 200
    assert errors() == before + 1


def two_hosts(models_dir, tmp_path, redis_url):
    return [make_app(models_dir, shared_cache_dir=str(tmp_path / f"host{i}"), redis_url=redis_url).test_client()
            for i in (1, 2)]


def sources(monkeypatch) -> list[str]:
    found: list[str] = []
    stored_cache = document_cache.stored_cache

    def spy(*args):
        cache, source = stored_cache(*args)
        found.append(source if cache is not None else "rebuilt")
        return cache, source
    monkeypatch.setattr(document_cache, "stored_cache", spy)
    return found


@pytest.mark.parametrize("row", ["last", "first"])
def test_rows_changed_in_redis_are_not_used(cache_models_dir, tmp_path, monkeypatch, redis_server, row):
    """Rows that are not the token's text (a value overwritten, another host's words) are rebuilt instead,
    with the same answer: a word changed in the token's window, or before it (the first row of the storage,
    which only the digest chain covers)."""
    found = sources(monkeypatch)
    first, second = two_hosts(cache_models_dir, tmp_path, redis_server.url)
    words = LONG.split(" ")
    body = first.post("/v1/predict", json={"prompt": " ".join(words[:-4])}).get_json()
    body = first.post("/v1/predict", json={"prompt": " ".join(words[-4:-1]), "state": body["state"]}).get_json()
    (key,) = redis_server.client.keys("nextword:rows:*")
    size = row_dtype(int(key.decode().rsplit(":", 1)[1])).itemsize
    value = bytearray(redis_server.client.get(key))
    at = len(value) - size if row == "last" else 0
    if row == "first":
        assert len(value) // size > 50  # the window (W = 50) starts after row 0
    value[at + size - 16:at + size - 8] = (999_999).to_bytes(8, "little")  # that row's word
    redis_server.client.set(key, bytes(value))
    typed = second.post("/v1/predict", json={"prompt": words[-1], "state": body["state"], "k": 20}).get_json()
    whole = make_app(cache_models_dir).test_client().post("/v1/predict", json={"prompt": LONG, "k": 20}).get_json()
    assert found == ["rebuilt"]
    assert_same_predictions(typed, whole)


def test_without_redis_the_hosts_rebuild_with_the_same_answers(cache_models_dir, tmp_path, monkeypatch, redis_server):
    found = sources(monkeypatch)
    clients = two_hosts(cache_models_dir, tmp_path, redis_server.url)
    redis_server.stop()
    whole = make_app(cache_models_dir).test_client().post("/v1/predict", json={"prompt": LONG, "k": 20}).get_json()
    assert_same_predictions(type_word_by_word(clients, LONG, k=20), whole)
    assert found and set(found) == {"rebuilt"}


def test_a_long_text_keeps_bounded_keys_in_redis(tiny_models_dir, tmp_path, redis_server):
    """2,160 words typed across two hosts, 7 at a time, alternating: each host copies the other's rows under
    the same name and extends them, so Redis holds one key per storage (a new one every half window
    or so), not one per switch; every key expires, and none holds more than two windows of rows."""
    from model.cache import CacheSettings
    from model.checkpoint import load_latest
    from model.evaluation.cache_scoring import save_tuned_version
    from tests.test_api_cache import TEXT

    models_dir = tmp_path / "models"
    window = 300
    save_tuned_version(load_latest(tiny_models_dir), CacheSettings(weight=0.3, flatness=0.5, window=window), {}, models_dir)
    clients = two_hosts(models_dir, tmp_path, redis_server.url)
    words = (TEXT * 60).split()
    body = clients[0].post("/v1/predict", json={"prompt": " ".join(words[:50])}).get_json()
    for i, start in enumerate(range(50, len(words), 7)):
        body = clients[i % 2].post("/v1/predict", json={"prompt": " ".join(words[start:start + 7]),
                                                          "state": body["state"]}).get_json()
    keys = redis_server.client.keys("nextword:rows:*")
    hidden = load_latest(models_dir).model.config.hidden_size
    switches = len(range(50, len(words), 7))
    assert 2 < len(keys) <= switches // 10  # (one per switch, as when each host made rows of its own: 302)
    for key in keys:
        assert 0 < redis_server.client.ttl(key) <= 3600
        assert redis_server.client.strlen(key) <= 2 * window * row_dtype(hidden).itemsize


def test_a_token_from_before_digests_reads_as_one_without_rows(monkeypatch):
    """Tokens issued before the rows carried a digest (16sII) still decode: their rows are rebuilt."""
    import struct

    from service import state_token
    from service.state_token import Recipe, RowsAt

    recipe = Recipe(None, [5, 6, 7], [None, None, None], RowsAt(bytes(range(16)), 0, 2, 123))
    current = state_token._unpack_recipe(state_token._pack_recipe(recipe, (1, 1, 1, 4)), (1, 1, 1, 4))
    assert current.rows == recipe.rows and current.ids == recipe.ids
    old = struct.Struct("<16sII")
    monkeypatch.setattr(state_token, "ROWS", type("Old", (), {"pack": lambda self, name, s, e, d: old.pack(name, s, e)})())
    packed = state_token._pack_recipe(recipe, (1, 1, 1, 4))
    monkeypatch.undo()
    before = state_token._unpack_recipe(packed, (1, 1, 1, 4))
    assert before.rows is None and before.ids == recipe.ids
