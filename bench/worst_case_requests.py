"""The slowest requests the API accepts, timed in-process: each must finish far inside gunicorn's
30 s worker timeout.

    .venv/bin/python bench/worst_case_requests.py --models-dir models

Prints the best of three for: a prompt at the 20,000-character limit, a batch of 64 prompts that
fills the 64 KiB body limit, and 200 generated words with and without a maximal prompt. One torch
thread, as a gunicorn worker has.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from service import create_app
from service.schemas import MAX_BATCH, MAX_GENERATE_WORDS, MAX_PROMPT_CHARS

ROOT = Path(__file__).resolve().parent.parent


def text_of(chars: int, words: list[str], rng: random.Random) -> str:
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < chars:
        out.append(rng.choice(words))
    return " ".join(out)[:chars]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models-dir", type=Path, default=ROOT / "models")
    a = p.parse_args()
    app = create_app({"models_dir": a.models_dir, "reload_interval": 0, "torch_threads": 1})
    client = app.test_client()
    words = (ROOT / "corpus" / "probes" / "heldout_filler.txt").read_text().split()
    rng = random.Random(0)
    per_prompt = (app.config["MAX_CONTENT_LENGTH"] - 1024) // MAX_BATCH - 8  # JSON quotes and commas
    cases = {
        f"predict, {MAX_PROMPT_CHARS:,}-character prompt": ("/v1/predict", {"prompt": text_of(MAX_PROMPT_CHARS, words, rng)}),
        f"batch of {MAX_BATCH} prompts": (
            "/v1/predict", {"prompts": [text_of(per_prompt, words, rng) for _ in range(MAX_BATCH)]}),
        f"generate {MAX_GENERATE_WORDS} words": ("/v1/generate", {"prompt": "the", "max_words": MAX_GENERATE_WORDS, "seed": 1}),
        f"generate {MAX_GENERATE_WORDS} words after a maximal prompt": (
            "/v1/generate", {"prompt": text_of(MAX_PROMPT_CHARS, words, rng), "max_words": MAX_GENERATE_WORDS, "seed": 1}),
    }
    print(f"model {client.get('/readyz').get_json()['model']}\n")
    print("| request | body bytes | best of 3 |\n|---|---|---|")
    for name, (route, body) in cases.items():
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            response = client.post(route, json=body)
            timings.append(time.perf_counter() - start)
            if response.status_code != 200:
                sys.exit(f"{name}: {response.status_code} {response.get_json()}")
        extra = f" ({len(response.get_json().get('words', []))} words)" if route == "/v1/generate" else ""
        print(f"| {name}{extra} | {len(json.dumps(body)):,} | {min(timings) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
