"""The recurrent language model: embedding → RNN/GRU/LSTM → linear over the vocabulary.

One module serves all three cells (torch's own `nn.RNN`, `nn.GRU`, `nn.LSTM`), chosen by
`ModelConfig.cell`, as in pytorch/examples' word_language_model. The output layer is kept
apart from the recurrence so inference can project only the positions it needs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

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
    tie_weights: bool = False  # share embedding and output matrices (needs embedding_size == hidden_size)

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, not {self.cell!r}")
        if self.tie_weights and self.embedding_size != self.hidden_size:
            raise ValueError("tie_weights needs embedding_size == hidden_size")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)


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
        self.output = nn.Linear(config.hidden_size, config.vocab_size)
        if config.tie_weights:
            self.output.weight = self.embedding.weight
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
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
        x = self.dropout(self.embedding(tokens))  # (B, T, E)
        out, state = self.rnn(x, state)  # (B, T, H)
        return self.dropout(out), state

    def forward(
        self, tokens: torch.Tensor, state: State | None = None, targets: torch.Tensor | None = None,
        ignore_index: int = -100,
    ) -> tuple[torch.Tensor, torch.Tensor | None, State]:
        """tokens (B, T) → logits (B, T, V), mean loss over targets != ignore_index (or None), state."""
        out, state = self.encode(tokens, state)
        logits = self.output(out)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=ignore_index)
        return logits, loss, state


def detach_state(state: State) -> State:
    """Cut the graph at a window edge (truncated BPTT): keep the values, drop the history.

    Without this the backward pass of window n would run through every window before it.
    """
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()
