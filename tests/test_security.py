"""What must never appear on the serving and loading path: pickle, debug mode, root in the image."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = [p for d in ("model", "service", "corpus") for p in (ROOT / d).rglob("*.py")]


def test_nothing_is_unpickled():
    assert len(PRODUCT) > 20
    pattern = re.compile(r"\bimport pickle\b|\bfrom pickle\b|torch\.load\(|\bdill\b|joblib\.load|allow_pickle=True")
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in PRODUCT
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_no_debug_mode_and_secrets_only_from_the_environment():
    service = "\n".join(p.read_text() for p in (ROOT / "service").rglob("*.py"))
    assert "debug=True" not in service and "app.run(" not in service
    compose = (ROOT / "docker-compose.yml").read_text()
    # Secrets are passed through from the environment, never written into the file.
    for name in ("NEXTWORD_STATE_SECRET", "NEXTWORD_ADMIN_TOKEN"):
        assert re.search(rf"{name}: \$\{{{name}:-\}}", compose), name


def test_the_image_runs_as_a_non_root_user():
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), flags=re.M)
    assert users and users[-1] not in ("root", "0", "0:0")
