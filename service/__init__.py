"""The next-word service: a Flask application factory.

    gunicorn -c service/gunicorn.conf.py 'service:create_app()'

gunicorn calls create_app() in each worker after fork (no preload), so each worker loads its
own copy of the newest model version and watches the models folder for newer ones
(service/model_holder.py). `kill -HUP` on the master also starts fresh workers.
"""
from __future__ import annotations

import logging
import secrets

import torch
from flask import Flask

from service.config import ServiceConfig
from service.errors import register_error_handlers
from service.metrics import instrument
from service.model_holder import ModelHolder
from service.state_token import StateSigner

log = logging.getLogger("service")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    config = ServiceConfig.from_env(**(test_config or {}))
    app.config.update(NEXTWORD=config, MAX_CONTENT_LENGTH=config.max_body_bytes)
    app.json.sort_keys = False  # keep fields in the documented order: "predictions" before "model", "word" first
    torch.set_num_threads(config.torch_threads)
    register_error_handlers(app)
    instrument(app)
    from service.api import bp

    app.register_blueprint(bp)
    secret = config.state_secret
    if not secret:
        # Tokens then only verify in this process: fine for one worker or a test, not for a fleet.
        log.warning("NEXTWORD_STATE_SECRET is not set: state tokens are signed with a per-process key")
        secret = secrets.token_hex(32)
    app.extensions["nextword_signer"] = StateSigner(secret.encode("utf-8"))
    app.extensions["nextword"] = ModelHolder(config.models_dir, config.reload_interval)
    return app
