"""The container-side helpers, without Docker: docker/listen.py (each api replica binds its own
free port of a range and execs gunicorn on it) and docker/nginx/run.sh (the proxy's upstream
lists that range). `make docker-smoke` runs them in real containers.
"""
import importlib.util
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# docker/listen.py is a script copied into the image, not part of a package: loaded from its path.
_spec = importlib.util.spec_from_file_location("listen", ROOT / "docker" / "listen.py")
listen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(listen)

WSGI_APP = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def free_range(n: int) -> range:
    """n consecutive ports on 127.0.0.1 that nothing listens on."""
    for _ in range(100):
        start = random.randint(20000, 60000)
        ports = range(start, start + n)
        if all(port_is_free(p) for p in ports):
            return ports
    raise RuntimeError("no free port range")


def test_port_range_parses_one_port_or_a_range():
    assert listen.port_range("8000") == range(8000, 8001)
    assert listen.port_range("8001-8008") == range(8001, 8009)
    for bad in ("8008-8001", "0", "x", "70000"):
        with pytest.raises(ValueError):
            listen.port_range(bad)


def test_bind_first_free_skips_ports_in_use_and_fails_when_all_are():
    ports = free_range(2)
    taken = listen.bind_first_free("127.0.0.1", ports)
    try:
        assert taken.getsockname()[1] == ports[0]
        second = listen.bind_first_free("127.0.0.1", ports)
        assert second.getsockname()[1] == ports[1]
        with pytest.raises(SystemExit, match="no free port"):
            listen.bind_first_free("127.0.0.1", ports)
        second.close()
    finally:
        taken.close()


def start_replica(tmp_path: Path, ports: range, name: str) -> tuple[subprocess.Popen, int]:
    port_file = tmp_path / f"{name}.port"
    env = {**os.environ, "HOST": "127.0.0.1", "NEXTWORD_PORTS": f"{ports.start}-{ports.stop - 1}",
           "NEXTWORD_PORT_FILE": str(port_file)}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen([sys.executable, str(ROOT / "docker/listen.py"), "--", gunicorn, "--workers", "1", "app:app"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            port = int(port_file.read_text())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.read() == b"ok"
                return proc, port
            except OSError:
                pass
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"{name} did not answer: {proc.communicate()[0]}")


def test_replicas_on_one_range_get_their_own_ports_and_gunicorn_is_the_process(tmp_path):
    (tmp_path / "app.py").write_text(WSGI_APP)
    ports = free_range(3)
    replicas = []
    try:
        for name in ("a", "b"):
            replicas.append(start_replica(tmp_path, ports, name))
        assert [port for _, port in replicas] == [ports[0], ports[1]]
        for proc, _ in replicas:
            # exec all the way: the pid the container runtime signals is gunicorn's master.
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
            assert any(arg.endswith(b"gunicorn") for arg in cmdline) and b"--bind" in cmdline, cmdline
    finally:
        for proc, _ in replicas:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in replicas:
            assert proc.wait(timeout=30) == 0
            proc.stdout.close()


def render_proxy_config(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Run docker/nginx/run.sh with a stand-in `nginx` that only records how it was called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "nginx"
    fake.write_text(f'#!/bin/sh\necho "$@" >>"{tmp_path}/nginx.calls"\n')
    fake.chmod(0o755)
    return subprocess.run(["sh", str(ROOT / "docker/nginx/run.sh")], capture_output=True, text=True,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "PROXY_CONF": str(tmp_path / "nginx.conf"), **env})


def test_proxy_config_lists_every_port_of_the_range(tmp_path):
    result = render_proxy_config(tmp_path, PROXY_LISTEN="127.0.0.1:18080", API_PORTS="18081-18083")
    assert result.returncode == 0, result.stderr
    conf = (tmp_path / "nginx.conf").read_text()
    assert "listen 127.0.0.1:18080;" in conf
    servers = [line.split()[1] for line in conf.splitlines() if line.strip().startswith("server 127.")]
    assert servers == ["127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083"]
    assert "proxy_next_upstream error timeout http_502 http_503 non_idempotent;" in conf
    calls = (tmp_path / "nginx.calls").read_text().splitlines()
    conf_path = str(tmp_path / "nginx.conf")
    assert calls == [f"-e stderr -t -q -c {conf_path}", f"-e stderr -c {conf_path} -g daemon off;"]


def test_proxy_refuses_a_bad_port_range(tmp_path):
    result = render_proxy_config(tmp_path, API_PORTS="8001-x")
    assert result.returncode == 2 and "API_PORTS" in result.stderr
