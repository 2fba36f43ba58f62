"""Service settings, read from environment variables (every one optional).

| variable                | default  | meaning                                              |
|-------------------------|----------|------------------------------------------------------|
| NEXTWORD_MODELS_DIR     | models   | folder of model versions; the newest complete one is served |
| NEXTWORD_TORCH_THREADS  | 1        | torch threads per worker (workers × threads ≤ cores) |
| NEXTWORD_MAX_PROMPT_CHARS | 20000  | longest prompt accepted, in characters               |
| NEXTWORD_MAX_BODY_BYTES | 65536    | largest request body (413 beyond)                    |

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
    max_prompt_chars: int = 20000
    max_body_bytes: int = 64 * 1024

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "ServiceConfig":
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(f"NEXTWORD_{f.name.upper()}")
            if raw is not None:
                values[f.name] = Path(raw) if f.name == "models_dir" else int(raw)
        values.update(overrides)
        if "models_dir" in values:
            values["models_dir"] = Path(values["models_dir"])
        return cls(**values)
