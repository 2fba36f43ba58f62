"""Next-word prediction with a loaded model version: the one function the API, CLI and tests share.

    python -m model.predict "the clouds are in the" -k 5 --models-dir models
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from model.checkpoint import LoadedModel, load_latest


class EmptyPromptError(ValueError):
    """The prompt holds no token the model can read."""


@dataclass(frozen=True)
class Prediction:
    word: str
    probability: float


class Predictor:
    """Top-k next words for a prompt, under inference mode, from the zero state.

    A prompt starts from the same zero state as every training passage. Only the last
    position goes through the output layer: the rest of the prompt needs the recurrence alone.
    """

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.model = loaded.model.eval()
        self.tokenizer = loaded.tokenizer
        # Never offer <unk>, <eos>, <pad> or punctuation.
        self.offerable = torch.tensor(self.tokenizer.word_mask())

    @property
    def version(self) -> str:
        return self.loaded.version

    @torch.inference_mode()
    def predict(self, prompt: str, k: int = 5) -> list[Prediction]:
        ids = self.tokenizer.encode(prompt)
        if not ids:
            raise EmptyPromptError("the prompt has no words")
        tokens = torch.tensor([ids], dtype=torch.long)  # (1, T)
        out, _ = self.model.encode(tokens)  # (1, T, H)
        probs = self.model.log_probs(out[0, -1]).exp()  # (V,): the last position only
        probs = torch.where(self.offerable, probs, torch.full_like(probs, -1.0))
        top = torch.topk(probs, min(k, int(self.offerable.sum())))
        forms = self.tokenizer.display_forms
        return [Prediction(forms[i], round(float(p), 6)) for p, i in zip(top.values.tolist(), top.indices.tolist())]


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the top-k next words for a prompt.")
    parser.add_argument("prompt", help="the text so far")
    parser.add_argument("-k", type=int, default=5, help="how many words")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="folder of model versions (newest is used)")
    args = parser.parse_args()
    predictor = Predictor(load_latest(args.models_dir))
    result = [p.__dict__ for p in predictor.predict(args.prompt, args.k)]
    print(json.dumps({"predictions": result, "model": predictor.version}, ensure_ascii=False))


if __name__ == "__main__":
    main()
