"""Tiny model versions, trained in seconds on a small generated corpus, and installed atomically.

    python -m scripts.harness.tiny_models MODELS_DIR     # train one tiny version into MODELS_DIR, print its path
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path


def install_version(source: Path, models_dir: Path) -> Path:
    """Copy a model version into models_dir the way the trainer writes one: a hidden temporary
    directory in the same parent, then one os.rename, so a reader sees nothing or all of it."""
    source, models_dir = Path(source), Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / source.name
    if target.exists():
        raise FileExistsError(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{source.name}-", dir=models_dir))
    try:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def train_tiny_versions(work_dir: Path, seeds: tuple[int, ...] = (0,)) -> list[Path]:
    """Train one tiny model version per seed (a few seconds each) into work_dir/versions, oldest first.

    All go into one folder so their ids are distinct and sort in training order, even within one second.
    """
    from corpus.build import build
    from model.training.config import TrainConfig
    from model.training.run import train

    corpus_dir, versions_dir = Path(work_dir) / "corpus", Path(work_dir) / "versions"
    if not (corpus_dir / "train.txt").exists():
        build(corpus_dir, train_passages=150, eval_passages=20, user_dir=None)
    paths = []
    for seed in seeds:
        config = TrainConfig.from_preset("tiny-generated", corpus_dir=corpus_dir, models_dir=versions_dir, seed=seed)
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # the trainer's progress bars
            path = train(config)
        if path is None:
            raise RuntimeError(f"tiny training wrote no version:\n{sink.getvalue()[-2000:]}")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m scripts.harness.tiny_models",
                                description="Train one tiny model version into MODELS_DIR and print its path.")
    p.add_argument("models_dir", type=Path, help="models folder to put the version in")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tiny-") as work:
        (path,) = train_tiny_versions(Path(work))
        print(install_version(path, args.models_dir))


if __name__ == "__main__":
    main()
