"""Shared fixtures: a tiny hand-written corpus, a tiny model trained on it, the Flask app."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from model.cache import CacheSettings
from model.checkpoint import LoadedModel, load_latest
from model.evaluation.cache_scoring import save_tuned_version
from model.ngram import KneserNeyLM
from model.training.config import TrainConfig
from model.training.run import train
from scripts.harness.redis_server import RedisServer
from service import create_app

TINY_SENTENCES = [
    "The clouds are in the sky.",
    "I grew up in France. I speak fluent French.",
    "I was born in Spain. My native language is Spanish.",
    "The dog is barking at the postman, and the cat is sleeping.",
    "We eat breakfast in the kitchen every morning.",
    "She poured milk into her tea.",
]


def write_tiny_corpus(directory: Path, repeats: int = 40) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    passages = [s for _ in range(repeats) for s in TINY_SENTENCES]
    for split, n in (("train", len(passages)), ("valid", 12), ("test", 12)):
        (directory / f"{split}.txt").write_text("\n\n".join(passages[:n]) + "\n")
    return directory


def tiny_train_config(corpus_dir: Path, models_dir: Path, **overrides) -> TrainConfig:
    """The tiny preset (model/training/presets/tiny.toml) on the given folders."""
    return TrainConfig.from_preset("tiny", corpus_dir=corpus_dir, models_dir=models_dir, **overrides)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory, tiny_corpus) -> Path:
    """A models folder holding one tiny trained version (seconds to train)."""
    models_dir = tmp_path_factory.mktemp("models")
    assert train(tiny_train_config(tiny_corpus, models_dir)) is not None
    return models_dir


# Document cache settings small enough that a test text slides the window (tests/test_api_cache.py), with a
# trigram of the tiny corpus blended in (model/ngram.py), so every test of the service's cache covers it too.
CACHE_SETTINGS = CacheSettings(weight=0.3, flatness=0.5, window=50, ngram_weight=0.3)


def tiny_ngram(loaded: LoadedModel) -> KneserNeyLM:
    """A trigram of the tiny corpus over a version's vocabulary: what cache_models_dir's version blends in."""
    from model.evaluation.cache_scoring import fit_ngram

    return fit_ngram(loaded, Path(loaded.config["training"]["corpus_dir"]) / "train.txt", order=3)


@pytest.fixture(scope="session")
def cache_models_dir(tmp_path_factory, tiny_models_dir) -> Path:
    """The tiny model again, as a newer version with document cache settings (a version name of its own)."""
    models_dir = tmp_path_factory.mktemp("cache") / "models"
    shutil.copytree(tiny_models_dir, models_dir)
    loaded = load_latest(tiny_models_dir)
    path = save_tuned_version(loaded, CACHE_SETTINGS, {}, models_dir, ngram=tiny_ngram(loaded))
    assert load_latest(models_dir).version == path.name != load_latest(tiny_models_dir).version
    return models_dir


@pytest.fixture()
def app(tiny_models_dir):
    return create_app({"models_dir": tiny_models_dir, "reload_interval": 0})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def redis_server(tmp_path):
    """Skipped where redis-server is not installed, except under CI (.ci/run installs it): there it fails."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (Debian: apt-get install redis-server)")
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)  # scripts/harness/redis_server.py
    yield server
    server.stop()
