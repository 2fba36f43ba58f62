"""Corpus → training → gunicorn → HTTP, the way `make serve` and `make retrain` run them."""
from __future__ import annotations

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


def test_build_train_serve_predict_and_reload(tmp_path):
    corpus_dir, models_dir = tmp_path / "corpus", tmp_path / "models"
    build(corpus_dir, train_passages=150, eval_passages=20, user_dir=None)
    first = train(tiny_train_config(corpus_dir, models_dir, epochs=1, max_batches=4, vocab_size=800))
    port = free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", NEXTWORD_MODELS_DIR=str(models_dir), NEXTWORD_WORKERS="2")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "service/gunicorn.conf.py", "service:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
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
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert "Traceback" not in err, err
