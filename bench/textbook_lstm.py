"""The textbook truncated-BPTT loop, written plainly as a reference point for the trainer's speed.

    .venv/bin/python bench/textbook_lstm.py --data ../shared/data/wikitext-2 --minutes 20 --json out.json

What the PyTorch word_language_model example does with its defaults: the text as one stream of
whitespace-separated words with <eos> at each line end (case kept: WikiText-2's 33,278 words),
cut into `batch` parallel columns; embedding → 2-layer nn.LSTM (200) → a linear layer over the
whole vocabulary; plain SGD at lr 20, gradient clipping 0.25, bptt 35, the hidden state carried
from window to window and detached; the learning rate divided by 4 whenever a validation does not
improve. Nothing here is tuned or shared with the project's trainer on purpose: it is the
baseline the project's trainer is measured against (docs/benchmarks.md).

Validation runs every `--validate-minutes` of *training* time, and its own time is not counted,
so "validation perplexity after N minutes" means N minutes of training steps. Prints tokens/s and
the validation curve; `--json` writes both.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn


def read_words(path: Path) -> list[str]:
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words.extend(line.split() + ["<eos>"])
    return words


def batchify(ids: torch.Tensor, columns: int) -> torch.Tensor:
    """(N,) → (N // columns, columns): each column a contiguous stretch of the stream."""
    n = ids.numel() // columns
    return ids[: n * columns].view(columns, n).t().contiguous()


class TextbookLSTM(nn.Module):
    def __init__(self, vocab: int, size: int = 200, layers: int = 2, dropout: float = 0.2) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.embedding = nn.Embedding(vocab, size)
        self.rnn = nn.LSTM(size, size, layers, dropout=dropout)
        self.decoder = nn.Linear(size, vocab)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, x: torch.Tensor, state):
        out, state = self.rnn(self.drop(self.embedding(x)), state)  # x (T, B) → out (T, B, H)
        return self.decoder(self.drop(out)), state  # (T, B, V)


@torch.no_grad()
def perplexity(model: TextbookLSTM, data: torch.Tensor, bptt: int) -> float:
    model.eval()
    state, total, count = None, 0.0, 0
    for i in range(0, data.size(0) - 1, bptt):
        x, y = data[i : i + bptt], data[i + 1 : i + 1 + bptt]
        x = x[: y.size(0)]
        logits, state = model(x, state)
        total += nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
        count += y.numel()
    model.train()
    return math.exp(total / count)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="folder with train.txt, valid.txt, test.txt")
    p.add_argument("--minutes", type=float, default=20.0, help="training time budget (validation excluded)")
    p.add_argument("--validate-minutes", type=float, default=5.0, help="validate after this much training time")
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--bptt", type=int, default=35)
    p.add_argument("--lr", type=float, default=20.0)
    p.add_argument("--clip", type=float, default=0.25)
    p.add_argument("--max-valid-tokens", type=int, default=0, help="score only this many validation tokens (0: all)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--json", type=Path, help="write the curve and figures here")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    train_words, valid_words = read_words(a.data / "train.txt"), read_words(a.data / "valid.txt")
    vocab = {w: i for i, w in enumerate(dict.fromkeys(train_words))}
    unk = vocab.setdefault("<unk>", len(vocab))
    train = batchify(torch.tensor([vocab[w] for w in train_words]), a.batch)
    valid_ids = torch.tensor([vocab.get(w, unk) for w in valid_words])
    if a.max_valid_tokens:
        valid_ids = valid_ids[: a.max_valid_tokens]
    valid = batchify(valid_ids, 10)
    model = TextbookLSTM(len(vocab))
    n_params = sum(x.numel() for x in model.parameters())
    print(f"vocabulary {len(vocab):,}; {train.numel():,} training tokens; {n_params / 1e6:.1f}M parameters")
    lr, best, trained_s, tokens, next_check = a.lr, math.inf, 0.0, 0, a.validate_minutes * 60
    curve: list[dict] = []
    budget = a.minutes * 60
    while trained_s < budget:
        state = None
        for i in range(0, train.size(0) - 1, a.bptt):
            start = time.perf_counter()
            x, y = train[i : i + a.bptt], train[i + 1 : i + 1 + a.bptt]
            x = x[: y.size(0)]
            if state is not None:
                state = tuple(s.detach() for s in state)  # truncated BPTT: keep the values, cut the graph
            model.zero_grad()
            logits, state = model(x, state)
            loss = nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            with torch.no_grad():
                for param in model.parameters():
                    param.add_(param.grad, alpha=-lr)
            trained_s += time.perf_counter() - start
            tokens += y.numel()
            if trained_s >= next_check or trained_s >= budget:
                ppl = perplexity(model, valid, a.bptt)
                if ppl >= best:
                    lr /= 4.0  # the example's annealing: a quarter when validation stops improving
                best = min(best, ppl)
                point = {"train_minutes": round(trained_s / 60, 2), "tokens": tokens,
                         "tokens_per_second": round(tokens / trained_s, 1), "valid_perplexity": round(ppl, 2), "lr": lr}
                curve.append(point)
                print(json.dumps(point), flush=True)
                next_check += a.validate_minutes * 60
            if trained_s >= budget:
                break
    result = {"settings": {k: str(v) for k, v in vars(a).items()}, "vocabulary": len(vocab), "curve": curve}
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
