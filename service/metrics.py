"""Prometheus metrics: requests and latency by route and status, the served model, tokens read.

Under gunicorn every worker is its own process, so the counters live in prometheus-client's
multiprocess mode: each worker writes to files in PROMETHEUS_MULTIPROC_DIR (set up by
service/gunicorn.conf.py before the workers start) and `/metrics` sums them, so any worker
answers for the whole server. Without that variable (tests, `flask run`) the process's own
registry is used.
"""
from __future__ import annotations

import os
import time
from functools import cache

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("nextword_requests_total", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram(
    "nextword_request_duration_seconds", "Time from request to response", ["route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TOKENS = Counter("nextword_tokens_processed_total", "Prompt and generated tokens run through the model", ["route"])
# 1 for the version a live worker serves; summed over workers, so during a swap both show.
MODEL_INFO = Gauge("nextword_model_info", "The model version served", ["version"], multiprocess_mode="livesum")
# Requests continuing a text with the document cache: found in this worker ("hit"), read from the rows another
# worker of the host wrote ("shared") or from Redis ("redis"), or rebuilt from the token ("rebuilt").
DOCUMENT_CACHE = Counter("nextword_document_cache_total", "Continued texts whose document cache was found or rebuilt",
                         ["result"])
# Calls to the Redis store of cache rows that failed (service/rows_store.py): Redis is then skipped a few seconds.
ROWS_STORE_ERRORS = Counter("nextword_rows_store_errors_total", "Failed calls to the Redis store of document cache rows")
RELOADS = Counter("nextword_model_reloads_total", "Checks for a newer model version", ["result"])


# Any other method a client sends is counted as "other": a label per invented method name would let
# a client grow the metric series (and this process's memory) without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def set_served_version(version: str | None, previous: str | None) -> None:
    if previous:
        MODEL_INFO.labels(previous).set(0)
    if version:
        MODEL_INFO.labels(version).set(1)


@cache
def _child(metric, *labels: str):
    """A metric's child for these label values, looked up once (labels() validates and locks per call)."""
    return metric.labels(*labels)


def count_tokens(route: str, n: int) -> None:
    _child(TOKENS, route).inc(n)


def count_document_cache(result: str) -> None:
    _child(DOCUMENT_CACHE, result).inc()


def count_rows_store_error() -> None:
    ROWS_STORE_ERRORS.inc()


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def render() -> Response:
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def instrument(app: Flask) -> None:
    """Time and count every response, labelled by the matched route (never the raw path)."""

    @app.before_request
    def _start_timer() -> None:
        g.metrics_start = time.perf_counter()

    @app.after_request
    def _record(response):
        start = g.get("metrics_start")
        route = request.url_rule.rule if request.url_rule else "unmatched"
        status = str(response.status_code)
        method = request.method if request.method in KNOWN_METHODS else "other"
        _child(REQUESTS, route, method, status).inc()
        if start is not None:
            _child(LATENCY, route, status).observe(time.perf_counter() - start)
        return response
