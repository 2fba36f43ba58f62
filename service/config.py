"""Service settings, read from environment variables (every one optional).

| variable                  | default | meaning                                                     |
|---------------------------|---------|-------------------------------------------------------------|
| NEXTWORD_MODELS_DIR       | models  | folder of model versions; the newest complete one is served |
| NEXTWORD_TORCH_THREADS    | 1       | torch threads per worker (workers × threads ≤ cores)        |
| NEXTWORD_MAX_BODY_BYTES   | 65536   | largest request body (413 beyond)                           |
| NEXTWORD_RELOAD_INTERVAL  | 2       | seconds between checks for a newer model version; 0 = never |
| NEXTWORD_STATE_SECRET     | random  | key that signs state tokens; give every worker and replica the same one (≥ 16 bytes) |
| NEXTWORD_STATE_MAX_AGE_S  | 86400   | seconds a state token is accepted after its issue (then 409 state_expired); 0 = forever |
| NEXTWORD_ADMIN_TOKEN      | unset   | bearer token for POST /v1/admin/reload (≥ 16 bytes); unset = admin routes off |
| NEXTWORD_QUANTIZE         | 0       | 1: serve with int8 weights (model/quantize.py; see docs/benchmarks.md) |
| NEXTWORD_CACHE_MEMORY_MB  | 256     | per worker: the document caches kept between requests (service/document_cache.py) |
| NEXTWORD_SHARED_CACHE_DIR | unset   | cache rows all workers of a host read (service/shared_rows.py); unset = off |
| NEXTWORD_SHARED_CACHE_MB  | 512     | the most that folder holds (and at most half the free space there) |
| NEXTWORD_REDIS_URL        | unset   | Redis keeping cache rows for every host (service/rows_store.py); unset = off |
| NEXTWORD_REDIS_TTL_S      | 3600    | seconds a document's rows stay in Redis after their last append |

gunicorn.conf.py sets NEXTWORD_SHARED_CACHE_DIR, where it is unset, to a fresh folder under /dev/shm
for each server start, and removes it when the server stops.

Secrets come only from the environment, and a short one is refused at start (check_secret: the
same rule for both). Without NEXTWORD_STATE_SECRET, gunicorn.conf.py draws
one per server start (shared by its workers); replicas behind one proxy must be given the same.
gunicorn's own settings (HOST, PORT, NEXTWORD_WORKERS, NEXTWORD_GRACEFUL_TIMEOUT) are in
service/gunicorn.conf.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

MIN_SECRET_BYTES = 16


def check_secret(name: str, secret: str | bytes) -> None:
    """Refuse a key or token too short to resist guessing: the state-token key and the admin token."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(f"{name} must be at least {MIN_SECRET_BYTES} bytes (it has {len(raw)})")


def prepare_metrics_dir(path: str | Path) -> Path:
    """Make PROMETHEUS_MULTIPROC_DIR ready for a server start: created if missing, emptied of the
    metric files an earlier run left (prometheus-client's *.db), and refused, untouched, if it
    holds anything else: it may be a folder that was never ours (a typo, /tmp, a home)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        path.mkdir(parents=True)
        return path
    if not path.is_dir():
        raise ValueError(f"PROMETHEUS_MULTIPROC_DIR={path} is not a folder")
    entries = list(path.iterdir())
    foreign = sorted(e.name for e in entries if not (e.name.endswith(".db") and e.is_file() and not e.is_symlink()))
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ValueError(f"PROMETHEUS_MULTIPROC_DIR={path} holds more than metric files (*.db): {shown}; "
                         f"refusing to empty it: name an empty or new folder, or unset it for a fresh temporary one")
    for entry in entries:
        entry.unlink()
    return path


@dataclass(frozen=True)
class ServiceConfig:
    models_dir: Path = Path("models")
    torch_threads: int = 1
    max_body_bytes: int = 64 * 1024
    reload_interval: float = 2.0
    state_secret: str = ""
    state_max_age_s: int = 24 * 3600  # a day: a page left open overnight sends its whole text once, as after a swap
    admin_token: str = ""
    quantize: int = 0
    cache_memory_mb: int = 256  # about 128 texts of 2,000 words at hidden size 256; a miss only costs a rebuild
    shared_cache_dir: str = ""  # "" = off: each worker keeps its caches to itself
    shared_cache_mb: int = 512
    redis_url: str = ""  # "" = off: a token taken to another host rebuilds its cache
    redis_ttl_s: int = 3600

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> ServiceConfig:
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

    def __post_init__(self) -> None:
        # Empty means unset: a state secret is then drawn, and the admin routes are off.
        if self.state_secret:
            check_secret("NEXTWORD_STATE_SECRET", self.state_secret)
        if self.admin_token:
            check_secret("NEXTWORD_ADMIN_TOKEN", self.admin_token)
        if self.state_max_age_s < 0:
            raise ValueError(f"NEXTWORD_STATE_MAX_AGE_S must be 0 (tokens never expire) or more (got {self.state_max_age_s})")
        if self.redis_ttl_s < 1:
            raise ValueError(f"NEXTWORD_REDIS_TTL_S must be at least 1 (got {self.redis_ttl_s})")
