"""The API contract: POST /v1/predict, GET /healthz and /readyz, and the error shape."""
import json
import math

import pytest

from service import create_app


def assert_error(response, status, code=None):
    assert response.status_code == status, response.data
    assert response.is_json, response.data
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"] and "Traceback" not in response.get_data(as_text=True)
    if code:
        assert body["error"]["code"] == code


def test_predict_returns_k_words_sorted_by_probability(client):
    response = client.post("/v1/predict", json={"prompt": "The clouds are in the", "k": 4})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["predictions", "state", "model"]
    predictions = body["predictions"]
    assert len(predictions) == 4
    probabilities = [p["probability"] for p in predictions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0 < p <= 1 for p in probabilities)
    for p in predictions:
        assert any(ch.isalnum() for ch in p["word"]) and p["word"] not in ("<unk>", "<eos>", "<pad>")
    assert body["model"] == client.get("/healthz").get_json()["model"]


def test_default_k_is_5_and_words_keep_their_usual_form(client):
    body = client.post("/v1/predict", json={"prompt": "I grew up in France. I speak fluent"}).get_json()
    assert len(body["predictions"]) == 5
    words = [p["word"] for p in body["predictions"]]
    # The tiny model is sure of the next word, and shows it as the corpus writes it, capitalised.
    assert words[0] == "French" and "french" not in words
    assert all(w == w.strip() for w in words)


def test_tiny_model_learned_its_corpus(client):
    """The fixture model sees these sentences 80 times: the next word must be right."""
    top = client.post("/v1/predict", json={"prompt": "the clouds are in the", "k": 1}).get_json()["predictions"][0]
    assert top["word"] == "sky"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


BAD_BODIES = [
    ({"k": 3}, "invalid_request"),
    ({"prompt": 5}, "invalid_request"),
    ({"prompt": None}, "invalid_request"),
    ({"prompt": ["a"]}, "invalid_request"),
    ({"prompt": "the", "k": 0}, "invalid_request"),
    ({"prompt": "the", "k": 51}, "invalid_request"),
    ({"prompt": "the", "k": "3"}, "invalid_request"),
    ({"prompt": "the", "k": 2.5}, "invalid_request"),
    ({"prompt": "the", "k": True}, "invalid_request"),
    ({"prompt": "the", "extra": 1}, "invalid_request"),
    ({"prompt": ""}, "empty_prompt"),
    ({"prompt": "   \n\t "}, "empty_prompt"),  # whitespace only: no token (punctuation is one: see below)
    ({"prompt": "a\u0000b"}, "invalid_request"),
    ({"prompt": "x" * 20001}, "prompt_too_long"),
    ([1, 2], "invalid_request"),
    ("just a string", "invalid_request"),
    (None, "invalid_request"),
]


@pytest.mark.parametrize("body,code", BAD_BODIES)
def test_bad_bodies_get_a_4xx_json_error(client, body, code):
    response = client.post("/v1/predict", data=json.dumps(body), content_type="application/json")
    assert_error(response, 422, code)


@pytest.mark.parametrize("prompt", ["   ...  ", "...", "!?", ","])
def test_a_punctuation_only_prompt_is_read_and_answered(client, prompt):
    """Punctuation marks are tokens of the model (the tokenizer reads them, and the schema asks only
    for one character that is not a space): such a prompt is a 200 like any other, not empty_prompt."""
    response = client.post("/v1/predict", json={"prompt": prompt})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body["predictions"]) == 5 and body["state"]
    assert all(any(ch.isalnum() for ch in p["word"]) for p in body["predictions"])  # words, never punctuation
    if prompt.strip() != prompt:
        assert body == client.post("/v1/predict", json={"prompt": prompt.strip()}).get_json()


@pytest.mark.parametrize(
    "data,content_type,status,code",
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b"", "application/json", 400, "invalid_json"),
        (b'{"prompt": "caf\xe9"}', "application/json", 400, "invalid_json"),  # Latin-1, not UTF-8
        (b'{"prompt": "\\ud800 lone"}', "application/json", 422, "invalid_request"),
        (b"[" * 100000 + b"]" * 100000, "application/json", 413, None),
        (b"[" * 30000 + b"]" * 30000, "application/json", 400, "invalid_json"),
        (b'{"prompt": "the"}', "text/plain", 415, "unsupported_media_type"),
        (b"prompt=the", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_malformed_requests(client, data, content_type, status, code):
    assert_error(client.post("/v1/predict", data=data, content_type=content_type), status, code)


def test_unknown_route_and_wrong_method(client):
    assert_error(client.get("/nope"), 404, "not_found")
    response = client.get("/v1/predict")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_unexpected_failure_is_a_json_500_without_details(app, monkeypatch):
    predictor = app.extensions["nextword"].predictor

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(predictor, "predict", broken)
    response = app.test_client().post("/v1/predict", json={"prompt": "the"})
    assert_error(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)


def test_without_a_model_the_service_says_so(tmp_path):
    client = create_app({"models_dir": tmp_path, "reload_interval": 0}).test_client()
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.get_json() == {"status": "ok", "model": None}
    assert_error(client.get("/readyz"), 503, "model_unavailable")
    assert_error(client.post("/v1/predict", json={"prompt": "the"}), 503, "model_unavailable")
    assert_error(client.post("/v1/predict", json={"prompt": 1}), 422, "invalid_request")


def test_fields_keep_the_documented_order(client):
    raw = client.post("/v1/predict", json={"prompt": "the sky", "k": 1}).get_data(as_text=True)
    assert raw.index('"predictions"') < raw.index('"state"') < raw.index('"model"')
    assert raw.index('"word"') < raw.index('"probability"')


# --- every numeric field at its extremes: a 200 or a 422, never a 5xx ------------------------

# (route, the rest of a valid body, field, kind, lowest, highest, lowest allowed itself, null allowed)
NUMERIC_FIELDS = [
    ("/v1/predict", {"prompt": "the clouds are in the"}, "k", int, 1, 50, True, False),
    ("/v1/predict", {"prompts": ["the clouds are in the", "I speak"]}, "k", int, 1, 50, True, False),
    ("/v1/generate", {"prompt": "the clouds", "max_words": 3}, "max_words", int, 1, 200, True, False),
    ("/v1/generate", {"prompt": "the clouds", "max_words": 3}, "temperature", float, 0, 10, False, False),
    ("/v1/generate", {"prompt": "the clouds", "max_words": 3}, "top_k", int, 1, 100_000, True, True),
    ("/v1/generate", {"prompt": "the clouds", "max_words": 3}, "seed", int, 0, 2**31 - 1, True, True),
]
EXTREMES = [
    5e-324, 2.2250738585072014e-308, 1e-300, 1e-45, 1e-40, 1e-38, 1e-30, 1e-7, 1e-6, 0.5, 0, -0.0, -5e-324, -1,
    -1e308, 1e308, float("inf"), float("-inf"), float("nan"), 1.0, 2.5, 2**31, 2**63, 10**30, -(10**30),
    "1", "0.5", True, False, None, [1], {"v": 1},
]


def expected_status(value, kind, lowest, highest, lowest_allowed, nullable) -> int:
    if value is None:
        return 200 if nullable else 422
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 422  # strict types: no "1" or true for a number
    if kind is int and not isinstance(value, int):
        return 422  # not even 1.0
    if value != value:  # NaN
        return 422
    above = value >= lowest if lowest_allowed else value > lowest
    return 200 if above and value <= highest else 422


def field_cases():
    for route, base, field, kind, lowest, highest, lowest_allowed, nullable in NUMERIC_FIELDS:
        bounds = [lowest, highest, highest + 1]
        if kind is float:
            bounds += [math.nextafter(lowest, math.inf), math.nextafter(highest, math.inf), float(highest)]
        else:
            bounds += [lowest - 1]
        for value in EXTREMES + bounds:
            status = expected_status(value, kind, lowest, highest, lowest_allowed, nullable)
            case = f"{route}-{'prompts-' * ('prompts' in base)}{field}={value!r}"
            yield pytest.param(route, {**base, field: value}, status, id=case)


@pytest.mark.parametrize("route,body,status", list(field_cases()))
def test_numeric_fields_at_their_extremes_get_200_or_422_never_500(client, route, body, status):
    # json.dumps writes inf and NaN as Infinity and NaN, which Python's parser (the service's) reads.
    response = client.post(route, data=json.dumps(body), content_type="application/json")
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_error(response, 422, "invalid_request")


@pytest.mark.parametrize("temperature", [5e-324, 1e-300, 1e-40, 9.99e-7])
def test_a_temperature_near_zero_is_greedy(client, temperature):
    greedy = client.post("/v1/generate", json={"prompt": "the clouds are in the", "max_words": 6, "top_k": 1}).get_json()
    for seed in range(3):
        body = client.post("/v1/generate", json={"prompt": "the clouds are in the", "max_words": 6, "seed": seed,
                                                  "temperature": temperature}).get_json()
        assert body["words"] == greedy["words"] and body["seed"] == seed
    assert greedy["words"][:2] == ["sky", "."]
