"""Perplexity with the document cache, computed for whole texts at once, and the tuning of λ, θ and W.

    python -m model.evaluation.cache_scoring --version-dir models-english/V \\
        --tune data/english/valid.txt --passages --save       # a new version with cache.json
    python -m model.evaluation.cache_scoring --version-dir models-english/V \\
        --score WIKITEXT/test.txt --per-article               # make evaluate-text names the file

The cache (model/cache.py) is defined position by position, as the service reads a document; scoring
a 250k-token text that way would take an hour in Python. Here the same quantities come from matrix
products over blocks of positions: the model runs once over each passage, its top-layer outputs
h_t (T, H) are kept, and for a block of queries the scores θ h_t · h_i against the W outputs before
each one are one (block, W + block) product, masked to i ∈ [t - W, t - 1]. tests/test_cache.py checks it
against DocumentCache, one position at a time.

Counting: as model.evaluation.scoring, every token of a passage but its first is predicted, <unk>
and <eos> included; the cache counts <unk> as a word here (the vocabulary's own tokens, as the
published cache results do). A passage is a document: the cache starts empty at each one.

Tuning (`--tune`): for each (θ, W) of a grid the cache's probability of every target is computed
once; λ is then a one-dimensional search over the stored probabilities. Only validation text is
ever given to it (WikiText-2 valid, Gutenberg valid): never a test set.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.cache import CACHE_FILE, CacheSettings, cache_share, load_settings
from model.checkpoint import LoadedModel, load_latest, load_version, save_version
from model.evaluation.texts import read_lines, split_articles
from model.ngram import NGRAM_FILE, KneserNeyLM, load_version_ngram
from model.rnn_lm import RNNLanguageModel
from model.training.data import encode_passages, read_passages

BLOCK = 512  # queries per matrix product
WEIGHTS = tuple(round(float(x), 3) for x in np.arange(0.0, 0.91, 0.025))  # floats: settings print and save plainly
ENTROPY_GRID = (0.0, 2.0, 3.0, 4.0, 6.0)  # S of CacheSettings.entropy_scale; 0: a fixed λ
FLATNESS_GRID = (0.05, 0.1, 0.2, 0.3, 0.5)
# W stops at 2,000: on the english model's validation split W = 4,000 lowered perplexity by 0.1% more
# (44.04 against 44.09) for twice the memory per document and twice the rebuild time in the service.
WINDOW_GRID = (500, 1000, 2000)
# N of CacheSettings.ramp_pairs (0: the full share from the first pair). Not tuned unless asked (--ramp-grid): on the
# english validation split N 640 lowered perplexity 38.93 → 38.42 but recalled fewer last words of short passages
# (the LAMBADA-like proxy, top-1 0.192 → 0.128): a document cache is there to recall the user's words.
RAMP_GRID = (0,)
# μ of CacheSettings.ngram_weight, where the version has an n-gram model (model/ngram.py) to blend in.
NGRAM_GRID = (0.0, 0.1, 0.2, 0.3, 0.4)


def pairs_in_use(targets: int, window: int, skip_latest: bool) -> np.ndarray:
    """(targets,) the pairs a DocumentCache uses before each target of a passage: none before the first
    (the passage's second token), one more per token read, at most W, less the latest with skip_latest."""
    return np.maximum(np.minimum(np.arange(targets), window) - int(skip_latest), 0)


@dataclass
class PassageOutputs:
    hidden: np.ndarray  # (N, H) float32: h_t, the output after token t, for t = 0 .. T-2
    targets: np.ndarray  # (N,) int64: token t + 1, what h_t predicts
    model_probs: np.ndarray  # (N,) float64: the model's probability of each target
    entropy: np.ndarray  # (N,) float64: the entropy (nats) of the model's whole next-word distribution


@torch.inference_mode()
def passage_outputs(model: RNNLanguageModel, ids: list[int], chunk: int = 1000) -> PassageOutputs:
    """Run the model over one passage from the zero state, in chunks with the state carried."""
    model.eval()
    hidden, probs, entropies = [], [], []
    state = None
    tokens = torch.tensor([ids], dtype=torch.long)  # (1, T)
    for start in range(0, len(ids) - 1, chunk):
        x = tokens[:, start : start + chunk]
        y = tokens[:, start + 1 : start + 1 + chunk]
        out, state = model.encode(x, state)  # (1, n, H)
        out = out[:, : y.size(1)]  # the last chunk's last input predicts nothing
        nll, _ = model.target_nll(out, y)
        hidden.append(out[0].numpy().copy())
        probs.append(np.exp(-nll.double().numpy()))
        log_probs = model.log_probs(out[0]).double()  # (n, V)
        entropies.append(-(log_probs.exp() * log_probs).sum(-1).numpy())
    return PassageOutputs(np.concatenate(hidden), np.asarray(ids[1:], dtype=np.int64), np.concatenate(probs),
                          np.concatenate(entropies))


def cache_probs(outputs: PassageOutputs, flatness: float, window: int, block: int = BLOCK,
                skip_latest: bool = False) -> np.ndarray:
    """(N,) the cache's probability of each target, NaN where the cache has no pair in use yet (the first
    position; the first two with skip_latest, CacheSettings)."""
    return cache_probs_grid(outputs, (flatness,), (window,), block, skip_latest)[flatness, window]


def cache_probs_grid(outputs: PassageOutputs, flatnesses, windows, block: int = BLOCK,
                     skip_latest: bool = False) -> dict[tuple[float, int], np.ndarray]:
    """cache_probs for every (θ, W) of a grid, the dot products h_t · h_i computed once for the largest W."""
    hidden, targets = outputs.hidden, outputs.targets
    n, widest = len(targets), max(windows)
    result = {(f, w): np.full(n, np.nan) for f in flatnesses for w in windows}
    for a in range(0, n, block):
        b = min(a + block, n)
        lo = max(0, a - widest)
        if b - 1 <= lo:
            continue  # a == 0 and b == 1: one query, no earlier pair
        dots = (hidden[a:b] @ hidden[lo : b - 1].T).astype(np.float64)  # (L, M): entries i = lo .. b-2
        age = np.arange(a, b)[:, None] - np.arange(lo, b - 1)[None, :]  # t - i
        match = targets[lo : b - 1][None, :] == targets[a:b, None]
        for window in windows:
            allowed = (age >= 1 + skip_latest) & (age <= window)  # the pair i = t - 1 left out with skip_latest
            has = allowed.any(axis=1)
            for flatness in flatnesses:
                scores = np.where(allowed, flatness * dots, -np.inf)
                top = np.where(has, scores.max(axis=1), 0.0)[:, None]
                weights = np.exp(scores - top)
                weights /= np.where(has, weights.sum(axis=1), 1.0)[:, None]
                result[flatness, window][a:b] = np.where(has, (weights * match).sum(axis=1), np.nan)
    return result


def ngram_target_probs(ngram: KneserNeyLM | None, ids: list[int]) -> np.ndarray:
    """(N,) the n-gram model's probability of each target of a passage as the Predictor blends it in
    (Predictor.with_ngram): its context the words a DocumentCache holds, which start at the passage's
    second token (the first adds no pair). NaN before the second target, where the cache holds no pair
    in use, and everywhere without a model."""
    probs = np.full(len(ids) - 1, np.nan)
    if ngram is not None and len(ids) > 2:
        probs[1:] = ngram.target_probabilities([list(ids[1:])])
    return probs


def with_ngram(model_probs: np.ndarray, ngram_probs: np.ndarray, cached: np.ndarray, weight: float) -> np.ndarray:
    """p_model of each target with the n-gram blended in at μ = weight where the cache is in use (else the
    recurrent model's alone, as the Predictor does)."""
    if weight <= 0:
        return model_probs
    return np.where(np.isnan(cached), model_probs, (1 - weight) * model_probs + weight * np.nan_to_num(ngram_probs))


def mixed_log_likelihood(model_probs: np.ndarray, cached: np.ndarray, weight) -> float:
    """Σ log p over targets with the cache mixed in at λ = weight, a number or one per target (the model
    alone where the cache is empty)."""
    mixed = np.where(np.isnan(cached), model_probs, (1 - weight) * model_probs + weight * np.nan_to_num(cached))
    return float(np.log(np.maximum(mixed, 1e-300)).sum())


def text_passages(loaded: LoadedModel, path: Path, per_article: bool = False, passages: bool = False) -> list[list[int]]:
    """A text's documents, encoded as in training: WikiText articles (per_article), the blank-line separated
    passages of a corpus split (passages), or else the whole file as one."""
    if passages:
        documents = read_passages(path)
    else:
        lines = read_lines(path)
        documents = split_articles(lines) if per_article else [lines]
    return [p for p in encode_passages(loaded.tokenizer, documents) if len(p) > 1]


def score_with_cache(loaded: LoadedModel, path: Path, settings: CacheSettings, per_article: bool = False,
                     passages: bool = False) -> dict:
    """Perplexity of a text with and without the cache (and the n-gram blend, where the settings give it a
    weight: Predictor.with_ngram), same model, same tokens."""
    plain = cached = 0.0
    count = 0
    ngram = load_version_ngram(loaded.path) if settings.ngram_weight > 0 else None
    if settings.ngram_weight > 0 and ngram is None:
        raise ValueError(f"{loaded.path} has no n-gram model to blend in at ngram_weight {settings.ngram_weight}")
    for ids in text_passages(loaded, path, per_article, passages):
        out = passage_outputs(loaded.model, ids)
        plain += float(np.log(np.maximum(out.model_probs, 1e-300)).sum())
        in_cache = cache_probs(out, settings.flatness, settings.window, skip_latest=settings.skip_latest)
        model_probs = with_ngram(out.model_probs, ngram_target_probs(ngram, ids), in_cache, settings.ngram_weight)
        cached += mixed_log_likelihood(model_probs, in_cache,
                                       cache_share(settings, out.entropy,
                                                   pairs_in_use(len(out.targets), settings.window, settings.skip_latest)))
        count += len(out.targets)
    without, with_cache = math.exp(-plain / count), math.exp(-cached / count)
    return {"path": str(path), "tokens": count, "per_article": per_article, "settings": settings.as_json(),
            "perplexity_without_cache": round(without, 3), "perplexity_with_cache": round(with_cache, 3),
            "reduction": round(1 - with_cache / without, 4)}


def tune(loaded: LoadedModel, paths: list[Path], per_article: bool = False, max_tokens: int = 0, passages: bool = False,
         ngram: KneserNeyLM | None = None, **grid) -> dict:
    """The (λ, θ, W) of the grid with the lowest perplexity on the given validation texts (and μ, with an n-gram)."""
    documents = [p for path in paths for p in text_passages(loaded, path, per_article, passages)]
    result = tune_passages(loaded.model, documents, max_tokens=max_tokens, ngram=ngram, **grid)
    return {**result, "paths": [str(p) for p in paths], "per_article": per_article, "passages": passages}


def tune_passages(model: RNNLanguageModel, passages: list[list[int]], flatness_grid=FLATNESS_GRID,
                  window_grid=WINDOW_GRID, weights=WEIGHTS, max_tokens: int = 0, entropy_grid=ENTROPY_GRID,
                  skip_latest: bool = True, ramp_grid=RAMP_GRID, ngram: KneserNeyLM | None = None,
                  ngram_grid=NGRAM_GRID) -> dict:
    """tune over encoded passages (the trainer's validation split; at most max_tokens of them). The latest
    pair is left out unless skip_latest is False (model/cache.py: lower perplexity on validation). With an
    n-gram model, its weight μ is tuned with the rest (the grid's rows at μ 0 are the cache alone)."""
    outputs, ngram_probs, total = [], [], 0
    for ids in passages:
        if max_tokens and total >= max_tokens:
            break
        ids = ids[: max_tokens - total + 1] if max_tokens else ids
        if len(ids) > 1:
            outputs.append(passage_outputs(model, ids))
            ngram_probs.append(ngram_target_probs(ngram, ids))
            total += len(outputs[-1].targets)
    if not total:
        raise ValueError("no text to tune the cache on")
    # All passages' targets side by side: each setting is then one vectorised sum.
    model_probs = np.concatenate([o.model_probs for o in outputs])
    ngram_all = np.concatenate(ngram_probs)
    mus = tuple(ngram_grid) if ngram is not None else (0.0,)
    entropies = np.concatenate([o.entropy for o in outputs])
    plain = -float(np.log(np.maximum(model_probs, 1e-300)).sum()) / total
    per_passage = [cache_probs_grid(o, flatness_grid, window_grid, skip_latest=skip_latest) for o in outputs]
    rows = []
    for window in window_grid:
        pairs = np.concatenate([pairs_in_use(len(o.targets), window, skip_latest) for o in outputs])
        for flatness in flatness_grid:
            cached = np.concatenate([c[flatness, window] for c in per_passage])
            for mu in mus:
                blended = with_ngram(model_probs, ngram_all, cached, mu)
                for scale in entropy_grid:
                    for ramp in ramp_grid:
                        for weight in weights:
                            s = CacheSettings(weight=weight, flatness=flatness, window=window, entropy_scale=scale,
                                              skip_latest=skip_latest, ramp_pairs=ramp)
                            ll = mixed_log_likelihood(blended, cached, cache_share(s, entropies, pairs))
                            rows.append({"weight": weight, "flatness": flatness, "window": window,
                                         "entropy_scale": scale, "ramp_pairs": ramp, "ngram_weight": mu,
                                         "perplexity": round(math.exp(-ll / total), 3)})
    best = min(rows, key=lambda row: row["perplexity"])
    settings = CacheSettings(weight=best["weight"], flatness=best["flatness"], window=best["window"],
                             entropy_scale=best["entropy_scale"], skip_latest=skip_latest, ramp_pairs=best["ramp_pairs"],
                             ngram_weight=best["ngram_weight"])
    fixed = min((row for row in rows if row["entropy_scale"] == 0 and row["ramp_pairs"] == 0 and row["ngram_weight"] == 0),
                key=lambda row: row["perplexity"], default=None)
    by_ngram = {str(mu): min((row for row in rows if row["ngram_weight"] == mu), key=lambda row: row["perplexity"])
                for mu in mus}
    by_ramp = {str(ramp): min((row for row in rows if row["ramp_pairs"] == ramp), key=lambda row: row["perplexity"])
               for ramp in ramp_grid}
    # The whole grid at the chosen N only: with every N it would be several MB in each version's cache_tuning.json.
    grid = [row for row in rows if row["ramp_pairs"] == best["ramp_pairs"] and row["ngram_weight"] == best["ngram_weight"]]
    return {"settings": settings.as_json(), "tokens": total, "perplexity_without_cache": round(math.exp(plain), 3),
            "perplexity_with_cache": best["perplexity"], "best_fixed_weight": fixed, "best_by_ramp_pairs": by_ramp,
            "best_by_ngram_weight": by_ngram, "grid": grid}


def write_cache_files(directory: Path, settings: CacheSettings, tuning: dict, ngram: KneserNeyLM | None = None) -> None:
    """cache.json (the settings the Predictor loads), cache_tuning.json (how they were chosen) and, where the
    settings blend one in, the n-gram model (ngram.safetensors) in a version being written: by the trainer
    (--tune-cache) and by save_tuned_version alike."""
    if settings.ngram_weight > 0:
        if ngram is None:
            raise ValueError("the settings blend in an n-gram model, and none was given")
        ngram.save(directory / NGRAM_FILE)
    (directory / CACHE_FILE).write_text(json.dumps(settings.as_json(), indent=2) + "\n")
    (directory / "cache_tuning.json").write_text(json.dumps(tuning, indent=2) + "\n")


def fit_ngram(loaded: LoadedModel, train_txt: Path, order: int = 5, max_tokens: int = 0) -> KneserNeyLM:
    """A Kneser-Ney model of a corpus split's passages (the first ones, up to max_tokens; 0: all) over the
    version's vocabulary: the baseline of model/evaluation/typists.py, or a blend to tune (what the trainer's
    --ngram-order fits on its training split)."""
    passages = encode_passages(loaded.tokenizer, read_passages(train_txt))
    if max_tokens:
        kept, total = [], 0
        for p in passages:
            if total >= max_tokens:
                break
            kept.append(p)
            total += len(p)
        passages = kept
    return KneserNeyLM(loaded.tokenizer.vocab_size, order=order).fit(passages)


def save_tuned_version(loaded: LoadedModel, settings: CacheSettings, tuning: dict, models_dir: Path | None = None,
                       ngram: KneserNeyLM | None = None) -> Path:
    """A new version: the same weights and vocabulary, with cache.json (the settings) and the tuning record,
    and the n-gram model where the settings blend it in."""
    def extras(directory: Path) -> None:
        write_cache_files(directory, settings, tuning, ngram)
        for name in ("training_curve.png",):
            if (loaded.path / name).is_file():
                shutil.copyfile(loaded.path / name, directory / name)
    training = {**loaded.config.get("training", {}), "cache_tuned_from": loaded.version}
    return save_version(models_dir or loaded.path.parent, loaded.model, loaded.tokenizer, training, loaded.metrics,
                        write_extras=extras)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.evaluation.cache_scoring",
                                description="Tune the document cache on validation text, or score a text with it.")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="use the newest version here")
    p.add_argument("--version-dir", type=Path, help="this version directory instead")
    p.add_argument("--tune", type=Path, nargs="*", default=[], help="validation texts to tune λ, θ and W on")
    p.add_argument("--tune-tokens", type=int, default=0, help="tune on at most this many tokens (0: all)")
    p.add_argument("--save", action="store_true", help="write a new version with the tuned settings (cache.json)")
    p.add_argument("--score", type=Path, nargs="*", default=[], help="texts to score with and without the cache")
    p.add_argument("--per-article", action="store_true", help="a document per WikiText article (else the whole file)")
    p.add_argument("--passages", action="store_true",
                   help="the files are corpus splits: a document per blank-line separated passage")
    p.add_argument("--weight", type=float, help="λ for --score (default: the version's own, or the tuned one)")
    p.add_argument("--flatness", type=float, help="θ for --score")
    p.add_argument("--window", type=int, help="W for --score")
    p.add_argument("--entropy-scale", type=float, help="S for --score (0: a fixed λ)")
    p.add_argument("--ramp-pairs", type=int, help="N for --score (0: the full share from the first pair)")
    p.add_argument("--ramp-grid", type=int, nargs="+", default=list(RAMP_GRID),
                   help="values of N to tune over (e.g. 0 160 320 640 1280; default: 0 only, see RAMP_GRID)")
    p.add_argument("--skip-latest", action=argparse.BooleanOptionalAction, default=None,
                   help="leave out the pair of the word just read (model/cache.py); default: the version's own "
                        "for --score, on for --tune")
    p.add_argument("--ngram-corpus", type=Path, metavar="TRAIN_TXT",
                   help="fit an n-gram model on this corpus split (its passages, the version's vocabulary) and tune "
                        "its weight μ too; saved with --save where μ > 0 (default: the version's own n-gram, if any)")
    p.add_argument("--ngram-order", type=int, default=4, help="order of the n-gram model --ngram-corpus fits")
    p.add_argument("--ngram-weight", type=float, help="μ for --score (0: the recurrent model alone)")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    loaded = load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir)
    settings = load_settings(loaded.path)
    result: dict = {"version": loaded.version}
    if a.tune:
        ngram = load_version_ngram(loaded.path)
        if a.ngram_corpus:
            t0 = time.monotonic()
            ngram = fit_ngram(loaded, a.ngram_corpus, a.ngram_order)
            print(f"{a.ngram_order}-gram fitted on {a.ngram_corpus} in {time.monotonic() - t0:.0f}s")
        t0 = time.monotonic()
        result["tuning"] = tune(loaded, a.tune, a.per_article, a.tune_tokens, a.passages, ngram=ngram,
                                ramp_grid=tuple(a.ramp_grid),
                                **({} if a.skip_latest is None else {"skip_latest": a.skip_latest}))
        settings = CacheSettings.from_json(result["tuning"]["settings"])
        t = result["tuning"]
        print(f"tuned on {t['tokens']:,} tokens in {time.monotonic() - t0:.0f}s: {settings} — perplexity "
              f"{t['perplexity_without_cache']} → {t['perplexity_with_cache']}")
        if a.save:
            path = save_tuned_version(loaded, settings, t, ngram=ngram)
            result["saved"] = str(path)
            print(f"saved {path}")
    overrides = {k: v for k, v in (("weight", a.weight), ("flatness", a.flatness), ("window", a.window),
                                   ("entropy_scale", a.entropy_scale), ("skip_latest", a.skip_latest),
                                   ("ramp_pairs", a.ramp_pairs), ("ngram_weight", a.ngram_weight)) if v is not None}
    settings = CacheSettings(**{**settings.as_json(), **overrides})
    result["scores"] = [score_with_cache(loaded, path, settings, a.per_article, a.passages) for path in a.score]
    for s in result["scores"]:
        print(f"{s['path']}: {s['tokens']:,} tokens, perplexity {s['perplexity_without_cache']} without the cache, "
              f"{s['perplexity_with_cache']} with it ({s['reduction']:.1%} lower; {settings})")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
