"""gunicorn settings for the next-word service (plain Python, environment with defaults).

    gunicorn -c service/gunicorn.conf.py 'service:create_app()'

This file runs in the master before any worker exists, which makes it the place to set up
what the workers share: the state-token key, the Prometheus multiprocess folder and the folder
of document cache rows.
"""
import importlib.util
import os
import resource
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

# The settings of this very checkout (service/config.py beside this file, whatever is installed),
# read by path: it imports only the standard library, so the master stays light (no torch, no
# prometheus_client before PROMETHEUS_MULTIPROC_DIR is set).
_spec = importlib.util.spec_from_file_location("nextword_settings", Path(__file__).resolve().parent / "config.py")
_settings = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _settings  # dataclasses look their module up there
_spec.loader.exec_module(_settings)
ServiceConfig, prepare_metrics_dir = _settings.ServiceConfig, _settings.prepare_metrics_dir

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers for CPU-bound inference; workers × NEXTWORD_TORCH_THREADS should not exceed the cores.
workers = int(os.environ.get("NEXTWORD_WORKERS", "2"))
worker_class = "sync"
# numpy's BLAS (model/fast_step.py's one-token matrix-vector products) gets one thread per worker,
# as torch does: a second thread only waits for a core the other worker holds (in process, under
# load on 2 cores, the top k took 8 ms with two BLAS threads and 0.08 ms with one). Read when numpy
# loads, so it is set here, before the import of torch below.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# No preload of the app: the model is loaded in each worker after fork (forking a process that
# has run torch operations, and so started its thread pools, can hang).
preload_app = False
# The longest request (a 64-prompt batch or 200 generated words) takes well under a second.
timeout = 30
graceful_timeout = int(os.environ.get("NEXTWORD_GRACEFUL_TIMEOUT", "30"))  # match compose's stop_grace_period
# Recycle workers now and then, spread widely: with 10,000 ± 1,000 requests two workers under the
# same load came up for recycling within the same second (2026-11-27, 8 connections of one-word
# requests: both restarted together and p99 over those 10 s was 167 ms instead of ~10).
max_requests = 50000
max_requests_jitter = 25000
accesslog = os.environ.get("NEXTWORD_ACCESS_LOG", "-") or None  # empty: no access log (load tests)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")

# Every worker must verify the tokens the others sign: without a configured secret, draw one
# for this server's lifetime. Replicas behind one proxy need NEXTWORD_STATE_SECRET set alike.
if not os.environ.get("NEXTWORD_STATE_SECRET"):  # unset or empty (compose passes "" when unset)
    os.environ["NEXTWORD_STATE_SECRET"] = secrets.token_hex(32)

# The service's settings are checked here, once, before any worker starts: a bad one (a secret or
# admin token under 16 bytes, a number that is not one) stops the server with one clear line,
# instead of every worker failing to boot. The exit status is 1.
try:
    ServiceConfig.from_env()
except ValueError as e:
    sys.exit(f"nextword: {e}")

# Metrics from all workers are summed through files in one folder, emptied of the last run's
# metric files at each start (and on a reload, SIGHUP). A folder that holds anything else is
# refused, never emptied: the variable may name a folder that is not ours.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="nextword-metrics-")
else:
    try:
        prepare_metrics_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    except (ValueError, OSError) as e:
        sys.exit(f"nextword: {e}")


# The document cache rows every worker reads (service/shared_rows.py): a fresh folder in shared memory
# per server start, named after this master's pid, removed when the server stops. Tokens from an
# earlier start then rebuild. Folders a killed master (SIGKILL: no on_exit) left are removed here.
def _remove_orphaned_rows_dirs(parent: str = "/dev/shm") -> None:
    for path in Path(parent).glob("nextword-rows-*-*"):
        pid = path.name.split("-")[2]
        try:
            if path.stat().st_uid != os.getuid() or not pid.isdigit():
                continue
            os.kill(int(pid), 0)  # that master still runs: its folder stays
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (PermissionError, FileNotFoundError):  # another user's process, or gone meanwhile
            continue


# Each mapped rows file holds a file descriptor in the worker that maps it (as many as the LRU holds
# documents, 4,096 at most): lift the soft limit where it is the common 1,024.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft != resource.RLIM_INFINITY and _soft < 16384:
    resource.setrlimit(resource.RLIMIT_NOFILE, (16384 if _hard == resource.RLIM_INFINITY else min(16384, _hard), _hard))

if not os.environ.get("NEXTWORD_SHARED_CACHE_DIR") and os.path.isdir("/dev/shm"):
    _remove_orphaned_rows_dirs()
    os.environ["NEXTWORD_SHARED_CACHE_DIR"] = tempfile.mkdtemp(prefix=f"nextword-rows-{os.getpid()}-", dir="/dev/shm")
    _made_rows_dir = os.environ["NEXTWORD_SHARED_CACHE_DIR"]
else:
    _made_rows_dir = None


def on_exit(server):
    if _made_rows_dir:
        shutil.rmtree(_made_rows_dir, ignore_errors=True)


def child_exit(server, worker):
    """A dead worker's live gauges (its served model) must stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Once the app and its model are loaded: move every object so far out of the garbage
    collector's sight. They live as long as the worker, and a full collection no longer walks
    the hundreds of thousands of them (torch, the vocabulary) in the middle of a request."""
    import gc

    gc.freeze()


# The libraries are imported here, in the master, but nothing is run with them: a worker that
# replaces a dead one then starts in ~0.3 s instead of ~2.5 s spent importing torch (measured
# with scripts/kill_worker.py). Importing starts no thread pool; the first torch operation,
# in the worker, does.
import flask  # noqa: E402,F401
import pydantic  # noqa: E402,F401
import safetensors.torch  # noqa: E402,F401
import tokenizers  # noqa: E402,F401
import torch  # noqa: E402,F401
