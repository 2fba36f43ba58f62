"""The document cache across requests (service/document_cache.py): token size and latency, in one run.

    .venv/bin/python -m bench.cache_state                 # GRU 1×256 / 7k words and GRU 1×512 / 40k words
    .venv/bin/python -m bench.cache_state --quick         # fewer repeats (a smoke run)

Random-weight models (speed and size only; the weights do not change either), saved as versions with
cache settings (W = 2,000) and served by create_app in this process through Flask's test client, so
the figures are the service's own work without HTTP. The text: 2,000 words drawn from the vocabulary
(Zipf-like) with one in fifty an invented word outside it (so OOV spellings ride in the token).

Prints, per model: the state token's size after 2,000 words with the cache (the recipe) and without
(NWS3); what a token carrying the keys themselves would be (2,000 × H float16, base64); and the median
latency of an incremental request (one new word) without the cache, with it on an LRU hit (the same
worker), on a hit where the snapshot moves (SLACK words re-read), and on a miss (another worker: the
cache rebuilt from the token).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as service/gunicorn.conf.py: else a BLAS thread waits on a busy core

import argparse
import base64
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from model.cache import CacheSettings
from model.checkpoint import load_version, save_version
from model.evaluation.cache_scoring import save_tuned_version
from model.rnn_lm import ModelConfig, RNNLanguageModel
from model.tokenizer import train_tokenizer
from service import create_app, document_cache

HISTORY = 2000
SETTINGS = CacheSettings(weight=0.1, flatness=0.3, window=2000)
MODELS = {"GRU 1x256, 7k words (default size)": (256, 256, 7_000), "GRU 1x512, 40k words": (512, 256, 40_000)}


def invented_words(n: int, rng: np.random.Generator, length: int = 6) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(rng.choice(letters, length)) for _ in range(n)]


def random_version(models_dir: Path, hidden: int, embedding: int, vocab: int, rng: np.random.Generator) -> list[str]:
    """A random-weight GRU with a `vocab`-word vocabulary, saved with SETTINGS; returns its words."""
    words = sorted(set(invented_words(vocab + 500, rng)))[: vocab - 10]
    tokenizer = train_tokenizer([" ".join(words)], vocab_size=vocab, min_frequency=1)
    torch.manual_seed(0)
    model = RNNLanguageModel(ModelConfig(vocab_size=tokenizer.vocab_size, cell="gru", hidden_size=hidden,
                                         embedding_size=embedding)).eval()
    path = save_version(models_dir, model, tokenizer, {}, {})
    save_tuned_version(load_version(path), SETTINGS, {}, models_dir)
    return words


def history(words: list[str], rng: np.random.Generator, n: int) -> list[str]:
    ranks = np.minimum(rng.zipf(1.2, n), len(words)) - 1
    out = [words[r] for r in ranks]
    for i in range(0, n, 50):
        out[i] = "Q" + invented_words(1, rng, 7)[0]  # outside the vocabulary (never a training word)
    return out


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def measure(name: str, hidden: int, embedding: int, vocab: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        models_dir = Path(tmp)
        words = random_version(models_dir, hidden, embedding, vocab, rng)
        config = {"models_dir": models_dir, "reload_interval": 0, "state_secret": "bench-secret-" * 3}
        worker, other = create_app(config).test_client(), create_app(config).test_client()
        text = history(words, rng, HISTORY)

        def post(client, body):
            response = client.post("/v1/predict", json=body)
            assert response.status_code == 200, response.get_json()
            return response.get_json()

        # The history typed in pieces of 50 words (prompts stay small), then the tokens to continue from.
        token = None
        for start in range(0, HISTORY, 50):
            token = post(worker, {"prompt": " ".join(text[start : start + 50]), **({"state": token} if token else {})})["state"]
        plain = post(worker, {"prompt": " ".join(text), "cache": False})["state"]
        print(f"\n## {name}\n")
        print(f"token after {HISTORY:,} words: with the cache {len(token):,} characters; without (NWS3) {len(plain):,}")
        keys = base64.urlsafe_b64encode(bytes(SETTINGS.window * hidden * 2))
        print(f"a token carrying the keys themselves ({SETTINGS.window:,} x {hidden} float16): {len(keys):,} characters")
        new_word = words[3]
        post(worker, {"prompt": new_word, "state": token})  # puts the continuation in the LRU
        # A token whose recipe is full (W + SLACK ids): the next word moves the snapshot.
        ids = len(worker.application.extensions["nextword"].predictor.encode(" ".join(text)))
        fill = SETTINGS.window + document_cache.SLACK - ids
        full = post(worker, {"prompt": " ".join(words[5 : 5 + fill]), "state": token})["state"] if fill > 0 else token
        cases = {
            "no cache (cache: false)": lambda: post(worker, {"prompt": new_word, "state": plain, "cache": False}),
            "cache, LRU hit (same worker)": lambda: post(worker, {"prompt": new_word, "state": token}),
            f"cache, LRU hit moving the snapshot (once per {document_cache.SLACK} words)":
                lambda: post(worker, {"prompt": new_word, "state": full}),
            "cache, miss (rebuilt from the token)": lambda: post(other, {"prompt": new_word, "state": token}),
        }
        other_store = other.application.extensions["nextword_documents"]  # never issued `token`: always a miss
        results = {}
        for label, fn in cases.items():
            fn()  # warm up
            results[label] = median_ms(fn, repeats)
            other_store._entries.clear()  # (the miss case never finds the token there: this only frees memory)
        print(f"(the token's recipe: {ids:,} tokens read; it carries {SETTINGS.window:,} to "
              f"{SETTINGS.window + document_cache.SLACK:,} ids)")
        print("\n| incremental request (1 word) | median ms |\n|---|---|")
        for label, ms in results.items():
            print(f"| {label} | {ms:.2f} |")
        largest = max(size for _, size in worker.application.extensions["nextword_documents"]._entries.values())
        print(f"\nLRU entry: {largest / 1e6:.1f} MB per text ({SETTINGS.window:,} x {hidden} float32 keys)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Token size and latency of the document cache across requests.")
    parser.add_argument("--quick", action="store_true", help="5 repeats instead of 30")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the service's default is 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for name, (hidden, embedding, vocab) in MODELS.items():
        measure(name, hidden, embedding, vocab, 5 if args.quick else 30)


if __name__ == "__main__":
    main()
