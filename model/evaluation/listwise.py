"""A small scorer that ranks lists of candidates, fitted by a softmax over each list: a conditional logit
with a few tanh units beside it. An example is one list: its candidates' features (n, F) and the index of
the right one (-1: none of them). model/evaluation/last_word.py ranks a passage's possible last words
with it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

Example = tuple[np.ndarray, int]  # (features (n, F), index of the right candidate or -1)


@dataclass(frozen=True)
class Scorer:
    """Candidates' scores from their features (n, F): z = (features - mean) / scale, then
    z · linear + tanh(z · hidden_inᵀ + hidden_bias) · hidden_out. The hidden layer (a few units) lets the
    weight of one signal depend on another (for a last word: a capital counts for more where the model
    expects a name); with no hidden units it is a conditional logit."""
    mean: np.ndarray  # (F,)
    scale: np.ndarray  # (F,)
    linear: np.ndarray  # (F,)
    hidden_in: np.ndarray  # (U, F)
    hidden_bias: np.ndarray  # (U,)
    hidden_out: np.ndarray  # (U,)

    def __call__(self, features: np.ndarray) -> np.ndarray:
        z = (features - self.mean) / self.scale  # (n, F)
        return z @ self.linear + np.tanh(z @ self.hidden_in.T + self.hidden_bias) @ self.hidden_out  # (n,)

    @classmethod
    def weighing(cls, names: Sequence[str], weights: dict[str, float]) -> Scorer:
        """A linear scorer of raw features named `names`: Σ weights[name] · feature (the ones not named weigh 0)."""
        n = len(names)
        return cls(np.zeros(n), np.ones(n), np.array([weights.get(name, 0.0) for name in names]),
                   np.zeros((0, n)), np.zeros(0), np.zeros(0))

    def as_json(self) -> dict:
        return {name: getattr(self, name).tolist() for name in SCORER_PARTS}

    @classmethod
    def from_json(cls, data: dict, n_features: int) -> Scorer:
        """The scorer as_json wrote; ValueError if its parts do not fit n_features features."""
        parts = {name: np.asarray(data[name], dtype=np.float64) for name in SCORER_PARTS}
        units = len(parts["hidden_bias"])
        parts["hidden_in"] = parts["hidden_in"].reshape(-1, n_features) if parts["hidden_in"].size else \
            np.zeros((0, n_features))
        shapes = {"mean": (n_features,), "scale": (n_features,), "linear": (n_features,),
                  "hidden_in": (units, n_features), "hidden_bias": (units,), "hidden_out": (units,)}
        for name, shape in shapes.items():
            if parts[name].shape != shape:
                raise ValueError(f"{name} has shape {parts[name].shape}, expected {shape}")
        return cls(**parts)


SCORER_PARTS = ("mean", "scale", "linear", "hidden_in", "hidden_bias", "hidden_out")


@dataclass(frozen=True)
class FitSettings:
    hidden: int = 8  # tanh units (0: a conditional logit)
    epochs: int = 30
    weight_decay: float = 1e-2
    learning_rate: float = 3e-3
    batch: int = 32  # lists per step
    seed: int = 0


def fit_scorer(examples: Sequence[Example], settings: FitSettings = FitSettings()) -> Scorer:
    """The Scorer maximising the mean log-probability of each list's right candidate under a softmax over the
    list's scores (Adam, weight decay), features standardised over all candidates. Lists without a right
    candidate (-1) teach nothing. Deterministic for a seed."""
    usable = [(torch.from_numpy(np.asarray(x, dtype=np.float64)), y) for x, y in examples if y >= 0]
    if not usable:
        raise ValueError("no passage has its last word among its candidates")
    every = torch.cat([x for x, _ in usable])  # (all candidates, F)
    mean, scale = every.mean(0), every.std(0).clamp_min(1e-6)
    generator = torch.Generator().manual_seed(settings.seed)
    n_features = usable[0][0].shape[1]
    linear = torch.nn.Linear(n_features, 1, bias=False).double()
    hidden_in = torch.nn.Linear(n_features, settings.hidden).double()
    hidden_out = torch.nn.Linear(settings.hidden, 1, bias=False).double()
    for layer in (linear, hidden_in, hidden_out):  # as torch initialises them, from this fit's generator
        bound = 1 / math.sqrt(max(layer.in_features, 1))
        with torch.no_grad():
            for parameter in layer.parameters():
                parameter.uniform_(-bound, bound, generator=generator)
    parameters = [*linear.parameters(), *hidden_in.parameters(), *hidden_out.parameters()]
    optimiser = torch.optim.Adam(parameters, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    standardised = [((x - mean) / scale, y) for x, y in usable]
    for _ in range(settings.epochs):
        order = torch.randperm(len(standardised), generator=generator).tolist()
        for start in range(0, len(order), settings.batch):
            optimiser.zero_grad()
            losses = []
            for i in order[start : start + settings.batch]:
                z, y = standardised[i]
                score = (linear(z) + hidden_out(torch.tanh(hidden_in(z))))[:, 0]  # (n,)
                losses.append(-torch.log_softmax(score, 0)[y])
            torch.stack(losses).mean().backward()
            optimiser.step()
    detached = lambda t: t.detach().numpy().astype(np.float64).copy()  # noqa: E731
    return Scorer(detached(mean), detached(scale), detached(linear.weight)[0], detached(hidden_in.weight),
                  detached(hidden_in.bias), detached(hidden_out.weight)[0])


def accuracy(examples: Sequence[Example], scorer: Scorer) -> tuple[float, float]:
    """(top-1, top-5) of the ranking by this scorer, over all the lists (one without a right candidate: a miss)."""
    top1 = top5 = 0
    for features, y in examples:
        order = np.argsort(-scorer(features), kind="stable")
        top1 += y >= 0 and order[0] == y
        top5 += y >= 0 and y in order[:5]
    return round(top1 / len(examples), 4), round(top5 / len(examples), 4)


def cross_validated(examples: Sequence[Example], folds: int,
                    settings: FitSettings = FitSettings()) -> dict[str, float]:
    """Top-1 and top-5 over all the lists, each ranked by a scorer fitted without its fold (every folds-th)."""
    hits = np.zeros(2)
    for fold in range(folds):
        train = [e for i, e in enumerate(examples) if i % folds != fold]
        test = [e for i, e in enumerate(examples) if i % folds == fold]
        hits += np.array(accuracy(test, fit_scorer(train, settings))) * len(test)
    return {"top1": round(hits[0] / len(examples), 4), "top5": round(hits[1] / len(examples), 4)}
