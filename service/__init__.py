"""The next-word service: a Flask application factory.

    gunicorn -c service/gunicorn.conf.py 'service:create_app()'

gunicorn calls create_app() in each worker after fork (no preload), so each worker loads its
own copy of the newest model version and watches the models folder for newer ones
(service/model_holder.py). `kill -HUP` on the master also starts fresh workers.

Everything heavy (torch, the model, Flask) is imported inside create_app, so that
`python -m service.client` starts without loading torch.
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("service")


def create_app(test_config: dict | None = None) -> Flask:
    import torch
    from flask import Flask

    from service.api import bp as api_bp
    from service.config import ServiceConfig
    from service.document_cache import CacheStore, RecentMixtures
    from service.errors import register_error_handlers
    from service.metrics import instrument
    from service.model_holder import ModelHolder
    from service.state_token import StateSigner
    from service.web import bp as web_bp

    app = Flask(__name__)
    config = ServiceConfig.from_env(**(test_config or {}))
    app.config.update(NEXTWORD=config, MAX_CONTENT_LENGTH=config.max_body_bytes)
    app.json.sort_keys = False  # keep fields in the documented order: "predictions" before "model", "word" first
    torch.set_num_threads(config.torch_threads)
    register_error_handlers(app)
    instrument(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    secret = config.state_secret
    if not secret:
        # Tokens then only verify in this process: fine for one worker or a test, not for a fleet.
        log.warning("NEXTWORD_STATE_SECRET is not set: state tokens are signed with a per-process key")
        secret = secrets.token_hex(32)
    app.extensions["nextword_signer"] = StateSigner(secret.encode("utf-8"), config.state_max_age_s)
    app.extensions["nextword_documents"] = CacheStore(config.cache_memory_mb << 20)
    app.extensions["nextword_mixtures"] = RecentMixtures()
    app.extensions["nextword_shared_rows"] = shared_rows_folder(config)
    app.extensions["nextword_rows_store"] = redis_rows_store(config)
    app.extensions["nextword"] = ModelHolder(config.models_dir, config.reload_interval, bool(config.quantize))
    return app


def redis_rows_store(config):
    """Document cache rows in Redis, for any host (service/rows_store.py), or None where it is off."""
    if not config.redis_url:
        return None
    from service.rows_store import RedisRowsStore

    return RedisRowsStore(config.redis_url, config.redis_ttl_s)


def shared_rows_folder(config):
    """The host's folder of document cache rows (service/shared_rows.py), or None where it is off or unusable."""
    from service.shared_rows import SharedRowsFolder

    if not config.shared_cache_dir or config.shared_cache_mb <= 0:
        return None
    try:
        return SharedRowsFolder(Path(config.shared_cache_dir), config.shared_cache_mb << 20)
    except OSError as e:  # the caches still work, each in its own worker
        log.warning("NEXTWORD_SHARED_CACHE_DIR=%s is not usable (%s): document caches stay per worker",
                    config.shared_cache_dir, e)
        return None
