"""The OpenAPI 3.1 document, built from the same pydantic models that validate requests.

Served at GET /openapi.json; schemathesis fuzzes the service against it (tests/test_fuzz.py).
Only the route table below is written by hand: which model each route takes and returns,
and which error statuses it can answer with.
"""
from __future__ import annotations

from functools import cache

from pydantic.json_schema import models_json_schema

from service import schemas as s

REF = "#/components/schemas/{model}"
BODY_ERRORS = {
    "400": "the body is not JSON or not UTF-8",
    "413": "the body is over the size limit",
    "415": "the body is not sent as application/json",
    "422": "a field is missing, mistyped or out of range; the prompt is empty; or the state token was not "
           "issued by this service (invalid_state)",
    "503": "no model is loaded yet",
}
STATE_ERRORS = {"409": "the state token belongs to another model version (state_model_mismatch) or is older than "
                       "the service accepts (state_expired): resend the whole text"}


def _ref(model: type) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(table: dict[str, str]) -> dict:
    return {status: _json(_ref(s.ErrorResponse), why) for status, why in table.items()}


def _operation(summary: str, ok: dict, request: dict | None = None, errors: dict[str, str] | None = None,
               content_type: str = "application/json") -> dict:
    op: dict = {"summary": summary, "responses": {"200": {"description": "OK", "content": {content_type: {"schema": ok}}}}}
    if request is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    op["responses"].update(_errors(errors or {}))
    return op


@cache
def openapi_document() -> dict:
    models = [s.PredictRequest, s.BatchPredictRequest, s.GenerateRequest, s.PredictResponse, s.BatchPredictResponse,
              s.GenerateResponse, s.ModelInfo, s.Health, s.ReloadResponse, s.ErrorResponse]
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    predict_request = {"oneOf": [_ref(s.PredictRequest), _ref(s.BatchPredictRequest)]}
    predict_response = {"oneOf": [_ref(s.PredictResponse), _ref(s.BatchPredictResponse)]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "nextword", "version": "1",
                 "description": "Next-word prediction from a recurrent language model that remembers."},
        "paths": {
            "/v1/predict": {"post": _operation(
                "Next words after a prompt (or continuing a state token); with `prompts`, a batch",
                predict_response, predict_request, {**BODY_ERRORS, **STATE_ERRORS})},
            "/v1/generate": {"post": _operation(
                "Continue a prompt by sampling", _ref(s.GenerateResponse), _ref(s.GenerateRequest),
                {**BODY_ERRORS, **STATE_ERRORS})},
            "/v1/models": {"get": _operation("The served model version, its config and training metrics",
                                             _ref(s.ModelInfo), errors={"503": BODY_ERRORS["503"]})},
            "/v1/admin/reload": {"post": {
                **_operation("Check now for a newer model version (this worker)", _ref(s.ReloadResponse), errors={
                    "401": "no bearer token", "403": "wrong token", "404": "admin routes are off (no token configured)",
                    "503": BODY_ERRORS["503"]}),
                "security": [{"bearer": []}],
            }},
            "/healthz": {"get": _operation("Alive", _ref(s.Health))},
            "/readyz": {"get": _operation("Ready: a model is loaded", _ref(s.Health), errors={"503": BODY_ERRORS["503"]})},
            "/metrics": {"get": _operation("Prometheus metrics", {"type": "string"}, content_type="text/plain")},
        },
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
