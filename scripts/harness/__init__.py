"""What the reliability scripts, the benchmarks and the tests share: serve, load, observe.

- processes.py: free loopback ports, CPU busy share, a process's children, reading a growing log,
  the access-log format that names the worker pid and the request's X-Request-Id;
- server.py: `Server` runs the service (or any WSGI app) under gunicorn with service/gunicorn.conf.py
  on a free loopback port, logs to a file, and stops it on exit;
- load.py: the prompts, `LoadClient` (a bounded Python load generator that keeps every response)
  and `run_wrk` (wrk with bench/post_json.lua);
- tiny_models.py: tiny model versions trained in seconds, installed atomically
  (`python -m scripts.harness.tiny_models DIR`).
"""
