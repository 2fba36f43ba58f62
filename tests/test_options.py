"""Training options (model/training/config.py), the command line built from them, and the presets."""
from dataclasses import fields
from pathlib import Path

import pytest

from model.training.config import OPTIONS, RUN_FIELDS, TrainConfig
from model.training.options import build_parser, parse_args, parse_command_line
from model.training.presets import load_preset, preset_names


def test_every_option_has_a_flag_with_help_and_its_default():
    parser = build_parser()
    by_dest = {action.dest: action for action in parser._actions}
    for f in fields(TrainConfig):
        action = by_dest[f.name]
        assert action.help and len(action.help) > 10, f.name
        assert action.default == f.default, f.name
    assert parse_args([]) == TrainConfig()


def test_flags_parse_to_the_options_they_name():
    cfg = parse_args(["--cell", "lstm", "--hidden-size", "64", "--full-softmax", "--no-curriculum", "--tie-weights",
                      "--lr", "0.5", "--corpus-dir", "somewhere"])
    assert (cfg.cell, cfg.hidden_size, cfg.lr, cfg.corpus_dir) == ("lstm", 64, 0.5, Path("somewhere"))
    assert not cfg.adaptive_softmax and not cfg.curriculum and cfg.tie_weights


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_into_a_valid_config(name):
    cfg = TrainConfig.from_preset(name)
    assert all(getattr(cfg, key) == value for key, value in load_preset(name).items())
    cfg.model_config(vocab_size=cfg.vocab_size)  # the network it describes is valid


def test_a_preset_sets_defaults_and_flags_given_after_it_win():
    cfg, given = parse_command_line(["--preset", "wikitext", "--hidden-size", "128"])
    assert (cfg.cell, cfg.embedding_size, cfg.bptt, cfg.max_minutes) == ("gru", 256, 70, 30.0)
    assert cfg.hidden_size == 128 and not cfg.curriculum
    assert {"hidden_size", "embedding_size", "curriculum"} <= given and "seed" not in given


def test_the_wikitext_preset_is_the_run_make_wikitext_always_trained():
    # The flags make wikitext always gave, and the 1,000-token pieces of session 10.
    old_flags = ("--cell gru --embedding-size 256 --hidden-size 512 --dropout 0.25 --bptt 70 --lr 2e-3 --vocab-size 40000 "
                 "--min-frequency 1 --no-curriculum --unk-dropout 0 --epochs 100 --max-tokens 0 --max-minutes 30 "
                 "--validate-minutes 3 --chunk-tokens 1000").split()
    assert parse_args(["--preset", "wikitext"]) == parse_args(old_flags)


def test_dry_run_shrinks_the_model_on_top_of_a_preset():
    cfg = parse_args(["--preset", "wikitext", "--dry-run"])
    assert (cfg.hidden_size, cfg.max_batches, cfg.epochs, cfg.bptt) == (16, 3, 1, 70)


def test_a_bad_preset_is_refused_with_its_reason(tmp_path, capsys):
    for text, reason in (("hiden_size = 3\n", "unknown option 'hiden_size'"),
                         ('hidden_size = "big"\n', "is not a int"),
                         ("curriculum = 1\n", "is not a bool")):
        path = tmp_path / "bad.toml"
        path.write_text(text)
        with pytest.raises(ValueError, match=reason):
            load_preset(str(path))
        with pytest.raises(SystemExit):
            parse_args(["--preset", str(path)])
        assert reason in capsys.readouterr().err
    with pytest.raises(ValueError, match="no preset 'nope'"):
        load_preset("nope")


def test_run_options_are_those_a_resumed_run_takes_from_its_command_line():
    assert set(RUN_FIELDS) == {"models_dir", "threads", "checkpoint_minutes", "resume", "if_missing", "evaluate", "device"}
    assert set(RUN_FIELDS) < set(OPTIONS)
