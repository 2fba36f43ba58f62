"""The recurrent language model as the service loads it: a saved version in, predictions out.

    from model import load_version, Predictor
    predictor = Predictor(load_version(Path("models") / version))

rnn_lm.py (the network), tokenizer.py, checkpoint.py (versions on disk: safetensors, manifest,
atomic writes, no unpickling), predict.py (the Predictor), cache.py (its document cache), fast_step.py (its numpy path for one
word at a time) and quantize.py (int8). Training lives in model/training/, evaluation and research
in model/evaluation/. Nothing here imports Flask; `__all__` is exactly what service/ imports
(tests/test_layout.py checks it).
"""
from model.cache import DocumentCache, LocalRows, chain_digests, rows_capacity, seed_digest, write_rows
from model.checkpoint import CheckpointError, list_versions, load_version, share_weights
from model.quantize import quantize_int8
from model.rnn_lm import State

# The Predictor's names are imported when first asked for, not here: `python -m model.predict` runs that
# module as __main__, and runpy warns when the package has already imported it under its own name.
_FROM_PREDICT = ("GREEDY_BELOW_TEMPERATURE", "EmptyPromptError", "Predictor")


def __getattr__(name: str):
    if name in _FROM_PREDICT:
        from model import predict

        return getattr(predict, name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")


__all__ = [
    "GREEDY_BELOW_TEMPERATURE", "CheckpointError", "DocumentCache", "EmptyPromptError", "LocalRows", "Predictor", "State",
    "chain_digests", "list_versions", "load_version", "quantize_int8", "rows_capacity", "seed_digest", "share_weights",
    "write_rows",
]
