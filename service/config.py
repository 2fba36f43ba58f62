"""Service settings, read from environment variables (every one optional).

| variable                  | default | meaning                                                     |
|---------------------------|---------|-------------------------------------------------------------|
| NEXTWORD_MODELS_DIR       | models  | folder of model versions; the newest complete one is served |
| NEXTWORD_TORCH_THREADS    | 1       | torch threads per worker (workers × threads ≤ cores)        |
| NEXTWORD_MAX_BODY_BYTES   | 65536   | largest request body (413 beyond)                           |
| NEXTWORD_RELOAD_INTERVAL  | 2       | seconds between checks for a newer model version; 0 = never |
| NEXTWORD_STATE_SECRET     | random  | key that signs state tokens; give every worker and replica the same one (≥ 16 bytes) |
| NEXTWORD_ADMIN_TOKEN      | unset   | bearer token for POST /v1/admin/reload; unset = admin routes off |
| NEXTWORD_QUANTIZE         | 0       | 1: serve with int8 weights (model/quantize.py; see docs/benchmarks.md) |

Secrets come only from the environment. Without NEXTWORD_STATE_SECRET, gunicorn.conf.py draws
one per server start (shared by its workers); replicas behind one proxy must be given the same.
gunicorn's own settings (HOST, PORT, NEXTWORD_WORKERS, NEXTWORD_GRACEFUL_TIMEOUT) are in
service/gunicorn.conf.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class ServiceConfig:
    models_dir: Path = Path("models")
    torch_threads: int = 1
    max_body_bytes: int = 64 * 1024
    reload_interval: float = 2.0
    state_secret: str = ""
    admin_token: str = ""
    quantize: int = 0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "ServiceConfig":
        environ = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            raw = environ.get(f"NEXTWORD_{f.name.upper()}")
            if raw is None:
                continue
            kind = type(f.default)
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ValueError(f"NEXTWORD_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from None
        values.update(overrides)
        values["models_dir"] = Path(values.get("models_dir", cls.models_dir))
        return cls(**values)
