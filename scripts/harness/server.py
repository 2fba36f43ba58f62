"""`Server`: the service (or any WSGI app) under gunicorn on a free loopback port, as a context manager."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from scripts.harness.processes import ACCESS_LOG_FORMAT, child_pids, free_port, parse_access

ROOT = Path(__file__).resolve().parents[2]


class Server:
    """gunicorn with service/gunicorn.conf.py (or `config`) on 127.0.0.1, `workers` sync workers, logging to `log_path`.

    Use as a context manager: the master is stopped (SIGTERM, then SIGKILL of its process group)
    on exit, whatever happened.
    """

    def __init__(self, log_path: Path, models_dir: Path | None = None, app: str = "service:create_app()",
                 workers: int = 2, env: dict[str, str] | None = None, access_log: bool = True,
                 config: Path | None = None, root: Path = ROOT) -> None:
        self.log_path, self.models_dir, self.app, self.workers = Path(log_path), models_dir, app, workers
        self.root = Path(root).resolve()  # the checkout whose code is served (bench/api_ab.py serves two)
        self.config = Path(config).resolve() if config else self.root / "service" / "gunicorn.conf.py"
        self.access_log = access_log  # off for benchmarks: the cost of a log line per request is not the model's
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        env = dict(os.environ, HOST="127.0.0.1", PORT=str(self.port), NEXTWORD_WORKERS=str(self.workers),
                   PYTHONUNBUFFERED="1", **self.extra_env)
        if self.models_dir is not None:
            env["NEXTWORD_MODELS_DIR"] = str(self.models_dir)
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(self.config)]
        if self.access_log:
            cmd += ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]
        else:
            env["NEXTWORD_ACCESS_LOG"] = ""  # service/gunicorn.conf.py: empty means no access log
        cmd.append(self.app)
        log = open(self.log_path, "wb")
        try:
            # A session of its own: stop() can end the master and its workers together, and only them.
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        finally:
            log.close()
        return self

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log, access-log lines left out."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join([line for line in text.splitlines() if not parse_access(line)][-lines:])

    def wait_ready(self, timeout_s: float = 90) -> float:
        """Seconds until GET /readyz answers 200."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = requests.get(self.url + "/readyz", timeout=5)
                if r.status_code == 200:
                    return time.monotonic() - start
                if r.status_code == 503:  # a worker is up and has no usable model: waiting will not help
                    raise RuntimeError(f"{self.url}/readyz answered 503: {r.text.strip()}\n{self.log_tail()}")
            except requests.RequestException:  # not listening yet
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.url} not ready after {timeout_s:.0f} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        return child_pids(self.proc.pid)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=35)  # graceful_timeout is 30 s
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
