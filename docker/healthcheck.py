"""Container health check: exit 0 when this replica's /readyz answers 200 (a model is loaded).

The port is the one docker/listen.py bound (a replica of a scaled service picks its own); the
path can be changed with an argument, e.g. `python docker/healthcheck.py /healthz`.
/readyz rather than /healthz: a replica that is still loading its model is alive but must not
count as healthy. curl is not in slim images; urllib raises (exit 1) on anything but 2xx.
"""
import os
import sys
import urllib.request

path = sys.argv[1] if len(sys.argv) > 1 else "/readyz"
try:
    with open(os.environ.get("NEXTWORD_PORT_FILE", "/tmp/nextword.port")) as f:
        port = f.read().strip()
except FileNotFoundError:  # not started through docker/listen.py
    port = os.environ.get("PORT", "8000")
host = os.environ.get("HOST", "127.0.0.1")
host = "127.0.0.1" if host in ("0.0.0.0", "") else host
urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=4)
