"""service/client.py against a live server (a werkzeug thread on 127.0.0.1, the tiny model):
every method, errors as NextwordError with the API's status, code and message, retries only on
connection failures, and the CLI through a subprocess."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from service import create_app
from service.client import Client, Document, NextwordError

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token"


@pytest.fixture(scope="module")
def url(tiny_models_dir) -> Iterator[str]:
    app = create_app({"models_dir": tiny_models_dir, "reload_interval": 0, "admin_token": ADMIN_TOKEN})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture()
def client(url, monkeypatch) -> Iterator[Client]:
    monkeypatch.delenv("NEXTWORD_ADMIN_TOKEN", raising=False)
    with Client(url, timeout=10) as c:
        yield c


def count_requests(client: Client) -> list[str]:
    """Record each HTTP attempt the client makes (retries included)."""
    attempts: list[str] = []
    send = client.session.request

    def counted(method, url, **kwargs):
        attempts.append(f"{method} {url}")
        return send(method, url, **kwargs)

    client.session.request = counted
    return attempts


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed on exit: nothing listens there


def test_predict_prefix_and_state(client):
    answer = client.predict("the clouds are in the", k=3)
    assert answer["predictions"][0]["word"] == "sky" and len(answer["predictions"]) == 3
    assert answer["model"] == client.ready()["model"]

    completed = client.predict("She poured milk into her", k=3, prefix="t")
    assert completed["predictions"][0]["word"] == "tea"
    assert all(p["word"].lower().startswith("t") for p in completed["predictions"])
    passed_over = client.predict("She poured milk into her", k=2, prefix="t", exclude=["TEA"])
    assert [p["word"] for p in passed_over["predictions"]] == [p["word"] for p in completed["predictions"][1:3]]

    whole = client.predict("I grew up in France. I speak fluent", k=3)
    first = client.predict("I grew up in France. I speak", k=3)
    continued = client.predict("fluent", k=3, state=first["state"])
    assert [p["word"] for p in continued["predictions"]] == [p["word"] for p in whole["predictions"]]
    assert continued["predictions"][0]["word"] == "French"
    for a, b in zip(continued["predictions"], whole["predictions"]):
        assert abs(a["probability"] - b["probability"]) < 1e-4


def sent_bodies(client: Client) -> list[dict]:
    """Record the JSON body of each request the client sends."""
    bodies: list[dict] = []
    send = client.session.request

    def recorded(method, url, **kwargs):
        bodies.append(kwargs.get("json"))
        return send(method, url, **kwargs)

    client.session.request = recorded
    return bodies


def test_a_document_sends_only_the_new_words_and_answers_as_the_whole_text(client):
    doc = Document(client, k=3)
    bodies = sent_bodies(client)
    doc.suggest("I grew up in France. I speak fl")
    assert bodies[-1] == {"prompt": "I grew up in France. I speak ", "k": 3, "prefix": "fl"}
    answer = doc.suggest("I grew up in France. I speak fluent ")
    assert bodies[-1] == {"prompt": "fluent ", "k": 3, "state": bodies[-1]["state"]} and bodies[-1]["state"]
    whole = client.predict("I grew up in France. I speak fluent", k=3)
    assert [p["word"] for p in answer["predictions"]] == [p["word"] for p in whole["predictions"]] != []
    assert answer["predictions"][0]["word"] == "French"
    # A text that ends inside a word or on punctuation: its token is not kept (a word cut in two would
    # read as two words), the next answer still continues from "...fluent ".
    kept = doc.state
    doc.suggest("I grew up in France. I speak fluent French.")
    assert bodies[-1] == {"prompt": "French.", "k": 3, "state": kept} and doc.state == kept
    doc.suggest("I grew up in France. I speak fluent French. It")
    assert bodies[-1] == {"prompt": "French. ", "k": 3, "state": kept, "prefix": "It"}
    # An edit to earlier text: the token no longer stands for its start, so the whole text goes.
    doc.suggest("I grew up in Spain. I speak fluent ")
    assert bodies[-1] == {"prompt": "I grew up in Spain. I speak fluent ", "k": 3}
    assert doc.resent == 0


def test_a_document_whose_token_is_stale_sends_the_whole_text_once_more(client):
    doc = Document(client, k=3)
    doc.suggest("the clouds are ")
    doc.state = doc.state[:-8] + ("A" if doc.state[-8] != "A" else "B") + doc.state[-7:]  # as a restarted server sees it
    bodies = sent_bodies(client)
    answer = doc.suggest("the clouds are in the ")
    assert [b.get("state") is not None for b in bodies] == [True, False]  # refused (422 invalid_state), then whole
    assert bodies[-1]["prompt"] == "the clouds are in the " and doc.resent == 1
    assert answer["predictions"][0]["word"] == "sky"
    with pytest.raises(NextwordError) as refused:  # any other error is the caller's to see
        Document(client).suggest("Fr")
    assert (refused.value.status, refused.value.code) == (422, "empty_prompt")


def test_batch_and_generate(client):
    batch = client.predict_batch(["the clouds are in the", "She poured milk into her"], k=1)
    assert [r["predictions"][0]["word"] for r in batch["results"]] == ["sky", "tea"]
    assert all(r["state"] for r in batch["results"])

    one = client.generate("We eat breakfast", max_words=8, seed=1)
    again = client.generate("We eat breakfast", max_words=8, seed=1)
    assert one["seed"] == 1 and one["text"] and one["text"] == again["text"] and 0 < len(one["words"]) <= 8


def test_about_the_service(client):
    version = client.health()["model"]
    assert client.ready() == {"status": "ok", "model": version}
    info = client.models()
    assert info["model"] == version and version in info["available"] and info["config"]["cell"]
    assert "nextword_requests_total" in client.metrics()
    assert "/v1/predict" in client.openapi()["paths"]


def test_admin_reload_with_and_without_the_token(client):
    assert client.reload(ADMIN_TOKEN) == {"model": client.ready()["model"], "changed": False,
                                          "previous": client.ready()["model"]}
    with pytest.raises(NextwordError) as missing:
        client.reload()
    assert (missing.value.status, missing.value.code) == (401, "unauthorized")
    with pytest.raises(NextwordError) as wrong:
        client.reload("not-the-token")
    assert (wrong.value.status, wrong.value.code, wrong.value.message) == (403, "forbidden", "the admin token is wrong")


def test_an_api_error_is_raised_with_its_code_and_message_and_never_retried(client):
    attempts = count_requests(client)
    with pytest.raises(NextwordError) as bad_k:
        client.predict("the clouds", k=0)
    assert bad_k.value.status == 422 and bad_k.value.code == "invalid_request"
    assert bad_k.value.message == "k: Input should be greater than or equal to 1"
    assert len(attempts) == 1
    with pytest.raises(NextwordError) as bad_state:
        client.predict("more words", state="bm90LWEtdG9rZW4")
    assert (bad_state.value.status, bad_state.value.code) == (422, "invalid_state")
    assert len(attempts) == 2


def test_connection_refused_is_retried_then_raised():
    client = Client(f"http://127.0.0.1:{closed_port()}", timeout=2, retries=2, backoff=0.05)
    attempts = count_requests(client)
    start = time.monotonic()
    with pytest.raises(NextwordError) as refused:
        client.health()
    elapsed = time.monotonic() - start
    assert len(attempts) == 3  # the first try and two retries
    assert refused.value.status is None and refused.value.code == "unreachable"
    assert "after 3 tries" in refused.value.message and "Connection refused" in refused.value.message
    assert 0.05 + 0.1 <= elapsed < 5  # the two backoff waits, and no more


def test_no_answer_in_time_is_a_timeout_and_not_resent():
    with socket.socket() as listener:  # accepts connections (the backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        client = Client(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3, retries=3)
        attempts = count_requests(client)
        with pytest.raises(NextwordError) as late:
            client.predict("the clouds are in the")
    assert late.value.code == "timeout" and late.value.status is None and len(attempts) == 1


def run_cli(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NEXTWORD_URL", "NEXTWORD_ADMIN_TOKEN")}
    if url:
        env["NEXTWORD_URL"] = url
    return subprocess.run([sys.executable, "-m", "service.client", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_prints_readable_and_json_answers(url):
    predicted = run_cli("predict", "the clouds are in the", "-k", "3", url=url)  # the URL from $NEXTWORD_URL
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0].split()[0] == "sky" and lines[0].split()[1].endswith("%") and len(lines) == 4
    assert lines[-1].startswith("model ")

    generated = run_cli("--url", url, "generate", "We eat breakfast", "--max-words", "8", "--seed", "1", "--json")
    assert generated.returncode == 0, generated.stderr
    assert json.loads(generated.stdout)["text"] == Client(url).generate("We eat breakfast", max_words=8, seed=1)["text"]

    models = run_cli("models", "--url", url)  # shared options also after the command
    assert models.returncode == 0 and models.stdout.startswith("model ") and "network" in models.stdout


def test_cli_errors_exit_non_zero_with_the_message(url):
    bad = run_cli("predict", "", url=url)
    assert bad.returncode == 1 and bad.stdout == ""
    assert "422 empty_prompt: prompt: give at least one word" in bad.stderr

    start = time.monotonic()
    down = run_cli("--url", f"http://127.0.0.1:{closed_port()}", "health", "--retries", "1")
    assert down.returncode == 3 and "unreachable: cannot reach" in down.stderr and "Traceback" not in down.stderr
    assert time.monotonic() - start < 30
