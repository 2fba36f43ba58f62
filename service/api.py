"""The HTTP routes. Each request goes parse → validate (pydantic) → infer → format.

Errors raised here are APIError and become the contract's JSON shape in service/errors.py.
A request reads the served predictor once, at its start, so a hot swap in between cannot mix
two model versions in one response.
"""
from __future__ import annotations

import hmac
import json
import re

from flask import Blueprint, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from model import EmptyPromptError, Predictor, State, list_versions
from service import metrics
from service.document_cache import CacheStore, RecentMixtures, check_recipe, max_token_chars, read_document
from service.errors import APIError
from service.model_holder import ModelHolder
from service.schemas import (
    BatchItem,
    BatchPredictRequest,
    BatchPredictResponse,
    CacheInfo,
    GenerateRequest,
    GenerateResponse,
    Health,
    ModelInfo,
    PredictRequest,
    ReloadResponse,
    WordProbability,
)
from service.state_token import Decoded, InvalidStateToken, StateExpired, StateFromOtherModel, StateSigner

bp = Blueprint("api", __name__)


def holder() -> ModelHolder:
    return current_app.extensions["nextword"]


def signer() -> StateSigner:
    return current_app.extensions["nextword_signer"]


def document_caches() -> CacheStore:
    return current_app.extensions["nextword_documents"]


def recent_mixtures() -> RecentMixtures:
    return current_app.extensions["nextword_mixtures"]


def served_predictor() -> Predictor:
    p = holder().predictor
    if p is None:
        raise APIError(503, "model_unavailable", holder().error or "no model is loaded")
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


def validate(model: type[BaseModel], body: object):
    if not isinstance(body, dict):
        raise APIError(422, "invalid_request", "the body must be a JSON object like {\"prompt\": \"...\"}")
    try:
        return model.model_validate(body)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        field = first["loc"][0] if first["loc"] else None
        if field == "state" and "state" in model.model_fields:
            # Whatever is wrong with it (not a string, empty, not base64url, too long), it is not a
            # token this service issued: the same answer as a token that fails its signature.
            raise APIError(422, "invalid_state", f"state: not a state token issued by this service ({first['msg']})") from None
        too_long = first["type"] == "string_too_long" and field in ("prompt", "prompts")
        raise APIError(422, "prompt_too_long" if too_long else "invalid_request", f"{where}: {first['msg']}") from None


def respond(body: BaseModel):
    return jsonify(body.model_dump())


def open_token(predictor: Predictor, token: str | None, with_cache: bool = False) -> Decoded | None:
    """The token's state (and recipe), checked against the served model; the API's 409 or 422 if it does not fit."""
    if token is None:
        return None
    try:
        if with_cache and len(token) > max_token_chars(predictor):
            raise InvalidStateToken("the state token is too long")
        decoded = signer().open(token, predictor.version)
        predictor.array_to_state(decoded.state)  # ValueError if the shape is not this model's
        if with_cache and decoded.recipe is not None:
            check_recipe(predictor, decoded.recipe)
        return decoded
    except StateFromOtherModel as e:
        raise APIError(409, "state_model_mismatch", str(e)) from None
    except StateExpired as e:
        raise APIError(409, "state_expired", f"state: {e}") from None
    except (InvalidStateToken, ValueError) as e:
        raise APIError(422, "invalid_state", f"state: {e}") from None


def verified_signature(predictor: Predictor, token: str) -> bytes:
    """The signature of a token this service issued (what Decoded.mac is), unparsed; the API's 422 otherwise."""
    try:
        return signer().verify(token, max_token_chars(predictor))[1]
    except StateExpired as e:
        raise APIError(409, "state_expired", f"state: {e}") from None
    except InvalidStateToken as e:
        raise APIError(422, "invalid_state", f"state: {e}") from None


def state_from_token(predictor: Predictor, token: str | None) -> State | None:
    decoded = open_token(predictor, token)
    return None if decoded is None else predictor.array_to_state(decoded.state)


def token_for(predictor: Predictor, state: State) -> str:
    return signer().encode(predictor.version, predictor.state_to_array(state))


def empty_prompt(where: str = "prompt") -> APIError:
    return APIError(422, "empty_prompt", f"{where}: give at least one word (or a state to continue from)")


@bp.post("/v1/predict")
def predict():
    body = parse_json_body()
    if isinstance(body, dict) and "prompts" in body:
        return predict_batch(validate(BatchPredictRequest, body))
    req = validate(PredictRequest, body)
    model = served_predictor()
    if req.cache and model.cache_settings.enabled:
        return predict_with_cache(model, req)
    state = state_from_token(model, req.state)
    try:
        result = model.predict(req.prompt, req.k, req.prefix, state, exclude=req.exclude)
    except EmptyPromptError:
        raise empty_prompt() from None
    metrics.count_tokens("/v1/predict", result.tokens)
    return predictions_response(model, result.predictions, token_for(model, result.state))


def predict_with_cache(model: Predictor, req: PredictRequest):
    """The document cache over the whole text, carried by the token (service/document_cache.py)."""
    ids, spellings = model.encode_with_spellings(req.prompt)
    store, rows_store, mixtures = document_caches(), current_app.extensions["nextword_rows_store"], recent_mixtures()
    if req.state is not None and not ids:
        # The next letter of the word being typed: the same state, so the same token and the mixture
        # this worker ranked for it last time, filtered for the new prefix. The signature is checked;
        # the rest of the token (its recipe) is read only where no mixture is kept for it.
        signature = verified_signature(model, req.state)
        parts = mixtures.get((model.version, signature))
        if parts is not None:
            store.get(signature)  # keeps the document's cache as recently used as its mixture
            metrics.count_document_cache("hit")
            return predictions_response(model, model.top_from_parts(parts, req.k, req.prefix, req.exclude), req.state)
    before = open_token(model, req.state, with_cache=True)
    cached = store.get(before.mac) if before is not None and before.recipe is not None else None
    try:
        reading = read_document(model, before, cached, ids, spellings, current_app.extensions["nextword_shared_rows"],
                                rows_store)
    except EmptyPromptError:
        raise empty_prompt() from None
    if rows_store is not None and reading.recipe.rows is not None:
        # Before the token goes out, so that any host the client turns to next can read these rows.
        rows, _, end = reading.cache.location()
        rows_store.publish(rows, end - len(ids), end)
    metrics.count_tokens("/v1/predict", len(ids) + reading.rebuilt)
    if before is not None and before.recipe is not None:
        metrics.count_document_cache(reading.source)
    parts = model.mixture_parts(reading.state, reading.cache)
    if parts is None:  # an empty cache (one word so far), or a model without the numpy path
        predictions = model.top_words(reading.state, req.k, req.prefix, reading.cache, req.exclude)
    else:
        predictions = model.top_from_parts(parts, req.k, req.prefix, req.exclude)
    token, mac = signer().issue(model.version, model.state_to_array(reading.state), reading.recipe)
    if reading.restored is not None and len(reading.restored):
        store.put(before.mac, reading.restored)
    store.put(mac, reading.cache)
    if parts is not None:
        mixtures.put((model.version, mac), parts)
        if before is not None and not ids:  # the same state: the letters to come may carry either token
            mixtures.put((model.version, before.mac), parts)
    return predictions_response(model, predictions, token)


def predictions_response(model: Predictor, predictions: list, token: str):
    # The hot path of a client typing word by word: the body PredictResponse documents, built as a
    # plain dict (constructing and dumping the pydantic models cost more than the JSON encoding).
    return current_app.json.response({
        "predictions": [{"word": p.word, "probability": p.probability} for p in predictions],
        "state": token,
        "model": model.version,
    })


def predict_batch(req: BatchPredictRequest):
    model = served_predictor()
    items = []
    for i, prompt in enumerate(req.prompts):
        try:
            result = model.predict(prompt, req.k)
        except EmptyPromptError:
            raise empty_prompt(f"prompts.{i}") from None
        metrics.count_tokens("/v1/predict", result.tokens)
        items.append(BatchItem(
            predictions=[WordProbability(word=p.word, probability=p.probability) for p in result.predictions],
            state=token_for(model, result.state),
        ))
    return respond(BatchPredictResponse(results=items, model=model.version))


@bp.post("/v1/generate")
def generate():
    req = validate(GenerateRequest, parse_json_body())
    model = served_predictor()
    state = state_from_token(model, req.state)
    try:
        g = model.generate(req.prompt, req.max_words, float(req.temperature), req.top_k, req.seed, state)
    except EmptyPromptError:
        raise empty_prompt() from None
    metrics.count_tokens("/v1/generate", g.tokens + len(g.words))
    return respond(GenerateResponse(text=g.text, words=g.words, seed=g.seed,
                                    model=model.version))


# Settings that name a place on the training machine: corpus_dir, models_dir, any *_path or *_file.
PATH_KEY = re.compile(r"(^|_)(dir|dirs|path|paths|file|files|folder|root)$")
# A value that reads as a local path: absolute, home-relative, ./ or ../, a Windows drive, or
# separators without spaces ("data/corpus"; a phase such as "epoch 1/6" stays).
PATH_VALUE = re.compile(r"^(/|~|\\|\.\.?[/\\]|[A-Za-z]:[/\\])|^[^\s]*[/\\][^\s]*$")


def without_local_paths(value):
    """`value` (JSON: dicts, lists, scalars) without the entries that name a local path: what
    GET /v1/models shows any client of the training settings, never where the files were."""
    if isinstance(value, dict):
        return {k: without_local_paths(v) for k, v in value.items()
                if not PATH_KEY.search(str(k).lower()) and not (isinstance(v, str) and PATH_VALUE.search(v))}
    if isinstance(value, list):
        return [without_local_paths(v) for v in value if not (isinstance(v, str) and PATH_VALUE.search(v))]
    return value


@bp.get("/v1/models")
def models():
    model = served_predictor()
    loaded = model.loaded
    shown_metrics = {k: v for k, v in loaded.metrics.items() if k != "train_curve"}  # the curve is thousands of points
    return respond(ModelInfo(model=model.version, config=without_local_paths(loaded.config["model"]),
                             training=without_local_paths(loaded.config["training"]),
                             metrics=without_local_paths(shown_metrics), available=list_versions(holder().models_dir),
                             cache=CacheInfo(**model.cache_settings.as_json(), enabled=model.cache_settings.enabled)))


@bp.post("/v1/admin/reload")
def admin_reload():
    expected = current_app.config["NEXTWORD"].admin_token
    if not expected:
        raise APIError(404, "admin_disabled", "admin routes are off: set NEXTWORD_ADMIN_TOKEN to enable them")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise APIError(401, "unauthorized", "send Authorization: Bearer <NEXTWORD_ADMIN_TOKEN>")
    if not hmac.compare_digest(given.strip().encode("utf-8", "surrogatepass"), expected.encode("utf-8")):
        raise APIError(403, "forbidden", "the admin token is wrong")
    previous = holder().predictor.version if holder().predictor else None
    changed = holder().check()
    return respond(ReloadResponse(model=served_predictor().version, changed=changed, previous=previous))


@bp.get("/healthz")
def healthz():
    """Alive: the process answers. Load balancers should route on /readyz."""
    p = holder().predictor
    return respond(Health(status="ok", model=p.version if p else None))


@bp.get("/readyz")
def readyz():
    model = served_predictor()
    return respond(Health(status="ok", model=model.version))


@bp.get("/metrics")
def metrics_route():
    return metrics.render()


@bp.get("/openapi.json")
def openapi():
    from service.openapi import openapi_document

    return jsonify(openapi_document())
