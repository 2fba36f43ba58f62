"""Data-parallel training with torchrun: which process this is, and what the processes agree on.

    torchrun --standalone --nproc_per_node 2 -m model.training ...                    # one machine
    torchrun --nnodes 2 --node_rank R --nproc_per_node 2 \\
        --rdzv_backend c10d --rdzv_endpoint HOST:29500 -m model.training ...        # two machines

Every process (rank) builds the same trainer from the same seed, so all draw the same batch order;
each step the ranks take consecutive batches of it, one each (rank r the r-th of the step's group),
and DistributedDataParallel averages their gradients, so the weights stay identical. Decisions that
must be taken together (the clock that drives the learning rate and the time budget, a stop
signal, the tokens counted) are agreed once per step with one small all-reduce. Only rank 0 writes
(training state, the model version) and prints.

Without torchrun (no WORLD_SIZE in the environment) `Cluster` is a single process and changes nothing.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn


class Cluster:
    """This process's place among the training processes (world 1 without torchrun)."""

    def __init__(self, device: torch.device) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.device = device
        if self.world > 1 and not dist.is_initialized():
            # gloo on CPU; nccl between GPUs (one GPU per process, chosen by LOCAL_RANK).
            backend = "nccl" if device.type == "cuda" else "gloo"
            dist.init_process_group(backend, timeout=timedelta(minutes=10))

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def reseed_dropout(self, seed: int, tokens_seen: int, generator: torch.Generator) -> None:
        """Under torchrun each rank draws its own dropout masks (from the seed, its rank and the tokens
        done, so a resumed run draws fresh ones); a single process keeps the seed's."""
        if self.distributed:
            seed = seed + 1_000_003 * (self.rank + 1) + tokens_seen
            torch.manual_seed(seed)
            generator.manual_seed(seed)

    def wrap(self, step_module: nn.Module, some_parameters_may_go_unused: bool) -> nn.Module:
        """DDP around the module whose forward computes the loss (its backward then averages gradients).

        With the adaptive softmax a tail cluster none of a rank's targets fall in takes no part in
        its loss for that step: DDP must then look for unused parameters (an extra graph walk).
        """
        if not self.distributed:
            return step_module
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(step_module, device_ids=device_ids,
                                                   find_unused_parameters=some_parameters_may_go_unused)

    def groups(self, batches: Iterable[list[int]]) -> Iterator[list[list[int]]]:
        """The batch order cut into steps of `world` batches; a last, incomplete step is dropped
        (every rank must take part in every step)."""
        group: list[list[int]] = []
        for batch in batches:
            group.append(batch)
            if len(group) == self.world:
                yield group
                group = []

    def agree(self, tokens: int, stop: bool, main: tuple[float, ...]) -> tuple[int, bool, tuple[float, ...]]:
        """After a step: the tokens all ranks trained, whether any rank was asked to stop, and rank 0's
        `main` values (its clock and what it decided is due): rank 0 keeps the time for everyone."""
        if not self.distributed:
            return tokens, stop, main
        mine = [float(tokens), float(stop), *(v if self.is_main else 0.0 for v in main)]
        values = torch.tensor(mine, dtype=torch.float64, device=self.device)
        dist.all_reduce(values)  # a sum: the tokens add up, only rank 0 contributes the rest
        return int(values[0]), bool(values[1] > 0), tuple(float(v) for v in values[2:])

    def check_identical(self, model: nn.Module) -> None:
        """Raise if any rank's weights differ from rank 0's (DDP's gradient averaging keeps them equal)."""
        if not self.distributed:
            return
        mine = torch.cat([p.detach().double().flatten() for p in model.parameters()])
        theirs = mine.clone()
        dist.broadcast(theirs, src=0)
        differs = torch.tensor([float(not torch.equal(mine, theirs))], device=mine.device)
        dist.all_reduce(differs)
        if differs.item() > 0:
            raise RuntimeError(f"the weights differ between ranks ({int(differs.item())} of {self.world} differ from rank 0)")

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def device_for_rank(name: str) -> torch.device:
    """"cpu", or "cuda": this process's GPU (LOCAL_RANK under torchrun)."""
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
        index = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(index)
        # TensorFloat-32 for the float32 matrix products (validation, the parts outside autocast): a 10-bit
        # mantissa, far below what a perplexity can tell, at several times the speed.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        return torch.device("cuda", index)
    return torch.device("cpu")
