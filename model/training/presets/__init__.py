"""Training presets: small commented TOML files of TrainConfig options, one per kind of run.

    python -m model.training --preset wikitext --corpus-dir data/wikitext-2   # flags after a preset win

A preset names only what differs from the defaults in model/training/config.py. The Makefile,
the tests, the scripts and the benchmarks read the same files.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

PRESETS_DIR = Path(__file__).resolve().parent


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def load_preset(name: str) -> dict[str, Any]:
    """The options of a preset: a name from this folder or the path of a .toml file.

    Raises ValueError for an unknown preset, an unknown option, or a value of the wrong type.
    """
    from model.training.config import OPTIONS

    path = Path(name) if name.endswith(".toml") else PRESETS_DIR / f"{name}.toml"
    if not path.is_file():
        raise ValueError(f"no preset {name!r} (known: {', '.join(preset_names())}, or a path to a .toml file)")
    with path.open("rb") as f:
        values = tomllib.load(f)
    for key, value in values.items():
        if key not in OPTIONS:
            raise ValueError(f"preset {path}: unknown option {key!r}")
        default = OPTIONS[key].default
        expected = float if isinstance(default, float) else type(default)
        if isinstance(default, Path):
            expected = str
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) if expected is float else (
            type(value) is expected)
        if not ok:
            raise ValueError(f"preset {path}: {key} = {value!r} is not a {expected.__name__}")
    return values
