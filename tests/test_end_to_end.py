"""Corpus → training → gunicorn → HTTP, the way `make serve` and `make retrain` run them."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from corpus.build import build
from model.training.run import train
from tests.conftest import tiny_train_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_model(url: str, version: str, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            r = requests.get(f"{url}/healthz", timeout=5)
            if r.status_code == 200 and r.json()["model"] == version:
                return
        except requests.RequestException:  # not up yet, or busy starting
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not serve {version} within {deadline_s}s")


@contextlib.contextmanager
def gunicorn(**env_overrides):
    """gunicorn as `make serve` runs it, on a free loopback port: yields (url, process, errors), errors filled with
    its stderr once it has stopped (terminated at the end, killed if it does not stop within 30 s)."""
    port = free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", NEXTWORD_WORKERS="2", **env_overrides)
    env.pop("NEXTWORD_SHARED_CACHE_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "service/gunicorn.conf.py", "service:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    errors: list[str] = []
    try:
        yield f"http://127.0.0.1:{port}", server, errors
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
        errors.append(err)


def test_build_train_serve_predict_and_reload(tmp_path):
    corpus_dir, models_dir = tmp_path / "corpus", tmp_path / "models"
    build(corpus_dir, train_passages=150, eval_passages=20, user_dir=None)
    first = train(tiny_train_config(corpus_dir, models_dir, epochs=1, max_batches=4, vocab_size=800))
    with gunicorn(NEXTWORD_MODELS_DIR=str(models_dir)) as (url, server, errors):
        wait_for_model(url, first.name)
        r = requests.post(f"{url}/v1/predict", json={"prompt": "I grew up in France. I speak fluent", "k": 3}, timeout=10)
        assert r.status_code == 200
        assert r.json()["model"] == first.name and len(r.json()["predictions"]) == 3
        bad = requests.post(f"{url}/v1/predict", data="{", headers={"Content-Type": "application/json"}, timeout=10)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"

        # `make retrain` writes a newer version; gunicorn's graceful reload serves it.
        second = train(tiny_train_config(corpus_dir, models_dir, epochs=1, max_batches=2, vocab_size=800))
        assert second.name > first.name
        server.send_signal(signal.SIGHUP)
        wait_for_model(url, second.name)
        r = requests.post(f"{url}/v1/predict", json={"prompt": "the clouds are in the"}, timeout=10)
        assert r.status_code == 200 and r.json()["model"] == second.name
    assert "Traceback" not in errors[0], errors[0]


def test_two_gunicorn_workers_share_the_document_cache_rows(cache_models_dir):
    """Under gunicorn with 2 workers, a text typed word by word (the kernel hands each request to either
    worker) gives the whole text's answer, continues from the rows either worker wrote instead of
    rebuilding, and the rows folder gunicorn made in /dev/shm is gone when the server stops."""
    from tests.test_api_cache import LONG, assert_same_predictions

    before = set(Path("/dev/shm").glob("nextword-rows-*"))
    with gunicorn(NEXTWORD_MODELS_DIR=str(cache_models_dir), NEXTWORD_ACCESS_LOG="") as (url, _, errors):
        wait_for_model(url, sorted(p.name for p in cache_models_dir.iterdir() if p.is_dir())[-1])
        made = set(Path("/dev/shm").glob("nextword-rows-*")) - before
        assert len(made) == 1
        words = LONG.split(" ")
        with requests.Session() as session:  # a fresh connection a request, as a browser's may be
            body = session.post(f"{url}/v1/predict", json={"prompt": words[0]}, timeout=10).json()
            for word in words[1:]:
                r = requests.post(f"{url}/v1/predict", json={"prompt": word, "state": body["state"]}, timeout=10)
                assert r.status_code == 200, r.text
                body = r.json()
        typed = requests.post(f"{url}/v1/predict", json={"prompt": "", "state": body["state"], "k": 20}, timeout=10).json()
        whole = requests.post(f"{url}/v1/predict", json={"prompt": LONG, "k": 20}, timeout=10).json()
        assert_same_predictions(typed, whole)
        metrics = requests.get(f"{url}/metrics", timeout=10).text.splitlines()
        counts = {line.split('"')[1]: float(line.split()[-1]) for line in metrics
                  if line.startswith("nextword_document_cache_total{")}
        assert counts.get("shared", 0) > 0 and counts.get("rebuilt", 0) <= 1, counts
    assert "Traceback" not in errors[0], errors[0]
    assert not any(p.exists() for p in made)
