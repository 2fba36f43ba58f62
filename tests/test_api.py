"""The API contract: POST /v1/predict, GET /healthz and /readyz, and the error shape."""
import json

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
    assert "french" not in words  # shown as written in the corpus
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
    ({"prompt": "   ...  "}, None),  # punctuation only is readable: a 200 is fine, see below
    ({"prompt": "a\u0000b"}, "invalid_request"),
    ({"prompt": "x" * 20001}, "prompt_too_long"),
    ([1, 2], "invalid_request"),
    ("just a string", "invalid_request"),
    (None, "invalid_request"),
]


@pytest.mark.parametrize("body,code", BAD_BODIES)
def test_bad_bodies_get_a_4xx_json_error(client, body, code):
    response = client.post("/v1/predict", data=json.dumps(body), content_type="application/json")
    if code is None:
        assert response.status_code in (200, 422)
        return
    assert_error(response, 422, code)


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
    assert raw.index('"predictions"') < raw.index('"state"') < raw.index('"model"') and raw.index('"word"') < raw.index('"probability"')
