"""The API beyond one prompt: state tokens, prefix completion, batches, generation, model info,
readiness, metrics, admin reload and hot model swap."""
from __future__ import annotations

import base64
import logging
import shutil
import time
from pathlib import Path

import pytest
import torch

from model.checkpoint import load_version, save_version
from model.predict import Predictor
from model.training.run import train
from service import create_app
from service.config import ServiceConfig
from tests.conftest import tiny_train_config
from tests.test_api import assert_error

FRANCE = "I grew up in France. I speak fluent"


def words_of(body: dict) -> dict[str, float]:
    return {p["word"]: p["probability"] for p in body["predictions"]}


def new_version(models_dir: Path, source: Path, name: str, nudge: float = 0.0) -> Path:
    """Publish a copy of `source` as version `name` (weights nudged so its answers differ)."""
    loaded = load_version(source)
    with torch.no_grad():
        for p in loaded.model.parameters():
            p.add_(nudge)
    return save_version(models_dir, loaded.model, loaded.tokenizer, loaded.config["training"], loaded.metrics, version=name)


@pytest.fixture(scope="module")
def lstm_models_dir(tmp_path_factory, tiny_corpus) -> Path:
    """A two-layer LSTM: its state has two parts (h, c) and two layers to carry in a token."""
    models_dir = tmp_path_factory.mktemp("lstm-models")
    assert train(tiny_train_config(tiny_corpus, models_dir, cell="lstm", num_layers=2)) is not None
    return models_dir


@pytest.fixture()
def own_models_dir(tmp_path, tiny_models_dir) -> Path:
    """A private copy of the tiny model folder, for tests that publish versions into it."""
    shutil.copytree(tiny_models_dir, tmp_path / "models")
    return tmp_path / "models"


# --- incremental state --------------------------------------------------------------------

@pytest.mark.parametrize("models", ["tiny_models_dir", "lstm_models_dir"])
def test_word_by_word_with_state_tokens_matches_the_whole_text(request, models):
    client = create_app({"models_dir": request.getfixturevalue(models), "reload_interval": 0}).test_client()
    text = "The dog is barking at the postman, and the cat is sleeping. I grew up in France. I speak fluent"
    whole = client.post("/v1/predict", json={"prompt": text, "k": 20}).get_json()
    pieces = text.split(" ")
    body = client.post("/v1/predict", json={"prompt": pieces[0], "k": 20}).get_json()
    for word in pieces[1:]:
        body = client.post("/v1/predict", json={"prompt": word, "state": body["state"], "k": 20}).get_json()
    expected, got = words_of(whole), words_of(body)
    assert list(got) == list(expected)
    assert max(abs(got[w] - expected[w]) for w in expected) <= 1e-4
    # An empty prompt with a state asks again at the same point.
    again = client.post("/v1/predict", json={"prompt": "", "state": body["state"], "k": 20}).get_json()
    assert words_of(again) == got


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("route", ["/v1/predict", "/v1/generate"])
def test_any_state_the_service_did_not_issue_is_422_invalid_state(client, tiny_models_dir, route):
    """The README's promise: a token this service did not issue, or altered, is a 422 invalid_state,
    whatever is wrong with it: its characters, its padding, its length, its signature or its type."""
    token = client.post("/v1/predict", json={"prompt": "the clouds"}).get_json()["state"]
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-40] ^= 1  # one bit of the state values
    flipped = b64(bytes(raw))
    other = create_app({"models_dir": tiny_models_dir, "reload_interval": 0, "state_secret": "x" * 32}).test_client()
    foreign = other.post("/v1/predict", json={"prompt": "the clouds"}).get_json()["state"]  # another secret
    bad_tokens = {
        "not base64": "not/base64!", "spaces": "abc def", "non-ASCII": "état", "standard alphabet": token[:-4] + "+/+/",
        "padded": token + "=" * (-len(token) % 4 or 2), "bad padding": "abc=", "only padding": "====",
        "empty": "", "blank": " ", "one char": "A", "length 1 mod 4": "AAAAA", "four chars": "AAAA",
        "base64 of garbage": b64(bytes(range(256)) * 2), "base64 of 32 zeros": b64(bytes(32)),
        "tampered": flipped, "truncated": token[:-10], "its start": token[:20], "extended": token + "AAAA",
        "another secret": foreign, "a number": 5, "a list": [token], "an object": {"state": token}, "true": True,
    }
    for name, bad in bad_tokens.items():
        response = client.post(route, json={"prompt": "are", "state": bad})
        assert_error(response, 422, "invalid_state")
        assert response.get_json()["error"]["message"].startswith("state: "), (name, response.get_json())
    # The genuine token still works, on both routes.
    assert client.post(route, json={"prompt": "are", "state": token}).status_code == 200


def test_a_state_from_another_model_version_is_a_409(own_models_dir):
    app = create_app({"models_dir": own_models_dir, "reload_interval": 0, "state_secret": "s" * 32})
    client = app.test_client()
    old = client.post("/v1/predict", json={"prompt": "the clouds"}).get_json()
    new_version(own_models_dir, own_models_dir / old["model"], "29990101-000000-gru")
    assert app.extensions["nextword"].check()
    assert_error(client.post("/v1/predict", json={"prompt": "are", "state": old["state"]}), 409, "state_model_mismatch")


@pytest.mark.parametrize("route", ["/v1/predict", "/v1/generate"])
def test_a_state_older_than_the_max_age_is_a_409_state_expired(tiny_models_dir, route):
    app = create_app({"models_dir": tiny_models_dir, "reload_interval": 0, "state_max_age_s": 60})
    clock = [1_800_000_000.0]
    app.extensions["nextword_signer"].clock = lambda: clock[0]
    client = app.test_client()
    token = client.post("/v1/predict", json={"prompt": "the clouds"}).get_json()["state"]
    clock[0] += 60
    assert client.post(route, json={"prompt": "are", "state": token}).status_code == 200
    clock[0] += 1
    response = client.post(route, json={"prompt": "are", "state": token})
    assert_error(response, 409, "state_expired")
    assert "send the whole text" in response.get_json()["error"]["message"]
    # The whole text, sent once without a state, answers and carries a fresh token.
    fresh = client.post("/v1/predict", json={"prompt": "the clouds are"}).get_json()["state"]
    assert client.post(route, json={"prompt": "in", "state": fresh}).status_code == 200


def test_state_tokens_expire_after_a_day_unless_configured(tiny_models_dir):
    assert create_app({"models_dir": tiny_models_dir, "reload_interval": 0}).extensions["nextword_signer"].max_age_s == 86_400
    configured = ServiceConfig.from_env({"NEXTWORD_STATE_MAX_AGE_S": "0", "NEXTWORD_MODELS_DIR": str(tiny_models_dir)})
    assert configured.state_max_age_s == 0
    with pytest.raises(ValueError, match="NEXTWORD_STATE_MAX_AGE_S"):
        ServiceConfig.from_env({"NEXTWORD_STATE_MAX_AGE_S": "-5"})


def test_workers_sharing_a_secret_accept_each_others_tokens(tiny_models_dir):
    apps = [create_app({"models_dir": tiny_models_dir, "reload_interval": 0, "state_secret": "shared-" * 4})
            for _ in range(2)]
    token = apps[0].test_client().post("/v1/predict", json={"prompt": "the clouds are"}).get_json()["state"]
    body = apps[1].test_client().post("/v1/predict", json={"prompt": "in the", "state": token, "k": 1}).get_json()
    assert body["predictions"][0]["word"] == "sky"


# --- prefix completion --------------------------------------------------------------------

def test_prefix_completes_the_word_being_typed(client):
    body = client.post("/v1/predict", json={"prompt": FRANCE, "prefix": "Fr", "k": 50}).get_json()
    assert body["predictions"][0]["word"] == "French"
    assert all(p["word"].lower().startswith("fr") for p in body["predictions"])
    assert sum(p["probability"] for p in body["predictions"]) == pytest.approx(1.0, abs=1e-4)
    lower = client.post("/v1/predict", json={"prompt": FRANCE, "prefix": "fr", "k": 50}).get_json()
    assert lower["predictions"] == body["predictions"]
    none = client.post("/v1/predict", json={"prompt": FRANCE, "prefix": "Zzq"}).get_json()
    assert none["predictions"] == [] and none["state"]


def test_prefix_renormalises_the_plain_probabilities(client):
    plain = words_of(client.post("/v1/predict", json={"prompt": "We eat breakfast in the", "k": 50}).get_json())
    s = words_of(client.post("/v1/predict", json={"prompt": "We eat breakfast in the", "prefix": "s", "k": 50}).get_json())
    matching = {w for w in plain if w.lower().startswith("s")}
    # k=50 covers the tiny vocabulary: every word starting with s is in both answers, and only those.
    assert len(matching) >= 3 and set(s) == matching, (sorted(matching), sorted(s))
    assert sum(s.values()) == pytest.approx(1.0, abs=1e-4)
    total = sum(plain[w] for w in matching)
    for word, p in s.items():
        assert word.lower().startswith("s")
        assert p == pytest.approx(plain[word] / total, abs=1e-4)


@pytest.mark.parametrize("prefix", ["two words", "x" * 51, 5, "a\u0000"])
def test_bad_prefixes_are_422(client, prefix):
    assert_error(client.post("/v1/predict", json={"prompt": "the", "prefix": prefix}), 422, "invalid_request")


@pytest.mark.parametrize("prefix", [None, "f"])
def test_words_passed_over_are_left_out_and_the_next_ones_move_up(client, prefix):
    """exclude: the words a typist was shown for this word and did not take, any case; the answer is the
    ranking without them (same probabilities), still k long."""
    ask = {"prompt": FRANCE, "k": 8} | ({"prefix": prefix} if prefix else {})
    ranked = [p["word"] for p in client.post("/v1/predict", json=ask).get_json()["predictions"]]
    assert len(ranked) >= 3  # (8 without a prefix; the tiny vocabulary has 3 words starting with f)
    passed_over = [ranked[0].upper(), ranked[2]]
    body = client.post("/v1/predict", json={**ask, "k": 3, "exclude": passed_over}).get_json()
    assert [p["word"] for p in body["predictions"]] == [ranked[1], *ranked[3:5]]
    full = words_of(client.post("/v1/predict", json=ask).get_json())
    assert all(p["probability"] == full[p["word"]] for p in body["predictions"])
    assert client.post("/v1/predict", json={**ask, "exclude": ["Zzq"]}).get_json()["predictions"] == \
        client.post("/v1/predict", json=ask).get_json()["predictions"]


@pytest.mark.parametrize("exclude", [["two words"], [""], ["x" * 51], ["ok"] * 51, "the", [5], ["a\u0000"]])
def test_bad_exclude_lists_are_422(client, exclude):
    assert_error(client.post("/v1/predict", json={"prompt": "the", "exclude": exclude}), 422, "invalid_request")


# --- batches ------------------------------------------------------------------------------

def test_a_batch_answers_each_prompt_in_order(client):
    prompts = ["the clouds are in the", FRANCE, "She poured milk into her"]
    body = client.post("/v1/predict", json={"prompts": prompts, "k": 3}).get_json()
    assert list(body) == ["results", "model"] and len(body["results"]) == 3
    for prompt, result in zip(prompts, body["results"]):
        single = client.post("/v1/predict", json={"prompt": prompt, "k": 3}).get_json()
        assert result["predictions"] == single["predictions"]
        follow = client.post("/v1/predict", json={"prompt": "", "state": result["state"], "k": 3}).get_json()
        assert follow["predictions"] == single["predictions"]


@pytest.mark.parametrize("body,code", [
    ({"prompts": []}, "invalid_request"),
    ({"prompts": ["the"] * 65}, "invalid_request"),
    ({"prompts": ["the", 3]}, "invalid_request"),
    ({"prompts": "the"}, "invalid_request"),
    ({"prompts": ["the"], "prompt": "the"}, "invalid_request"),
    ({"prompts": ["the"], "state": "abc"}, "invalid_request"),
    ({"prompts": ["the", "  "]}, "empty_prompt"),
])
def test_bad_batches_are_422(client, body, code):
    assert_error(client.post("/v1/predict", json=body), 422, code)


# --- generation ---------------------------------------------------------------------------

def test_generation_is_reproducible_by_seed_and_bounded(client):
    ask = {"prompt": "The clouds are in the", "max_words": 12, "seed": 7, "temperature": 1.5}
    first, second = (client.post("/v1/generate", json=ask).get_json() for _ in range(2))
    assert first == second and first["seed"] == 7
    assert len(first["words"]) == 12
    assert first["text"].replace(" ", "") == "".join(first["words"]).replace(" ", "")
    others = {client.post("/v1/generate", json={**ask, "seed": s}).get_json()["text"] for s in range(8)}
    assert len(others) > 1  # the seed matters at this temperature
    unseeded = client.post("/v1/generate", json={"prompt": "the", "max_words": 3}).get_json()
    assert isinstance(unseeded["seed"], int)


def test_greedy_generation_follows_the_most_likely_word(client, tiny_models_dir):
    body = client.post("/v1/generate", json={"prompt": "the clouds are in the", "max_words": 2, "top_k": 1}).get_json()
    assert body["words"] == ["sky", "."]
    assert body["text"] == "sky."


@pytest.mark.parametrize("body", [
    {"prompt": "the", "max_words": 201}, {"prompt": "the", "max_words": 0}, {"prompt": "the", "temperature": 0},
    {"prompt": "the", "temperature": -1}, {"prompt": "the", "top_k": 0}, {"prompt": "the", "seed": -1},
    {"prompt": "the", "seed": 2**31}, {"prompt": "the", "max_words": "5"}, {"max_words": 5},
])
def test_bad_generate_requests_are_422(client, body):
    assert_error(client.post("/v1/generate", json=body), 422, "invalid_request")


# --- model info, readiness, metrics -------------------------------------------------------

def test_models_describes_the_served_version(client):
    body = client.get("/v1/models").get_json()
    assert body["model"] in body["available"]
    assert body["config"]["cell"] == "gru" and body["config"]["vocab_size"] > 0
    assert body["metrics"]["test_perplexity"] > 1 and "train_curve" not in body["metrics"]
    assert body["training"]["bptt"] == 8
    assert client.get("/readyz").get_json() == {"status": "ok", "model": body["model"]}


def strings_in(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)
    elif isinstance(value, str):
        yield value


def test_models_shows_the_training_settings_without_local_paths(client, tiny_models_dir, tiny_corpus):
    response = client.get("/v1/models")
    body, text = response.get_json(), response.get_data(as_text=True)
    training = body["training"]
    for key in ("corpus_dir", "models_dir"):
        assert key not in training, key
    assert not [k for k in training if k.endswith(("_dir", "_path", "_file"))]
    # The settings that are not paths are all still there.
    assert training["bptt"] == 8 and training["hidden_size"] == 24 and training["cell"] == "gru"
    # No string anywhere in the answer reads as a path of this machine.
    for place in (tiny_models_dir, tiny_corpus, tiny_models_dir.parent.parent):
        assert str(place) not in text and str(place).replace("/", "\\/") not in text
    paths = [s for s in strings_in(body) if s.startswith(("/", "~", "./", "../")) or "/tmp" in s
             or (("/" in s or "\\" in s) and " " not in s)]
    assert paths == []


def test_metrics_count_requests_latency_tokens_and_the_model(client):
    client.post("/v1/predict", json={"prompt": "the clouds are in the"})
    client.post("/v1/predict", json={"prompt": 5})
    text = client.get("/metrics").get_data(as_text=True)
    version = client.get("/readyz").get_json()["model"]
    assert 'nextword_requests_total{method="POST",route="/v1/predict",status="200"}' in text
    assert 'nextword_requests_total{method="POST",route="/v1/predict",status="422"}' in text
    assert 'nextword_request_duration_seconds_bucket{le="0.005",route="/v1/predict",status="200"}' in text
    assert f'nextword_model_info{{version="{version}"}} 1.0' in text
    assert 'nextword_tokens_processed_total{route="/v1/predict"}' in text


def test_invented_http_methods_share_one_metric_label(client):
    for method in ("XYZZY", "FROB", "QWERTY"):
        assert client.open("/v1/predict", method=method).status_code == 405
    text = client.get("/metrics").get_data(as_text=True)
    assert 'nextword_requests_total{method="other",route="unmatched",status="405"}' in text
    assert "XYZZY" not in text and "FROB" not in text


# --- admin reload and hot swap ------------------------------------------------------------

def test_admin_reload_needs_the_token(own_models_dir):
    off = create_app({"models_dir": own_models_dir, "reload_interval": 0}).test_client()
    assert_error(off.post("/v1/admin/reload"), 404, "admin_disabled")
    token = "open-sesame-0123456789"  # at least 16 bytes: a shorter one is refused at start (test_security.py)
    client = create_app({"models_dir": own_models_dir, "reload_interval": 0, "admin_token": token}).test_client()
    assert_error(client.post("/v1/admin/reload"), 401, "unauthorized")
    assert_error(client.post("/v1/admin/reload", headers={"Authorization": f"Basic {token}"}), 401, "unauthorized")
    assert_error(client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {token[:-1]}"}), 403, "forbidden")
    auth = {"Authorization": f"Bearer {token}"}
    before = client.post("/v1/admin/reload", headers=auth).get_json()
    assert before["changed"] is False
    new_version(own_models_dir, own_models_dir / before["model"], "29990101-000000-gru", nudge=0.01)
    after = client.post("/v1/admin/reload", headers=auth).get_json()
    assert after == {"model": "29990101-000000-gru", "changed": True, "previous": before["model"]}
    assert client.post("/v1/predict", json={"prompt": "the"}).get_json()["model"] == "29990101-000000-gru"


def test_the_service_moves_to_a_new_version_by_itself(own_models_dir):
    client = create_app({"models_dir": own_models_dir, "reload_interval": 0.05}).test_client()
    old = client.get("/readyz").get_json()["model"]
    new_version(own_models_dir, own_models_dir / old, "29990101-000000-gru")
    deadline = time.monotonic() + 10
    while client.get("/readyz").get_json()["model"] != "29990101-000000-gru":
        assert time.monotonic() < deadline, "the new version was not picked up"
        time.sleep(0.05)


@pytest.mark.parametrize("damage", ["corrupt", "truncate", "renamed"])
def test_a_broken_new_version_is_refused_and_the_old_one_serves(own_models_dir, caplog, damage):
    app = create_app({"models_dir": own_models_dir, "reload_interval": 0})
    holder = app.extensions["nextword"]
    old = holder.predictor.version
    bad = new_version(own_models_dir, own_models_dir / old, "29990101-000000-gru")
    weights = bad / "model.safetensors"
    if damage == "corrupt":
        data = bytearray(weights.read_bytes())
        data[-5] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:100])
    else:
        bad.rename(own_models_dir / "29990202-000000-gru")
    with caplog.at_level(logging.ERROR, logger="service"):
        assert holder.check() is False
        assert holder.check() is False
    refusals = [r for r in caplog.records if "refusing model version" in r.getMessage()]
    assert len(refusals) == 1, "logged once, not on every check"
    assert app.test_client().post("/v1/predict", json={"prompt": "the"}).get_json()["model"] == old


@pytest.mark.parametrize("extras", [
    {"cache.json": b'{"weight": 0.2, "ngram_weight": 0.3}', "ngram.safetensors": b"\x10" + b"\x00" * 7 + b"not json"},
    {"cache.json": b'{"weight": 0.2, "ngram_weight": 1.5}'},
], ids=["junk n-gram file", "settings out of range"])
def test_a_new_version_whose_cache_files_do_not_load_is_refused(own_models_dir, extras):
    """Files the manifest checksums but the Predictor cannot use (written so, not damaged since): refused too."""
    app = create_app({"models_dir": own_models_dir, "reload_interval": 0})
    holder = app.extensions["nextword"]
    old = holder.predictor.version
    loaded = load_version(own_models_dir / old)

    def write(directory: Path) -> None:
        for name, data in extras.items():
            (directory / name).write_bytes(data)
    save_version(own_models_dir, loaded.model, loaded.tokenizer, loaded.config["training"], loaded.metrics,
                 version="29990101-000000-gru", write_extras=write)
    assert holder.check() is False
    assert "29990101-000000-gru" in holder.refused
    assert app.test_client().post("/v1/predict", json={"prompt": "the"}).get_json()["model"] == old


def test_predictor_state_round_trip_keeps_every_part(lstm_models_dir):
    from model.checkpoint import load_latest

    predictor = Predictor(load_latest(lstm_models_dir))
    state = predictor.predict("the clouds are").state
    packed = predictor.state_to_array(state)
    assert packed.shape == predictor.state_shape() == (2, 2, 1, 24)
    h, c = predictor.array_to_state(packed)
    assert torch.equal(h, state[0]) and torch.equal(c, state[1])
    with pytest.raises(ValueError):
        predictor.array_to_state(packed[:1])


def test_the_service_can_serve_int8_weights(tiny_models_dir):
    client = create_app({"models_dir": tiny_models_dir, "reload_interval": 0, "quantize": 1}).test_client()
    body = client.post("/v1/predict", json={"prompt": "the clouds are in the", "k": 1}).get_json()
    assert body["predictions"][0]["word"] == "sky"
    holder = client.application.extensions["nextword"]
    assert ".quantized." in type(holder.predictor.model.rnn).__module__


@pytest.mark.parametrize("path", ["numpy", "torch"])
def test_the_adaptive_top_k_computes_only_the_tails_it_needs_and_gives_exactly_the_full_answer(tmp_path, path):
    """With an adaptive softmax, the top k come from the head plus only the tail clusters likely
    enough to hold one; the answer must be the one the full distribution gives, whichever were computed.
    Both paths: numpy (float models) and torch (what an int8 model keeps)."""
    from model.checkpoint import load_version as load
    from model.rnn_lm import ModelConfig, RNNLanguageModel
    from model.tokenizer import train_tokenizer

    words = [f"w{i}" for i in range(60)]
    tok = train_tokenizer([" ".join(words[: n + 1]) for n in range(60)], vocab_size=100, min_frequency=1)
    torch.manual_seed(0)
    model = RNNLanguageModel(ModelConfig(vocab_size=tok.vocab_size, cell="gru", embedding_size=16, hidden_size=16,
                                         adaptive_cutoffs=(20, 40)))
    predictor = Predictor(load(save_version(tmp_path, model, tok, {}, {})))
    tails_computed = []
    owner, method = (predictor._numpy_top, "tail_logits") if path == "numpy" else (predictor.model, "tail_log_probs")
    if path == "torch":
        predictor._numpy_top = None
    compute_tail = getattr(owner, method)

    def counting(*args):
        tails_computed[-1] += 1
        return compute_tail(*args)

    setattr(owner, method, counting)
    clusters = predictor.model.output.head.weight[-2:].detach().clone()  # the two tail clusters' rows
    for i in range(60):
        with torch.no_grad():  # clusters' logits flat, large, or one of each: every path gets taken
            predictor.model.output.head.weight[-2:] = clusters * torch.tensor([[(i % 3) * 20.0], [(i % 2) * 40.0]])
        state = predictor.predict(" ".join(words[i % 50 : i % 50 + 5])).state
        for k in (1, 5, 30):
            full = predictor.top_k(predictor.next_word_probabilities(state), k)
            tails_computed.append(0)
            quick = predictor.top_words(state, k)
            assert [p.word for p in quick] == [p.word for p in full]
            # The same words; probabilities to float32 rounding (one path is numpy, the other torch),
            # which may move the sixth decimal by one.
            assert all(abs(a.probability - b.probability) <= 1.5e-6 for a, b in zip(quick, full))
    assert {0, 1, 2} <= set(tails_computed), sorted(set(tails_computed))

def test_prefix_ignores_case_with_a_case_keeping_vocabulary(tmp_path):
    from model.checkpoint import load_version as load
    from model.rnn_lm import ModelConfig, RNNLanguageModel
    from model.tokenizer import train_tokenizer

    tok = train_tokenizer(["I speak French in France", "french fries and bread"], vocab_size=50, min_frequency=1, as_is=True)
    model = RNNLanguageModel(ModelConfig(vocab_size=tok.vocab_size, cell="gru", embedding_size=8, hidden_size=8))
    predictor = Predictor(load(save_version(tmp_path, model, tok, {}, {})))
    words = {p.word for p in predictor.predict("I speak", k=10, prefix="fr").predictions}
    assert words == {"French", "France", "french", "fries"}
