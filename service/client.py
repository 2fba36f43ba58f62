"""A small Python client for the nextword API, and a command line on top of it.

    python -m service.client predict "the clouds are in the" -k 5
    python -m service.client predict "I grew up in France. I speak" --prefix fl
    python -m service.client generate "We eat breakfast" --max-words 20 --seed 1
    python -m service.client models
    python -m service.client ready | health | metrics | reload
    python -m service.client batch "the clouds are in the" "She poured milk into her" -k 1

--url (default $NEXTWORD_URL, else http://127.0.0.1:8000) picks the service; --json prints the
raw answer. An error prints the API's status, code and message and exits 1 (3 when the service
cannot be reached).

In Python:

    client = Client("http://127.0.0.1:8000")
    first = client.predict("I grew up in France. I speak", k=3)
    more = client.predict("fluent", k=3, state=first["state"])   # only the new words
    client.generate("Once upon a time", max_words=30, seed=1)["text"]
    doc = Document(client, k=3)                 # or let it keep the token, as the page does:
    doc.suggest("I grew up in France. I speak fl")   # send the whole text each time; it sends
                                                     # the new words, and all of it when the token is stale

Methods return the API's JSON as dicts. Every failure is a NextwordError carrying `status`, `code`
and `message`: the API's own for an error answer; `status` None and code "unreachable" or
"timeout" when no answer came. Only connection failures are retried (a bounded number of times,
with exponential backoff): a 4xx says the request itself is wrong and would fail again, and a
request that reached the server and timed out is not resent behind the caller's back.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any

import requests

DEFAULT_URL = "http://127.0.0.1:8000"


class NextwordError(Exception):
    """An error answer from the API, or no answer at all (status None)."""

    def __init__(self, status: int | None, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if status is None else f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Client:
    """One method per endpoint; one `requests.Session` (kept-alive connections) per client.

    timeout: seconds to connect and to wait for the answer (predict answers in tens of ms; a
    long generate on a busy server may take a few seconds). retries: extra tries after a
    connection failure, waiting backoff, 2×backoff, 4×backoff… seconds in between.
    """

    def __init__(self, url: str | None = None, timeout: float = 10.0, retries: int = 3, backoff: float = 0.25,
                 admin_token: str | None = None) -> None:
        self.url = (url or os.environ.get("NEXTWORD_URL") or DEFAULT_URL).rstrip("/")
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.admin_token = admin_token if admin_token is not None else os.environ.get("NEXTWORD_ADMIN_TOKEN")
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def predict(self, prompt: str, k: int = 5, prefix: str | None = None, state: str | None = None,
                cache: bool | None = None, exclude: list[str] | None = None) -> dict:
        """{"predictions": [{"word", "probability"}], "state", "model"}. With `state`, `prompt`
        holds only the text after the one that state came from ("" asks again at that point).
        cache=False: the model alone, without the document cache (None: the service's default).
        exclude: words not to predict (those shown for the word being typed and passed over)."""
        return self._json("POST", "/v1/predict", _without_none(prompt=prompt, k=k, prefix=prefix, state=state,
                                                               cache=cache, exclude=exclude or None))

    def predict_batch(self, prompts: list[str], k: int = 5) -> dict:
        """{"results": [{"predictions", "state"}], "model"}, in the order of `prompts`."""
        return self._json("POST", "/v1/predict", {"prompts": list(prompts), "k": k})

    def generate(self, prompt: str, max_words: int = 20, temperature: float = 1.0, top_k: int | None = None,
                 seed: int | None = None, state: str | None = None) -> dict:
        """{"text", "words", "seed", "model"}; the same seed gives the same text."""
        body = _without_none(prompt=prompt, max_words=max_words, temperature=temperature, top_k=top_k, seed=seed,
                             state=state)
        return self._json("POST", "/v1/generate", body)

    def models(self) -> dict:
        return self._json("GET", "/v1/models")

    def health(self) -> dict:
        return self._json("GET", "/healthz")

    def ready(self) -> dict:
        return self._json("GET", "/readyz")

    def metrics(self) -> str:
        """The Prometheus text exposition."""
        return self._request("GET", "/metrics").text

    def openapi(self) -> dict:
        return self._json("GET", "/openapi.json")

    def reload(self, token: str | None = None) -> dict:
        """Ask the worker that answers to look for a newer model now: {"model", "changed", "previous"}."""
        token = token if token is not None else self.admin_token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self._json("POST", "/v1/admin/reload", headers=headers)

    # -- transport ---------------------------------------------------------------------------

    def _json(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> Any:
        response = self._request(method, path, body, headers)
        try:
            return response.json()
        except ValueError:
            raise NextwordError(response.status_code, "not_json", f"{path} did not answer JSON") from None

    def _request(self, method: str, path: str, body: dict | None = None,
                 headers: dict | None = None) -> requests.Response:
        url = self.url + path
        for attempt in range(self.retries + 1):
            try:
                response = self.session.request(method, url, json=body, headers=headers, timeout=self.timeout)
                break
            except requests.ConnectionError as e:
                # Covers refused and timed-out connects: nothing reached the service, so a retry is safe.
                if attempt == self.retries:
                    raise NextwordError(None, "unreachable",
                                        f"cannot reach {self.url} after {attempt + 1} tries: {_reason(e)}") from e
                time.sleep(self.backoff * 2**attempt)
            except requests.Timeout as e:
                raise NextwordError(None, "timeout", f"{method} {url}: no answer within {self.timeout} s") from e
        if not response.ok:
            raise _api_error(response)
        return response


# Answers that mean the state token is no good any more (another model version, older than the
# service accepts, or signed by a server with another secret): the whole text is sent again.
STALE_STATE = frozenset({"state_model_mismatch", "state_expired", "invalid_state"})


# The word being typed at the end of a text, as the page finds it: letters, digits, marks and inner apostrophes.
WORD_AT_END = re.compile(r"[\w\u0300-\u036f]+(?:['’][\w\u0300-\u036f]*)*$")


class Document:
    """A text being typed, sent as the page sends it: `suggest(text)` takes the whole text so far; the
    word at its end is the prefix being completed, the text before it is read. Only what was added
    since the last answer is sent, with the token of the last answer whose text ended at whitespace (a
    word cut in two would read as two words), while the text still starts with what that token stands
    for; after an edit to earlier text, or an answer that the token is stale (STALE_STATE), the whole
    text is sent once more (`resent` counts those).

        doc = Document(Client(), k=3)
        doc.suggest("I grew up in France. I speak fl")   # the whole text, the first time
        doc.suggest("I grew up in France. I speak fluent ")  # only "fluent ", with the token
    """

    def __init__(self, client: Client, k: int = 5, cache: bool | None = None) -> None:
        self.client, self.k, self.cache = client, k, cache
        self.read = ""  # the text the kept token stands for
        self.state: str | None = None
        self.resent = 0

    def suggest(self, text: str, exclude: list[str] | None = None) -> dict:
        """The API's predict answer after `text` (the words passed over for the word being typed in
        `exclude`). A text with no word before the one being typed: the API's 422 empty_prompt."""
        typed = WORD_AT_END.search(re.search(r"\S*$", text).group())
        prefix = typed.group() if typed else ""
        read = text[: len(text) - len(prefix)]
        incremental = self.state is not None and read.startswith(self.read)
        try:
            answer = self.client.predict(read[len(self.read):] if incremental else read, self.k, prefix or None,
                                         self.state if incremental else None, self.cache, exclude)
        except NextwordError as e:
            if not incremental or e.code not in STALE_STATE:
                raise
            self.resent += 1
            self.read, self.state = "", None
            answer = self.client.predict(read, self.k, prefix or None, None, self.cache, exclude)
        if read[-1:].isspace():
            self.read, self.state = read, answer["state"]
        return answer


def _without_none(**fields) -> dict:
    return {k: v for k, v in fields.items() if v is not None}


def _api_error(response: requests.Response) -> NextwordError:
    try:
        error = response.json()["error"]
        return NextwordError(response.status_code, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):  # not the API's shape: a proxy in between, say
        text = " ".join(response.text.split())[:200]
        return NextwordError(response.status_code, "http_error", text or response.reason or "no message")


def _reason(e: Exception) -> str:
    # requests nests the socket error a few levels deep; its last line is the readable part.
    text = str(e)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if marker in text:
            return marker
    return text[:200]


# -- command line ----------------------------------------------------------------------------


def _bar(probability: float, width: int = 20) -> str:
    block = "█" if (sys.stdout.encoding or "").lower().replace("-", "").startswith("utf") else "#"
    return block * max(1, round(probability * width)) if probability > 0 else ""


def _show_predictions(predictions: list[dict], indent: str = "  ") -> None:
    if not predictions:
        print(f"{indent}(no word matches)")
    width = max((len(p["word"]) for p in predictions), default=0)
    for p in predictions:
        print(f"{indent}{p['word']:<{width}}  {p['probability'] * 100:6.2f}%  {_bar(p['probability'])}".rstrip())


def _show(command: str, answer: Any, args: argparse.Namespace) -> None:
    if command == "predict":
        _show_predictions(answer["predictions"])
        print(f"model {answer['model']}")
    elif command == "batch":
        for prompt, result in zip(args.prompts, answer["results"]):
            print(prompt)
            _show_predictions(result["predictions"])
        print(f"model {answer['model']}")
    elif command == "generate":
        print(answer["text"])
        print(f"({len(answer['words'])} tokens, seed {answer['seed']}, model {answer['model']})")
    elif command == "models":
        config, metrics = answer["config"], answer["metrics"]
        rows = [("model", answer["model"]),
                ("network", f"{config.get('cell')}, {config.get('num_layers')} × {config.get('hidden_size')} hidden, "
                            f"{config.get('vocab_size')} words")]
        if "parameters" in metrics:
            rows.append(("parameters", f"{metrics['parameters']:,}"))
        if "best_valid_perplexity" in metrics:
            rows.append(("perplexity", f"{metrics['best_valid_perplexity']} validation, "
                                       f"{metrics.get('test_perplexity', '?')} test"))
        if "train_seconds" in metrics:
            rows.append(("trained", f"{metrics['train_seconds']} s"))
        rows.append(("on disk", ", ".join(answer["available"])))
        for name, value in rows:
            print(f"{name:<11} {value}")
    elif command == "reload":
        verdict = f"now serving {answer['model']}" if answer["changed"] else f"still serving {answer['model']}"
        print(f"{verdict} (was {answer['previous']})")
    elif command == "metrics":
        print(answer, end="")
    else:  # health, ready
        print(f"{answer['status']}: model {answer['model']}")


def _parser() -> argparse.ArgumentParser:
    # The shared options work before or after the command; SUPPRESS keeps a subcommand's
    # unset option from overwriting one given before it.
    def shared(defaults: bool) -> argparse.ArgumentParser:
        p = argparse.ArgumentParser(add_help=False)
        default = (lambda value: value) if defaults else (lambda value: argparse.SUPPRESS)
        p.add_argument("--url", default=default(None),
                       help=f"the service (default: $NEXTWORD_URL, else {DEFAULT_URL})")
        p.add_argument("--json", action="store_true", default=default(False), help="print the raw JSON answer")
        p.add_argument("--timeout", type=float, default=default(10.0), help="seconds to wait for an answer")
        p.add_argument("--retries", type=int, default=default(3), help="extra tries when the connection fails")
        return p

    parser = argparse.ArgumentParser(prog="python -m service.client", parents=[shared(True)],
                                     description="Ask a running nextword service.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = shared(False)

    p = commands.add_parser("predict", parents=[common], help="the next words after a prompt")
    p.add_argument("prompt", help="the text so far (with --state: only the new text)")
    p.add_argument("-k", type=int, default=5, help="how many words (1-50)")
    p.add_argument("--prefix", help="only words starting with this (the word being typed)")
    p.add_argument("--state", help="a state token from an earlier --json answer: continue from there")
    p.add_argument("--no-cache", dest="cache", action="store_false", default=None,
                   help="the model alone, without the version's document cache")
    p.add_argument("--exclude", nargs="+", metavar="WORD", help="words not to predict (passed over)")

    p = commands.add_parser("batch", parents=[common], help="the next words after each of several prompts")
    p.add_argument("prompts", nargs="+", help="up to 64 prompts")
    p.add_argument("-k", type=int, default=5, help="how many words per prompt (1-50)")

    p = commands.add_parser("generate", parents=[common], help="continue a prompt by sampling")
    p.add_argument("prompt", help="the text to continue")
    p.add_argument("--max-words", type=int, default=20, help="tokens to generate, punctuation included (1-200)")
    p.add_argument("--temperature", type=float, default=1.0, help="below 1: safer words; above 1: more varied")
    p.add_argument("--top-k", type=int, help="sample among the k likeliest tokens only")
    p.add_argument("--seed", type=int, help="same seed, same text (omitted: drawn and printed)")

    commands.add_parser("models", parents=[common], help="the served model, its architecture and scores")
    commands.add_parser("health", parents=[common], help="is the service alive")
    commands.add_parser("ready", parents=[common], help="is a model loaded")
    commands.add_parser("metrics", parents=[common], help="the Prometheus metrics")
    p = commands.add_parser("reload", parents=[common], help="look for a newer model version now (admin)")
    p.add_argument("--token", help="the admin token (default: $NEXTWORD_ADMIN_TOKEN)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    client = Client(args.url, timeout=args.timeout, retries=args.retries)
    calls = {
        "predict": lambda: client.predict(args.prompt, args.k, args.prefix, args.state, args.cache, args.exclude),
        "batch": lambda: client.predict_batch(args.prompts, args.k),
        "generate": lambda: client.generate(args.prompt, args.max_words, args.temperature, args.top_k, args.seed),
        "models": client.models,
        "health": client.health,
        "ready": client.ready,
        "metrics": client.metrics,
        "reload": lambda: client.reload(args.token),
    }
    try:
        answer = calls[args.command]()
    except NextwordError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1 if e.status is not None else 3
    finally:
        client.close()
    if args.json and args.command != "metrics":
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        _show(args.command, answer, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
