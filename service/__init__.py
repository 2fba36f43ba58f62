"""The next-word service: a Flask application factory.

    gunicorn -c service/gunicorn.conf.py 'service:create_app()'

gunicorn calls create_app() in each worker after fork (no preload), so each worker loads
its own copy of the newest model version; `kill -HUP` on the master starts fresh workers,
which load the newest version again.
"""
from __future__ import annotations

import logging

import torch
from flask import Flask

from model.checkpoint import CheckpointError, load_latest
from model.predict import Predictor
from service.config import ServiceConfig
from service.errors import register_error_handlers

log = logging.getLogger("service")


class ModelHolder:
    """The worker's predictor, or None with the reason when no usable model exists."""

    def __init__(self, config: ServiceConfig) -> None:
        self.predictor: Predictor | None = None
        self.error: str | None = None
        try:
            self.predictor = Predictor(load_latest(config.models_dir))
            log.info("serving model %s from %s", self.predictor.version, config.models_dir)
        except CheckpointError as e:
            self.error = str(e)
            log.error("no model served: %s", e)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    config = ServiceConfig.from_env(**(test_config or {}))
    app.config.update(NEXTWORD=config, MAX_CONTENT_LENGTH=config.max_body_bytes)
    app.json.sort_keys = False  # keep fields in the documented order: "predictions" before "model", "word" first
    torch.set_num_threads(config.torch_threads)
    register_error_handlers(app)
    from service.api import bp

    app.register_blueprint(bp)
    app.extensions["nextword"] = ModelHolder(config)
    return app
