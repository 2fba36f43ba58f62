"""The recurrent language model: embedding → RNN/GRU/LSTM → softmax over the vocabulary.

One module serves all three cells (torch's own `nn.RNN`, `nn.GRU`, `nn.LSTM`), chosen by
`ModelConfig.cell`, as in pytorch/examples' word_language_model. The output layer is kept
apart from the recurrence so inference can project only the positions it needs.

The output layer is a full softmax or, for larger vocabularies, an adaptive softmax
(Grave et al. 2017, `nn.AdaptiveLogSoftmaxWithLoss`): frequent words in a full head,
rare ones in smaller tail clusters. On this CPU it trains about twice as fast at 10k words
(measured in docs/benchmarks.md), and the output layer is most of the cost.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from model.training.regularizers import recurrent_drop_connect, word_type_dropout

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

# The recurrent state: (h, c) for an LSTM, h alone for RNN/GRU; each (num_layers, B, hidden_size).
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


@dataclass
class ModelConfig:
    vocab_size: int
    cell: str = "lstm"
    embedding_size: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.1  # on embeddings and RNN outputs; small models on small corpora need little
    # Two regularisers of Merity et al. 2017 (AWD-LSTM), in training only (model/training/regularizers.py).
    embedding_dropout: float = 0.0  # share of word types dropped from a window's input (whole rows)
    weight_drop: float = 0.0  # DropConnect on the hidden-to-hidden matrices, one mask per window
    tie_weights: bool = False  # share embedding and output matrices (needs embedding_size == hidden_size)
    adaptive_cutoffs: tuple[int, ...] = ()  # word-rank boundaries of the adaptive softmax; () = full softmax

    def __post_init__(self) -> None:
        self.adaptive_cutoffs = tuple(self.adaptive_cutoffs)
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, not {self.cell!r}")
        for name in ("dropout", "embedding_dropout", "weight_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), not {getattr(self, name)}")
        if self.tie_weights and self.embedding_size != self.hidden_size:
            raise ValueError("tie_weights needs embedding_size == hidden_size")
        if self.tie_weights and self.adaptive_cutoffs:
            raise ValueError("tie_weights works with the full softmax only")
        if list(self.adaptive_cutoffs) != sorted(set(self.adaptive_cutoffs)) or any(
            not 0 < c < self.vocab_size - 1 for c in self.adaptive_cutoffs
        ):
            raise ValueError(f"adaptive_cutoffs must increase within (0, {self.vocab_size - 1})")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)


SCORE_ROWS = 4096  # rows of full-softmax logits computed at once when scoring


class RNNLanguageModel(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.dropout = nn.Dropout(config.dropout)
        extra = {"nonlinearity": "tanh"} if config.cell == "rnn" else {}
        self.rnn = CELLS[config.cell](
            config.embedding_size,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
            **extra,
        )
        if config.adaptive_cutoffs:
            self.output: nn.Module = nn.AdaptiveLogSoftmaxWithLoss(
                config.hidden_size, config.vocab_size, cutoffs=list(config.adaptive_cutoffs), div_value=4.0
            )
        else:
            self.output = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:
            self.output.weight = self.embedding.weight
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        if isinstance(self.output, nn.Linear):
            nn.init.zeros_(self.output.bias)
            if not self.config.tie_weights:
                nn.init.uniform_(self.output.weight, -0.1, 0.1)
        if self.config.cell == "lstm":
            # Forget-gate bias 1 (Jozefowicz et al. 2015): the cell starts by keeping what it
            # holds, which is what lets a cue survive a long gap early in training.
            for name, bias in self.rnn.named_parameters():
                if name.startswith("bias_ih"):
                    h = self.config.hidden_size
                    with torch.no_grad():
                        bias[h : 2 * h].fill_(1.0)

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        """The zero state every passage starts from, in training and at inference alike."""
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        h = torch.zeros(shape, device=device)
        return (h, torch.zeros_like(h)) if self.config.cell == "lstm" else h

    def encode(self, tokens: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Run the recurrence. tokens (B, T) → hidden outputs (B, T, H) and the final state."""
        if state is None:
            state = self.initial_state(tokens.size(0), tokens.device)
        x = self.embedding(tokens)  # (B, T, E)
        if self.training and self.config.embedding_dropout > 0:
            x = word_type_dropout(x, tokens, self.config.embedding_dropout, self.config.vocab_size)
        x = self.dropout(x)
        if self.training and self.config.weight_drop > 0:
            weights = recurrent_drop_connect(self.rnn, self.config.weight_drop)
            with warnings.catch_warnings():
                # The dropped matrices are new tensors, not views of cuDNN's flat buffer: it copies them in.
                warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
                out, state = torch.func.functional_call(self.rnn, weights, (x, state))
        else:
            out, state = self.rnn(x, state)  # (B, T, H)
        return self.dropout(out), state

    def log_probs(self, hidden: torch.Tensor) -> torch.Tensor:
        """hidden (..., H) → log-probabilities over the vocabulary (..., V)."""
        if isinstance(self.output, nn.AdaptiveLogSoftmaxWithLoss):
            return self.output.log_prob(hidden.reshape(-1, hidden.size(-1))).view(*hidden.shape[:-1], -1)
        return F.log_softmax(self.output(hidden), dim=-1)

    def head_log_probs(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Adaptive softmax only: hidden (..., H) → (log-probs of the shortlist words (..., S), log-probs of
        the tail clusters (..., C)), from the head alone; None for a full softmax.

        A shortlist word's head log-prob is its final log-prob; a tail word's probability is at most
        its cluster's. So when the k-th best shortlist word beats every cluster, the top k are known
        without computing a tail (Predictor uses this: most next-word queries end there).
        """
        if not isinstance(self.output, nn.AdaptiveLogSoftmaxWithLoss):
            return None
        head = F.log_softmax(self.output.head(hidden), dim=-1)
        shortlist = self.output.shortlist_size
        return head[..., :shortlist], head[..., shortlist:]

    def tail_log_probs(self, hidden: torch.Tensor, cluster: int, cluster_log_prob: torch.Tensor) -> torch.Tensor:
        """Adaptive softmax only: log-probs (..., size) of the words of tail `cluster` (ids
        cutoffs[cluster] up to cutoffs[cluster + 1]), given that cluster's head log-prob (...,)."""
        words = F.log_softmax(self.output.tail[cluster](hidden), dim=-1)
        return words + cluster_log_prob.unsqueeze(-1)

    def target_nll(
        self, hidden: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Negative log-likelihood of each counted target: hidden (B, T, H), targets (B, T) →
        (nll (N,), target ids (N,)) over the N targets that are not ignore_index.

        Only the targets' scores are computed; no full distribution is built.
        """
        keep = targets.flatten() != ignore_index
        h = hidden.flatten(0, 1)[keep]  # (N, H)
        y = targets.flatten()[keep]  # (N,)
        if isinstance(self.output, nn.AdaptiveLogSoftmaxWithLoss):
            return -self.output(h, y).output, y
        if not torch.is_grad_enabled() and h.size(0) > SCORE_ROWS:
            # Scoring (no backward): a few thousand rows of logits at a time, not all of them
            # (64 passages × 400 steps × 33k words would be 3.4 GB of float32 at once).
            nll = [F.cross_entropy(self.output(h[i : i + SCORE_ROWS]), y[i : i + SCORE_ROWS], reduction="none")
                   for i in range(0, h.size(0), SCORE_ROWS)]
            return torch.cat(nll), y
        return F.cross_entropy(self.output(h), y, reduction="none"), y

    def position_nll(self, hidden: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
        """Full softmax only: nll (B*T,) at every position of hidden (B, T, H), 0 where the target is
        ignore_index. Unlike target_nll nothing depends on the data's values for its shape, so a GPU
        step is queued without waiting for the device to say how many targets count."""
        logits = self.output(hidden.flatten(0, 1))  # (B*T, V)
        return F.cross_entropy(logits, targets.flatten(), ignore_index=ignore_index, reduction="none")

    def forward(self, tokens: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """tokens (B, T) → log-probabilities (B, T, V) of the next word at every position, final state."""
        out, state = self.encode(tokens, state)
        return self.log_probs(out), state


def detach_state(state: State) -> State:
    """Cut the graph at a window edge (truncated BPTT): keep the values, drop the history.

    Without this the backward pass of window n would run through every window before it.
    """
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()
