"""gunicorn settings for the next-word service (plain Python, environment with defaults).

    gunicorn -c service/gunicorn.conf.py 'service:create_app()'
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers for CPU-bound inference; workers × NEXTWORD_TORCH_THREADS should not exceed the cores.
workers = int(os.environ.get("NEXTWORD_WORKERS", "2"))
worker_class = "sync"
# No preload: torch is loaded in each worker after fork (forking a process that has
# started torch's thread pools can hang).
preload_app = False
timeout = 30
graceful_timeout = int(os.environ.get("NEXTWORD_GRACEFUL_TIMEOUT", "30"))  # match compose's stop_grace_period
max_requests = 10000  # recycle workers now and then; the jitter keeps them from restarting together
max_requests_jitter = 1000
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
