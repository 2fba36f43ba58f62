"""Every training option, declared once: name, type, default and help in one `option(...)` each.

`TrainConfig` is what the trainer reads; the command line (model/training/options.py) and the
presets (model/training/presets/*.toml) are both built from these declarations, so an option
added here appears in `--help` and may be set by a preset without further code.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from model.rnn_lm import CELLS, ModelConfig


def option(default: Any, help: str, *, flag: str | None = None, choices: tuple[str, ...] | None = None,
           run: bool = False) -> Any:
    """A TrainConfig field with its command-line help.

    flag: the switch for a boolean (default: --NAME for a False default, --no-NAME for a True one).
    run: how to run rather than what to train; on --resume these come from the command line, the
    rest from the saved run.
    """
    return field(default=default, metadata={"help": help, "flag": flag, "choices": choices, "run": run})


@dataclass
class TrainConfig:
    # Where from and where to.
    corpus_dir: Path = option(Path("data/corpus"), "directory with train/valid/test.txt")
    models_dir: Path = option(Path("models"), "where model versions are written", run=True)
    # The network (model/rnn_lm.py).
    cell: str = option("gru", "recurrent cell; the GRU found the cue binding reliably where the LSTM was "
                              "marginal (docs/results.md)", choices=tuple(sorted(CELLS)))
    embedding_size: int = option(128, "word embedding width")
    hidden_size: int = option(256, "recurrent state width")
    num_layers: int = option(1, "stacked recurrent layers")
    dropout: float = option(0.1, "dropout on embeddings and outputs")
    embedding_dropout: float = option(0.0, "share of word types dropped from each window's input (AWD-LSTM; 0 = off)")
    weight_drop: float = option(0.0, "DropConnect on the recurrent hidden-to-hidden matrices (AWD-LSTM; 0 = off)")
    tie_weights: bool = option(False, "share embedding and output weights (full softmax)")
    adaptive_softmax: bool = option(True, "adaptive softmax output (trains ~2x faster at 10k words on CPU); "
                                          "--full-softmax: a plain softmax over the whole vocabulary",
                                    flag="--full-softmax")
    # The vocabulary (model/tokenizer.py).
    vocab_size: int = option(10000, "largest vocabulary, specials included; the output layer dominates the cost")
    min_frequency: int = option(2, "rarer words become <unk> (words seen once are left to <unk>, which then gets trained)")
    as_is_tokens: bool = option(False, "keep case and split on whitespace only (pre-tokenized text such as WikiText)")
    # Batches and windows (model/training/batching.py).
    batch_size: int = option(32, "passages per batch")
    chunk_tokens: int = option(0, "cut training passages into pieces of at most this many tokens, each trained from "
                                  "the zero state, so a batch mixes many long documents (0 = whole passages)")
    bptt: int = option(35, "truncated-BPTT window, in tokens (the cue still crosses 400-word gaps: docs/results.md)")
    # The optimiser and its schedule (model/training/schedule.py).
    lr: float = option(4e-3, "learning rate at the start; decays linearly to a tenth over the run "
                             "(Adam; 3e-3 learned the cue binding markedly slower)")
    optimizer: str = option("adam", "Adam, or plain SGD (as the textbook loop, lr ~20)", choices=("adam", "sgd"))
    clip: float = option(1.0, "gradient norm clipping threshold, against the exploding side of BPTT")
    # The budget: whichever ends first.
    epochs: int = option(3, "passes over the training split at most")
    max_tokens: int = option(5_000_000, "training budget in tokens, so a busy machine trains the same model, only "
                                        "slower; 0 = none")
    max_minutes: float = option(15.0, "training time budget, a safety stop on a slow machine; 0 = none")
    target_perplexity: float = option(0.0, "stop once validation perplexity holds at or below this at two "
                                           "consecutive validations (0: train the whole budget)")
    # Regularisers and the curriculum (model/training/regularizers.py, schedule.py).
    unk_dropout: float = option(0.1, "share of input words replaced by <unk>: robustness to unseen words")
    curriculum: bool = option(True, "start on short passages, then let the length grow (schedule.py); "
                                    "--no-curriculum: shuffled epochs only")
    curriculum_start_tokens: int = option(64, "longest passage drawn at the start of the curriculum")
    curriculum_end: float = option(0.3, "share of the run (time or tokens) spent in the curriculum")
    seed: int = option(0, "random seed")
    # How to run.
    threads: int = option(0, "torch intra-op threads (0 = torch's default, one per core)", run=True)
    max_batches: int = option(0, "batches per epoch at most (0 = all; smoke runs)")
    if_missing: bool = option(False, "do nothing if a model version already exists", run=True)
    checkpoint_minutes: float = option(1.0, "save the resumable training state (MODELS_DIR/.train-state/) this often, "
                                            "and on Ctrl-C/SIGTERM; 0 = never", run=True)
    resume: bool = option(False, "continue the run saved in MODELS_DIR/.train-state/ from the batch it was saved "
                                 "after, with its config, vocabulary, random state and clock; other training flags "
                                 "given are ignored (and listed); only the run options apply (--models-dir, "
                                 "--threads, --checkpoint-minutes, --if-missing, --evaluate, --device). Without a "
                                 "saved state: train from scratch", run=True)
    validate_minutes: float = option(0.0, "also measure validation perplexity every this many minutes (0: after "
                                          "each epoch only)")
    device: str = option("cpu", "where to train; cuda: one GPU per process (LOCAL_RANK under torchrun). Versions "
                                "are served on the CPU", choices=("cpu", "cuda"), run=True)
    bf16: bool = option(False, "bfloat16 autocast in the forward pass (GPU; CPUs with AVX512-BF16)")
    compile: bool = option(False, "torch.compile the training step (needs a C compiler on CPU; did not pay on CPU: "
                                  "docs/benchmarks.md)")
    tune_cache: bool = option(False, "after training, tune the document cache's weight, flatness and window on the "
                                     "validation split and save them with the version (model/cache.py)")
    ngram_order: int = option(0, "with --tune-cache: also fit a Kneser-Ney n-gram model of this order on the training "
                                 "split and tune its share of the mixture (model/cache.py, ngram_weight); 0: none")
    cache_tune_tokens: int = option(100_000, "validation tokens the cache is tuned on at most (0: the whole validation split)")
    evaluate: bool = option(False, "after saving, measure long-range accuracy by gap (python -m model.evaluation; "
                                   "report in data/eval/)", run=True)

    def __post_init__(self) -> None:
        self.corpus_dir, self.models_dir = Path(self.corpus_dir), Path(self.models_dir)

    def model_config(self, vocab_size: int) -> ModelConfig:
        # Adaptive head: the 2,000 most frequent words; then a cluster of the next 4,000; then the rest.
        cutoffs = tuple(c for c in (2000, 6000) if c < vocab_size - 1) if self.adaptive_softmax else ()
        return ModelConfig(
            vocab_size=vocab_size, cell=self.cell, embedding_size=self.embedding_size,
            hidden_size=self.hidden_size, num_layers=self.num_layers, dropout=self.dropout,
            embedding_dropout=self.embedding_dropout, weight_drop=self.weight_drop,
            tie_weights=self.tie_weights, adaptive_cutoffs=cutoffs,
        )

    def as_json(self) -> dict:
        """The config as saved with a version and a training state (paths as strings)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """The config of a preset (model/training/presets/NAME.toml, or a .toml path), with overrides."""
        from model.training.presets import load_preset

        return cls(**{**load_preset(name), **overrides})


OPTIONS = {f.name: f for f in fields(TrainConfig)}
RUN_FIELDS = tuple(name for name, f in OPTIONS.items() if f.metadata["run"])
