"""The Dockerfile lints clean and the compose file validates (no Docker engine needed).

`.ci/run` installs Debian's docker-compose; under CI a missing tool is a failure, not a skip.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run should install it")
        pytest.skip(f"{name} is not installed")
    return path


def test_dockerfile_passes_hadolint():
    result = subprocess.run([tool("hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_validates_and_has_the_services():
    compose = tool("docker-compose")
    result = subprocess.run([compose, "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    services = subprocess.run([compose, "config", "--services"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert set(services.stdout.split()) == {"init-model", "trainer", "api"}
    config = subprocess.run([compose, "config"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "network_mode: host" in config and "/readyz" in config
