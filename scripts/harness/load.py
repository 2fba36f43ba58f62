"""Load: the prompts every load client sends, a bounded Python load generator that keeps each
response (`LoadClient`), and wrk driven with bench/post_json.lua (`run_wrk`)."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

WRK_LUA = Path(__file__).resolve().parents[2] / "bench" / "post_json.lua"

# The prompts the load clients send in turn (the tiny models answer them too).
PROMPTS = [
    "the clouds are in the",
    "I grew up in France. I speak fluent",
    "we eat breakfast in the kitchen every",
    "She poured milk into her",
    "The dog is barking at the postman, and the cat is",
    "once upon a time there was a",
]


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

    def start(self) -> LoadClient:
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
    line = next((row for row in text.splitlines() if row.startswith("WRK_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{text}")
    figures = json.loads(line[len("WRK_JSON "):])
    figures["socket_errors"] = sum(figures[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures, text
