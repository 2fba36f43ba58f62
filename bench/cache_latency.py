"""What the document cache costs one incremental prediction, in the Predictor (no HTTP), side by side.

    .venv/bin/python bench/cache_latency.py --models-dir models-english --text ../shared/data/gutenberg-fiction/valid.txt.xz

A document of --history words is read once (with the cache, and without); then, --requests times, the
next word of the text is read and the top 5 asked for, as a client typing word by word does (with a
prefix every other time). Prints p50 / p99 / mean in ms for: no cache, the version's cache (or the
settings given) as served, and the same cache ranked from the mixed distribution built over the whole
vocabulary (the reference the served path is tested against). One thread, as a gunicorn worker runs.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from model.cache import CacheSettings
from model.checkpoint import load_latest, load_version
from model.evaluation.texts import read_lines
from model.predict import Predictor


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--version-dir", type=Path)
    p.add_argument("--text", type=Path, required=True, help="text to type (.xz read as xz)")
    p.add_argument("--history", type=int, default=2000, help="words read before timing")
    p.add_argument("--requests", type=int, default=1000, help="timed incremental requests")
    p.add_argument("--weight", type=float, help="cache λ (default: the version's settings)")
    p.add_argument("--window", type=int, help="cache W (default: the version's)")
    a = p.parse_args()
    torch.set_num_threads(1)
    loaded = load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir)
    predictor = Predictor(loaded)
    settings = predictor.cache_settings
    overrides = {k: v for k, v in (("weight", a.weight), ("window", a.window)) if v is not None}
    settings = CacheSettings(**{**settings.as_json(), **overrides}) if overrides else settings
    if not settings.enabled:
        settings = CacheSettings()
    words = " ".join(read_lines(a.text, a.history + a.requests + 10)).split()
    history, typed = " ".join(words[: a.history]), words[a.history : a.history + a.requests]
    cache, reference_cache = predictor.new_cache(settings), predictor.new_cache(settings)
    with_cache = predictor.predict(history, 5, cache=cache).state
    reference = predictor.predict(history, 5, cache=reference_cache).state
    without = predictor.predict(history, 5).state
    timings: dict[str, list[float]] = {"no cache": [], "cache": [], "cache, whole mixed distribution": []}
    for i, word in enumerate(typed):
        prefix = word[:1] if i % 2 else None
        t0 = time.perf_counter()
        without = predictor.predict(word, 5, prefix, without).state
        t1 = time.perf_counter()
        with_cache = predictor.predict(word, 5, prefix, with_cache, cache=cache).state
        t2 = time.perf_counter()
        # The reference the served path is tested against: the mixture built over the whole vocabulary.
        ids, spellings = predictor.encode_with_spellings(word)
        reference = predictor.read(ids, reference, reference_cache, spellings)
        predictor.top_from_mixture(predictor.mixed_distribution(reference, reference_cache), 5, prefix)
        t3 = time.perf_counter()
        timings["no cache"].append((t1 - t0) * 1e3)
        timings["cache"].append((t2 - t1) * 1e3)
        timings["cache, whole mixed distribution"].append((t3 - t2) * 1e3)
    print(f"model {loaded.version}; cache {settings}; {len(cache)} pairs held after a {a.history}-word history; "
          f"{len(typed)} requests, alternately with a one-letter prefix")
    print("| path | p50 ms | p99 ms | mean ms |\n|---|---|---|---|")
    for name, values in timings.items():
        print(f"| {name} | {percentile(values, 50):.3f} | {percentile(values, 99):.3f} | {statistics.mean(values):.3f} |")


if __name__ == "__main__":
    main()
