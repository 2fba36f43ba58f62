"""Where a training window's time goes: the trainer's own step, timed and profiled for a few batches.

    .venv/bin/python bench/gpu_profile.py --batches 3 -- --corpus-dir data/gpu/corpus --device cuda --bf16 ...

Everything after `--` is model.training's command line (model, batch, bptt, device). One warm-up batch,
then `--batches` batches are timed (the device synchronised at each end) and profiled with
torch.profiler. It prints tokens/s, milliseconds per window, how much of that the device was busy
(kernel time ÷ wall time: well below 1 means the host's launches are the limit, not the GPU), and
the operators that took the most device time, or host time on a CPU.

`RUNS=profile bash bench/gpu.sh` runs it with the sprint's settings (20 s or so on a GPU).
"""
from __future__ import annotations

import argparse
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from model.training.batching import pad_batch, windows
from model.training.data import load_splits
from model.training.options import parse_args
from model.training.trainer import Trainer


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ours, train_args = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batches", type=int, default=3, help="batches timed and profiled, after one warm-up")
    p.add_argument("--rows", type=int, default=15, help="operators listed")
    args = p.parse_args(ours)
    cfg = parse_args(train_args)
    tokenizer, splits = load_splits(cfg)
    trainer = Trainer(cfg, tokenizer, splits)
    passages = trainer.splits["train"]
    batches = trainer.epoch_batches[0][: args.batches + 1]
    cuda = trainer.device.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(trainer.device)

    padded = [pad_batch([passages[i] for i in b], tokenizer.pad_id) for b in batches]  # (B, L) each
    trainer.train_batch(padded[0], skip_empty=True)  # warm-up: kernels chosen, allocator filled
    sync()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    tokens = 0
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        for batch in padded[1:]:
            tokens += trainer.train_batch(batch, skip_empty=True)[0]
        sync()
        wall = time.perf_counter() - start
    # The windows those batches were cut into, as train_batch cuts them.
    steps = sum(1 for batch in padded[1:] for _ in windows(batch, cfg.bptt, tokenizer.pad_id))
    events = prof.key_averages()
    device_us = sum(e.self_device_time_total for e in events) if cuda else 0.0
    print(f"{trainer.device}: {tokens:,} tokens in {wall:.2f} s = {tokens / wall:,.0f} tokens/s; "
          f"{steps} windows, {1000 * wall / max(steps, 1):.2f} ms each")
    if cuda:
        print(f"device busy {device_us / 1e6:.2f} s of {wall:.2f} s ({100 * device_us / 1e6 / wall:.0f}%)")
    sort = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    print(events.table(sort_by=sort, row_limit=args.rows))


if __name__ == "__main__":
    main()
