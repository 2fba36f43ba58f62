"""Shared helpers of the reliability scripts and the API benchmark: serve, load, observe.

    python -m scripts.common tiny-model DIR     # train one tiny model version into DIR (seconds)

- `Server` runs the service (or any WSGI app) under gunicorn with service/gunicorn.conf.py on a free
  loopback port, logs to a file, and stops it on exit. The access log is switched to a format that
  names the worker pid and the request's X-Request-Id, so a script can tell which worker answered
  which request without anything added to the API.
- `LoadClient` is a bounded Python load generator (threads × requests.Session) that keeps every
  response, for checks that need the bodies.
- `run_wrk` drives wrk with bench/post_json.lua and returns its figures.
- `train_tiny_versions` builds a small synthetic corpus and trains tiny model versions in-process.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
WRK_LUA = ROOT / "bench" / "post_json.lua"

# "<pid> request-id status "METHOD /path HTTP/1.1" microseconds": the pid is the worker that answered.
ACCESS_LOG_FORMAT = '%(p)s %({x-request-id}i)s %(s)s "%(r)s" %(D)s'
ACCESS_LINE = re.compile(r'^<(\d+)> (\S+) (\d{3}) ')
BOOTING_LINE = re.compile(r"Booting worker with pid: (\d+)")


# The prompts the load clients send in turn (the tiny models answer them too).
PROMPTS = [
    "the clouds are in the",
    "I grew up in France. I speak fluent",
    "we eat breakfast in the kitchen every",
    "She poured milk into her",
    "The dog is barking at the postman, and the cat is",
    "once upon a time there was a",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of the machine's CPU time spent busy over the next `seconds` (/proc/stat): is it quiet?"""
    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def child_pids(pid: int) -> list[int]:
    """Live (non-zombie) children of a process, from /proc (this kernel has no /proc/PID/task/*/children)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # pid (comm) state ppid ...; comm may hold spaces or parentheses, so split after the last ")".
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            children.append(int(entry))
    return sorted(children)


class LogTail:
    """Reads the lines appended to a file since the last call."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.partial = path, 0, ""

    def new_lines(self) -> list[str]:
        with open(self.path, encoding="utf-8", errors="replace") as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        return lines


def parse_access(line: str) -> tuple[int, str, int] | None:
    """(worker pid, request id, status) of an access-log line, or None for any other line."""
    m = ACCESS_LINE.match(line)
    return (int(m.group(1)), m.group(2), int(m.group(3))) if m else None


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

    def start(self) -> "Server":
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

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Result:
    request_id: str
    body_index: int
    start: float  # time.monotonic()
    end: float
    status: int | None  # None: no HTTP response (connection refused, reset, timeout)
    error: str | None = None
    json: dict | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class LoadClient:
    """`threads` clients, each POSTing `bodies` round robin to `url` until stop() or a bound is hit.

    Bounded twice: by `duration_s` and by `max_requests`. Every response is kept (with its JSON body
    when `keep_json`), and each request carries an X-Request-Id the access log records.
    """

    url: str
    bodies: list[dict]
    threads: int = 8
    duration_s: float = 60.0
    max_requests: int = 200_000
    timeout_s: float = 10.0
    keep_json: bool = False
    results: list[Result] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._payloads = [json.dumps(b).encode() for b in self.bodies]
        self._count = 0
        self._lock = threading.Lock()

    def _take(self) -> bool:
        with self._lock:
            self._count += 1
            return self._count <= self.max_requests

    def _run(self, thread: int, deadline: float) -> None:
        session = requests.Session()
        n = 0
        while not self._stop.is_set() and time.monotonic() < deadline and self._take():
            index = (thread + n) % len(self._payloads)
            request_id = f"t{thread}-{n}"
            n += 1
            start = time.monotonic()
            try:
                r = session.post(self.url, data=self._payloads[index], timeout=self.timeout_s,
                                 headers={"Content-Type": "application/json", "X-Request-Id": request_id})
                body = None
                if self.keep_json or r.status_code != 200:
                    try:
                        body = r.json()
                    except ValueError:
                        body = {"raw": r.text[:200]}
                error = None if r.status_code == 200 else f"HTTP {r.status_code}: {json.dumps(body)[:200]}"
                self.results.append(Result(request_id, index, start, time.monotonic(), r.status_code, error, body))
            except requests.RequestException as e:
                self.results.append(Result(request_id, index, start, time.monotonic(), None, f"{type(e).__name__}: {e}"))

    def start(self) -> "LoadClient":
        deadline = time.monotonic() + self.duration_s
        self._workers = [threading.Thread(target=self._run, args=(i, deadline), daemon=True) for i in range(self.threads)]
        for t in self._workers:
            t.start()
        return self

    def running(self) -> bool:
        return any(t.is_alive() for t in self._workers)

    def stop(self) -> None:
        self._stop.set()
        for t in self._workers:
            t.join(timeout=self.timeout_s + 5)

    def failures(self) -> list[Result]:
        return [r for r in self.results if not r.ok]


def run_wrk(url: str, bodies: list[dict], work_dir: Path, duration_s: float, connections: int,
            threads: int | None = None, timeout: str = "10s") -> tuple[dict, str]:
    """Run wrk with bench/post_json.lua; return (figures from its WRK_JSON line, wrk's full output)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: `make load-tools` (Debian package wrk)")
    bodies_file = Path(tempfile.mkstemp(prefix="bodies-", suffix=".jsonl", dir=work_dir)[1])
    bodies_file.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    threads = threads or min(2, connections)
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s", f"--timeout={timeout}",
           "--latency", "-s", str(WRK_LUA), url, "--", str(bodies_file)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    text = out.stdout + out.stderr
    line = next((l for l in text.splitlines() if l.startswith("WRK_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{text}")
    figures = json.loads(line[len("WRK_JSON "):])
    figures["socket_errors"] = sum(figures[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures, text


def install_version(source: Path, models_dir: Path) -> Path:
    """Copy a model version into models_dir the way the trainer writes one: a hidden temporary
    directory in the same parent, then one os.rename, so a reader sees nothing or all of it."""
    source, models_dir = Path(source), Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / source.name
    if target.exists():
        raise FileExistsError(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{source.name}-", dir=models_dir))
    try:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def train_tiny_versions(work_dir: Path, seeds: tuple[int, ...] = (0,)) -> list[Path]:
    """Train one tiny model version per seed (a few seconds each) into work_dir/versions, oldest first.

    All go into one folder so their ids are distinct and sort in training order, even within one second.
    """
    from corpus.build import build
    from model.train import TrainConfig, train

    corpus_dir, versions_dir = Path(work_dir) / "corpus", Path(work_dir) / "versions"
    if not (corpus_dir / "train.txt").exists():
        build(corpus_dir, train_passages=150, eval_passages=20, user_dir=None)
    paths = []
    for seed in seeds:
        config = TrainConfig(
            corpus_dir=corpus_dir, models_dir=versions_dir, embedding_size=32, hidden_size=64, vocab_size=800,
            min_frequency=1, batch_size=16, bptt=32, epochs=1, max_tokens=20_000, max_minutes=0, lr=1e-2,
            unk_dropout=0.0, curriculum=False, threads=1, seed=seed,
        )
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # the trainer's progress bars
            path = train(config)
        if path is None:
            raise RuntimeError(f"tiny training wrote no version:\n{sink.getvalue()[-2000:]}")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Helpers of the reliability scripts.")
    sub = p.add_subparsers(dest="command", required=True)
    tiny = sub.add_parser("tiny-model", help="train one tiny model version into MODELS_DIR and print its path")
    tiny.add_argument("models_dir", type=Path, help="models folder to put the version in")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tiny-") as work:
        (path,) = train_tiny_versions(Path(work))
        print(install_version(path, args.models_dir))


if __name__ == "__main__":
    main()
