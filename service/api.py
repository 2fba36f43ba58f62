"""The HTTP routes. Each request goes validate → infer → format; errors go to service/errors.py."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request
from pydantic import ValidationError

from model.predict import EmptyPromptError, Predictor
from service.errors import APIError
from service.schemas import PredictRequest, PredictResponse, WordProbability

bp = Blueprint("api", __name__)


def predictor() -> Predictor:
    p = current_app.extensions["nextword"].predictor
    if p is None:
        raise APIError(503, "model_unavailable", "no model is loaded yet; train one with `make retrain`")
    return p


def parse_json_body() -> object:
    if not request.is_json:
        raise APIError(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json")
    raw = request.get_data(cache=False)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise APIError(400, "invalid_json", "the body is not valid UTF-8") from None
    except RecursionError:
        raise APIError(400, "invalid_json", "the JSON is nested too deeply") from None
    except ValueError as e:
        raise APIError(400, "invalid_json", f"the body is not valid JSON: {e}") from None


def validate_predict(body: object) -> PredictRequest:
    if not isinstance(body, dict):
        raise APIError(422, "invalid_request", "the body must be a JSON object like {\"prompt\": \"...\"}")
    try:
        req = PredictRequest.model_validate(body)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise APIError(422, "invalid_request", f"{where}: {first['msg']}") from None
    limit = current_app.config["NEXTWORD"].max_prompt_chars
    if len(req.prompt) > limit:
        raise APIError(422, "prompt_too_long", f"prompt: at most {limit} characters")
    if "\x00" in req.prompt:
        raise APIError(422, "invalid_request", "prompt: NUL characters are not allowed")
    try:
        req.prompt.encode("utf-8")
    except UnicodeEncodeError:
        raise APIError(422, "invalid_request", "prompt: not valid Unicode (lone surrogate)") from None
    return req


@bp.post("/v1/predict")
def predict():
    req = validate_predict(parse_json_body())
    model = predictor()
    try:
        predictions = model.predict(req.prompt, req.k)
    except EmptyPromptError:
        raise APIError(422, "empty_prompt", "prompt: give at least one word") from None
    body = PredictResponse(
        predictions=[WordProbability(word=p.word, probability=p.probability) for p in predictions],
        model=model.version,
    )
    return jsonify(body.model_dump())


@bp.get("/healthz")
def healthz():
    model = predictor()
    return jsonify({"status": "ok", "model": model.version})
