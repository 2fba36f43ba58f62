"""The training command line, built from the options declared in config.py, and presets.

    python -m model.training --corpus-dir data/corpus --models-dir models
    python -m model.training --preset wikitext --corpus-dir data/wikitext-2   # flags after a preset win
    python -m model.training --help            # every option, with its default
    python -m model.training --dry-run ...     # seconds-long smoke run (the dry-run preset on top)
    python -m model.training --resume ...      # continue the run that was stopped or killed

Precedence: the defaults in config.py < the preset < --dry-run < flags given.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import Field
from pathlib import Path

from model.training.config import OPTIONS, TrainConfig
from model.training.presets import load_preset, preset_names
from model.training.resume import TrainStateError

DESCRIPTION = ("Train a word-level RNN language model with truncated BPTT and write a new model version. "
               "Ctrl-C or SIGTERM saves the resumable state and the best weights so far as a version.")


def build_parser(defaults: TrainConfig | None = None) -> argparse.ArgumentParser:
    """One flag per TrainConfig option, its defaults those of `defaults` (a preset's config)."""
    d = defaults or TrainConfig()
    p = argparse.ArgumentParser(prog="python -m model.training", description=DESCRIPTION,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--preset", help=f"start from a preset: {', '.join(preset_names())} "
                                    "(model/training/presets/), or a .toml path")
    p.add_argument("--dry-run", action="store_true", help="smoke run: the dry-run preset (tiny model, 3 batches)")
    for name, spec in OPTIONS.items():
        _add_option(p, name, spec, getattr(d, name))
    return p


def _add_option(parser: argparse.ArgumentParser, name: str, spec: Field, default) -> None:
    meta = spec.metadata
    flag = meta["flag"] or "--" + name.replace("_", "-")
    if isinstance(spec.default, bool) and meta["flag"]:  # a switch with its own name (--full-softmax)
        parser.add_argument(flag, dest=name, action="store_false" if spec.default else "store_true",
                            default=default, help=meta["help"])
    elif isinstance(spec.default, bool):  # --curriculum / --no-curriculum
        parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=default, help=meta["help"])
    else:
        kind = Path if isinstance(spec.default, Path) else type(spec.default)
        parser.add_argument(flag, dest=name, type=kind, default=default, choices=meta["choices"], help=meta["help"])


def parse_command_line(argv: list[str] | None = None) -> tuple[TrainConfig, set[str]]:
    """The config, and the names of the options the command line set, its preset's included (for --resume
    to report those it cannot honour)."""
    first = argparse.ArgumentParser(prog="python -m model.training", add_help=False)
    first.add_argument("--preset")
    first.add_argument("--dry-run", action="store_true")
    chosen, _ = first.parse_known_args(argv)
    try:
        preset = load_preset(chosen.preset) if chosen.preset else {}
        if chosen.dry_run:
            preset.update(load_preset("dry-run"))
        defaults = TrainConfig(**preset)
    except ValueError as e:
        first.error(str(e))
    args = vars(build_parser(defaults).parse_args(argv))
    # Parsed again with a default no value can equal, to tell flags given from defaults.
    unset = object()
    explicit = build_parser(defaults)
    explicit.set_defaults(**{name: unset for name in OPTIONS})
    given = {name for name, value in vars(explicit.parse_args(argv)).items() if value is not unset and name in OPTIONS}
    return TrainConfig(**{name: args[name] for name in OPTIONS}), given | set(preset)


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    return parse_command_line(argv)[0]


def main(argv: list[str] | None = None) -> None:
    from model.training.run import train

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg, given = parse_command_line(argv)
    try:
        train(cfg, given)
    except (FileNotFoundError, ValueError, TrainStateError) as e:
        sys.exit(f"error: {e}")
