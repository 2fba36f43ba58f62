"""Training throughput of the output layer choices: full softmax vs adaptive softmax.

    .venv/bin/python bench/softmax_speed.py

One LSTM layer (embedding 128, hidden 256) on random tokens, batch B × 200 steps, Adam;
prints tokens/s per configuration, measured side by side in one run (4 timed steps each,
after one warm-up step). Random tokens: this measures speed only, not quality.
"""
import time

import torch
import torch.nn.functional as F
from torch import nn

CONFIGS = [  # (vocab, hidden, embedding, batch, adaptive)
    (10000, 256, 128, 32, False),
    (10000, 256, 128, 64, False),
    (6000, 256, 128, 64, False),
    (10000, 256, 128, 64, True),
    (6000, 192, 128, 64, False),
    (10000, 512, 128, 64, True),
]


def tokens_per_second(vocab, hidden, emb, batch, adaptive, steps=4, window=200):
    torch.manual_seed(0)
    embedding, rnn = nn.Embedding(vocab, emb), nn.LSTM(emb, hidden, batch_first=True)
    if adaptive:
        out = nn.AdaptiveLogSoftmaxWithLoss(hidden, vocab, cutoffs=[2000, 5000], div_value=4.0)
    else:
        out = nn.Linear(hidden, vocab)
    params = [*embedding.parameters(), *rnn.parameters(), *out.parameters()]
    opt = torch.optim.Adam(params, 1e-3)
    x, y = torch.randint(0, vocab, (batch, window)), torch.randint(0, vocab, (batch, window))
    for i in range(steps + 1):
        if i == 1:
            start = time.perf_counter()
        h, _ = rnn(embedding(x))
        if adaptive:
            loss = out(h.reshape(-1, hidden), y.reshape(-1)).loss
        else:
            loss = F.cross_entropy(out(h).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return batch * window * steps / (time.perf_counter() - start)


if __name__ == "__main__":
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for vocab, hidden, emb, batch, adaptive in CONFIGS:
        rate = tokens_per_second(vocab, hidden, emb, batch, adaptive)
        kind = "adaptive" if adaptive else "full"
        print(f"vocab {vocab:>6,}  hidden {hidden}  batch {batch}  {kind:8s} softmax: {rate:>8,.0f} tokens/s")
