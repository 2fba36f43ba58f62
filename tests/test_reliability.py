"""The reliability scripts, short: load test, a worker killed under load, a model hot-swapped under load.

Each runs the real script against gunicorn on loopback with the tiny fixture model, for a few
seconds instead of the minute the full runs take (scripts/*.py --help; docs/benchmarks.md).
wrk comes from Debian (`make load-tools`; `.ci/run` installs it): without it the load test is
skipped locally and fails under CI.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from model.checkpoint import list_versions
from model.training.run import train
from tests.conftest import tiny_train_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def run_script(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    result = subprocess.run(list(args), cwd=ROOT, env=dict(os.environ, **(env or {})), capture_output=True, text=True,
                            timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "PASS" in output.splitlines()[-1], output
    return output


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is not installed; .ci/run should install it")
        pytest.skip("wrk is not installed (make load-tools)")


def test_load_test_has_no_errors(tiny_models_dir):
    require_wrk()
    output = run_script("bash", "scripts/load_test.sh", "--models-dir", str(tiny_models_dir),
                        env={"DURATION": "5", "PYTHON": sys.executable})
    assert "non-2xx 0" in output and "socket errors 0" in output


def test_killed_worker_costs_few_requests_and_comes_back_fast(tiny_models_dir):
    output = run_script(sys.executable, "scripts/kill_worker.py", "--models-dir", str(tiny_models_dir),
                        "--kill-after", "1.5", "--duration", "4")
    assert "recovery time:" in output


def test_hot_swap_serves_one_version_per_response_and_fails_none(tiny_models_dir, tiny_corpus, tmp_path):
    a_dir = tiny_models_dir / list_versions(tiny_models_dir)[-1]
    staging = tmp_path / "versions"
    staging.mkdir()
    shutil.copytree(a_dir, staging / a_dir.name)
    # Trained beside A, so its id sorts after A's even within the same second; another seed, other outputs.
    b_dir = train(tiny_train_config(tiny_corpus, staging, seed=1, epochs=2))
    output = run_script(sys.executable, "scripts/hot_swap.py", "--version-a", str(staging / a_dir.name),
                        "--version-b", str(b_dir), "--reload-interval", "0.5", "--before", "1", "--settle", "1",
                        "--give-up", "20")
    assert "failed: 0" in output and "violations: 0" in output


def test_the_paired_benchmark_serves_two_checkouts_under_load_together(tiny_models_dir):
    require_wrk()
    result = subprocess.run([sys.executable, "bench/api_ab.py", "--a", str(ROOT), "--b", str(ROOT),
                             "--models-dir", str(tiny_models_dir), "--rounds", "2", "--seconds", "1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    rounds = [line for line in output.splitlines() if line.startswith("round ")]
    assert len(rounds) == 2 and all(" B/A " in line for line in rounds), output
    assert "median B/A over 2 rounds" in output and "failed requests: 0" in output, output
