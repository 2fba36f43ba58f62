"""Data-parallel training on CPU with two processes (gloo): the weights stay identical across ranks,
only rank 0 writes, and a stopped torchrun run resumes."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from model.checkpoint import list_versions
from model.training.resume import find_train_state
from tests.conftest import tiny_train_config, write_tiny_corpus

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_step_on_rank(rank: int, port: int, corpus: str, out: str) -> None:
    """Child process: join a 2-rank gloo group, train one step, save the weights before and after."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank))
    torch.set_num_threads(1)
    from model.training.data import load_splits
    from model.training.distributed import Cluster
    from model.training.trainer import Trainer

    cfg = tiny_train_config(Path(corpus), Path(out) / "models", checkpoint_minutes=0, curriculum=False, dropout=0.3)
    tokenizer, splits = load_splits(cfg)
    cluster = Cluster(torch.device("cpu"))
    try:
        trainer = Trainer(cfg, tokenizer, splits, cluster)
        save_file({k: v.clone() for k, v in trainer.model.state_dict().items()}, f"{out}/before-{rank}.safetensors")
        trainer.start = time.monotonic()
        step = trainer.epoch_batches[0][:2]  # one batch per rank: one step
        assert trainer.train_phase("epoch 1", iter(step)) == "done"
        save_file(trainer.model.state_dict(), f"{out}/after-{rank}.safetensors")
        (Path(out) / f"batch-{rank}.json").write_text(json.dumps({"tokens": trainer.tokens_seen}))
        cluster.barrier()
    finally:
        cluster.close()


def test_two_ranks_train_different_batches_and_hold_identical_weights(tmp_path):
    corpus = write_tiny_corpus(tmp_path / "corpus")
    mp.spawn(one_step_on_rank, args=(free_port(), str(corpus), str(tmp_path)), nprocs=2, join=True)
    before = [load_file(tmp_path / f"before-{r}.safetensors") for r in (0, 1)]
    after = [load_file(tmp_path / f"after-{r}.safetensors") for r in (0, 1)]
    assert before[0].keys() == after[0].keys() and len(after[0]) > 2
    for name in after[0]:
        assert torch.equal(before[0][name], before[1][name]), f"{name}: ranks started apart"
        assert torch.equal(after[0][name], after[1][name]), f"{name}: ranks differ after a step"
    assert any(not torch.equal(before[0][n], after[0][n]) for n in after[0]), "the step changed nothing"
    # Both ranks count the tokens of the whole step (two batches), not only their own.
    tokens = [json.loads((tmp_path / f"batch-{r}.json").read_text())["tokens"] for r in (0, 1)]
    assert tokens[0] == tokens[1] > 0
    assert not list(tmp_path.joinpath("models").glob("*")), "nothing is written without a checkpoint or a save"


def torchrun(models: Path, corpus: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            "-m", "model.training", "--corpus-dir", str(corpus), "--models-dir", str(models),
            "--embedding-size", "16", "--hidden-size", "24", "--vocab-size", "200", "--min-frequency", "1",
            "--batch-size", "4", "--bptt", "8", "--epochs", "1000", "--max-minutes", "0", "--unk-dropout", "0",
            *extra]


def test_torchrun_writes_one_version_and_resumes_after_sigterm(tmp_path):
    corpus = write_tiny_corpus(tmp_path / "corpus")
    models = tmp_path / "models"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    # Long enough to be stopped mid-run: saves its state every ~0.1 s once training.
    cmd = torchrun(models, corpus, "--max-tokens", "400000", "--checkpoint-minutes", "0.002")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while find_train_state(models) is None and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert find_train_state(models) is not None, "no training state was saved"
        proc.send_signal(signal.SIGTERM)  # torchrun passes it on to both ranks, as docker stop would
        output = proc.communicate(timeout=90)[0]
    finally:
        proc.kill()
    assert "stopping at the end of this batch" in output, output[-3000:]
    assert find_train_state(models) is not None, "the stopped run left no state to resume"
    assert len(list_versions(models)) == 1, "rank 0 alone saves the stopped run's best weights"

    done = subprocess.run(cmd + ["--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "resuming in" in done.stdout
    assert "weights identical on all 2 processes" in done.stdout
    versions = list_versions(models)
    assert len(versions) == 2, versions
    metrics = json.loads((models / versions[-1] / "metrics.json").read_text())
    assert metrics["resumed_at_tokens"] and metrics["train_tokens_seen"] >= 400000
    assert find_train_state(models) is None, "a finished run removes its state"
    assert not [p for p in models.iterdir() if p.name.startswith(".") and p.name != ".train-state"]


@pytest.mark.parametrize("perturb", [False, True])
def test_identical_weights_check_catches_a_drifted_rank(tmp_path, perturb):
    mp.spawn(check_on_rank, args=(free_port(), perturb, str(tmp_path)), nprocs=2, join=True)
    verdicts = {(tmp_path / f"verdict-{r}").read_text() for r in (0, 1)}
    assert verdicts == ({"raised"} if perturb else {"passed"})


def check_on_rank(rank: int, port: int, perturb: bool, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank))
    from model.training.distributed import Cluster

    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    if perturb and rank == 1:
        with torch.no_grad():
            model.bias[0] += 1e-6
    cluster = Cluster(torch.device("cpu"))
    try:
        cluster.check_identical(model)
        verdict = "passed"
    except RuntimeError:
        verdict = "raised"
    try:
        cluster.barrier()
    finally:
        cluster.close()
    Path(out, f"verdict-{rank}").write_text(verdict)
