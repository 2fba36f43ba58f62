"""What must never appear on the serving and loading path: pickle, debug mode, root in the image."""
from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from service import create_app
from service.config import MIN_SECRET_BYTES, ServiceConfig
from service.state_token import StateSigner

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


# --- secrets too short, and a metrics folder that is not ours: refused at start --------------

GUNICORN_CONF = ROOT / "service" / "gunicorn.conf.py"


def run_gunicorn_conf(monkeypatch, **env: str | None) -> None:
    """Execute service/gunicorn.conf.py as gunicorn's master does, with these variables (None: unset);
    monkeypatch puts every variable it may set back afterwards."""
    for name in ("NEXTWORD_STATE_SECRET", "NEXTWORD_ADMIN_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "OPENBLAS_NUM_THREADS",
                 "NEXTWORD_SHARED_CACHE_DIR"):
        monkeypatch.setenv(name, "")  # recorded, so undone even where the file sets an unset variable
        monkeypatch.delenv(name)
    # Unless a test asks for it, no rows folder in /dev/shm: nothing here would run on_exit to remove it.
    env = {"NEXTWORD_SHARED_CACHE_DIR": "/nonexistent/not-made-by-this-test", **env}
    for name, value in env.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    runpy.run_path(str(GUNICORN_CONF))


@pytest.mark.parametrize("variable,field", [("NEXTWORD_ADMIN_TOKEN", "admin_token"),
                                            ("NEXTWORD_STATE_SECRET", "state_secret")])
def test_a_short_admin_token_or_state_secret_is_refused_at_start(tiny_models_dir, monkeypatch, variable, field):
    for short in ("x", "sesame", "y" * (MIN_SECRET_BYTES - 1), "é" * 7):  # "é" is 2 bytes: 14 in all
        with pytest.raises(ValueError, match=f"{variable} must be at least {MIN_SECRET_BYTES} bytes"):
            ServiceConfig.from_env({variable: short})
        with pytest.raises(ValueError, match=variable):
            create_app({"models_dir": tiny_models_dir, "reload_interval": 0, field: short})
        with pytest.raises(SystemExit, match=f"nextword: {variable} must be at least"):
            run_gunicorn_conf(monkeypatch, **{variable: short})
    # 16 bytes is enough; empty means unset (compose passes "" for an unset variable).
    for fine in ("z" * MIN_SECRET_BYTES, ""):
        assert getattr(ServiceConfig.from_env({variable: fine}), field) == fine
        create_app({"models_dir": tiny_models_dir, "reload_interval": 0, field: fine})
        run_gunicorn_conf(monkeypatch, **{variable: fine})


def test_the_state_signer_and_the_config_share_one_secret_check():
    with pytest.raises(ValueError, match=f"at least {MIN_SECRET_BYTES} bytes"):
        StateSigner(b"y" * (MIN_SECRET_BYTES - 1))
    StateSigner(b"y" * MIN_SECRET_BYTES)
    assert "check_secret(" in (ROOT / "service" / "state_token.py").read_text()


def test_the_metrics_folder_is_created_or_emptied_of_metric_files_only(tmp_path, monkeypatch):
    missing = tmp_path / "a" / "metrics"
    run_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(missing))
    assert missing.is_dir() and list(missing.iterdir()) == []
    # What prometheus-client leaves behind: emptied at the next start.
    for name in ("counter_123.db", "gauge_livesum_123.db", "histogram_456.db"):
        (missing / name).write_bytes(b"\0" * 16)
    run_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(missing))
    assert missing.is_dir() and list(missing.iterdir()) == []
    # Unset: a fresh temporary folder of our own.
    run_gunicorn_conf(monkeypatch)
    fresh = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert fresh.is_dir() and fresh.name.startswith("nextword-metrics-") and list(fresh.iterdir()) == []
    fresh.rmdir()


@pytest.mark.parametrize("foreign", ["notes.txt", "subdir", "subdir.db", "link.db", "counter_1.db.bak"])
def test_a_metrics_folder_holding_anything_else_is_refused_untouched(tmp_path, monkeypatch, foreign):
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"\0" * 16)
    if foreign in ("subdir", "subdir.db"):
        (folder / foreign).mkdir()
        (folder / foreign / "keep.txt").write_text("mine")
    elif foreign == "link.db":
        (tmp_path / "target.txt").write_text("mine")
        (folder / foreign).symlink_to(tmp_path / "target.txt")
    else:
        (folder / foreign).write_text("mine")
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with pytest.raises(SystemExit, match=rf"PROMETHEUS_MULTIPROC_DIR={folder} holds more than metric files.*{foreign}"):
        run_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(folder))
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # nothing deleted, not even the .db
    with pytest.raises(SystemExit, match="is not a folder"):
        run_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "target.txt" if foreign == "link.db"
                                                                          else folder / "counter_1.db"))


def test_gunicorn_refuses_to_start_with_a_foreign_metrics_folder_or_a_short_admin_token(tmp_path):
    """The real server: exit status 1, one clear line, and the folder's files still there."""
    folder = tmp_path / "not-metrics"
    folder.mkdir()
    (folder / "precious.txt").write_text("do not delete")
    base = {k: v for k, v in os.environ.items() if k not in ("NEXTWORD_ADMIN_TOKEN", "PROMETHEUS_MULTIPROC_DIR")}
    base.update(NEXTWORD_MODELS_DIR=str(tmp_path / "models"))
    for env, message in ((dict(PROMETHEUS_MULTIPROC_DIR=str(folder)), "holds more than metric files (*.db): precious.txt"),
                         (dict(NEXTWORD_ADMIN_TOKEN="sesame"), "NEXTWORD_ADMIN_TOKEN must be at least 16 bytes")):
        # --check-config: gunicorn reads its settings and loads the app as for a start, then exits
        # (0 if both are fine) instead of serving.
        result = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "-c", str(GUNICORN_CONF),
                                 "service:create_app()"], cwd=ROOT, env={**base, **env}, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 1, result.stderr
        assert "nextword: " in result.stderr and message in result.stderr and "Traceback" not in result.stderr
    assert (folder / "precious.txt").read_text() == "do not delete"


def test_gunicorn_conf_makes_a_rows_folder_and_removes_those_killed_masters_left(monkeypatch):
    """A folder per start in /dev/shm named after the master's pid; one whose master is gone (killed
    with SIGKILL, so its on_exit never ran) is removed at the next start; a live master's stays."""
    import shutil
    import tempfile

    gone = subprocess.Popen(["true"])
    gone.wait()
    orphan = Path(tempfile.mkdtemp(prefix=f"nextword-rows-{gone.pid}-", dir="/dev/shm"))
    live = Path(tempfile.mkdtemp(prefix=f"nextword-rows-{os.getpid()}-", dir="/dev/shm"))
    made = None
    try:
        run_gunicorn_conf(monkeypatch, NEXTWORD_SHARED_CACHE_DIR=None)
        made = Path(os.environ["NEXTWORD_SHARED_CACHE_DIR"])
        assert made.parent == Path("/dev/shm") and made.name.startswith(f"nextword-rows-{os.getpid()}-") and made.is_dir()
        assert not orphan.exists() and live.exists()
    finally:
        for path in (orphan, live, made):
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
