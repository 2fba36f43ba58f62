#!/usr/bin/env bash
# Load test: the service under gunicorn (2 sync workers) on a free loopback port, wrk for DURATION
# seconds at CONNECTIONS connections against POST /v1/predict (a few prompts, round robin).
# Fails (exit 1) on any non-2xx response or socket error. Requirement: 60 s at 32 connections, zero errors.
#
#   scripts/load_test.sh                         # a tiny model trained on the spot (seconds)
#   scripts/load_test.sh --models-dir models     # the newest version in models/
#   DURATION=5 scripts/load_test.sh              # a short run (the test suite's)
#
# Env: DURATION (60), CONNECTIONS (32), WRK_THREADS (2), PYTHON (.venv/bin/python).
# wrk comes from Debian: `make load-tools`.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
MODELS_DIR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --models-dir) MODELS_DIR=$2; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "wrk is not installed: run \`make load-tools\`" >&2; exit 2; }

work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server"
        for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$server" 2>/dev/null && kill -KILL "$server"
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$MODELS_DIR" ]; then
    MODELS_DIR=$work/models
    echo "training a tiny model into $MODELS_DIR"
    "$PY" -m scripts.harness.tiny_models "$MODELS_DIR" >/dev/null
fi

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
# NEXTWORD_ACCESS_LOG empty: no access log line per request (service/gunicorn.conf.py).
HOST=127.0.0.1 PORT=$port NEXTWORD_WORKERS=2 NEXTWORD_MODELS_DIR=$MODELS_DIR NEXTWORD_ACCESS_LOG='' \
    "$PY" -m gunicorn -c service/gunicorn.conf.py 'service:create_app()' \
    >"$work/server.log" 2>&1 &
server=$!

# Ready when /readyz answers 200 (/healthz while the /readyz route does not exist yet).
ready=""
for _ in $(seq 1 600); do
    kill -0 "$server" 2>/dev/null || { echo "gunicorn exited:"; tail -30 "$work/server.log"; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz" || true)
    if [ "$code" = 404 ]; then code=$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz" || true); fi
    if [ "$code" = 200 ]; then ready=yes; break; fi
    sleep 0.1
done
[ -n "$ready" ] || { echo "service not ready after 60 s:"; tail -30 "$work/server.log"; exit 1; }

cat >"$work/bodies.jsonl" <<'EOF'
{"prompt": "the clouds are in the", "k": 5}
{"prompt": "I grew up in France. I speak fluent", "k": 5}
{"prompt": "we eat breakfast in the kitchen every", "k": 10}
{"prompt": "She poured milk into her", "k": 3}
{"prompt": "The dog is barking at the postman, and the cat is", "k": 5}
EOF

echo "wrk: ${DURATION}s, $CONNECTIONS connections, $WRK_THREADS threads, POST $url/v1/predict"
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
    -s bench/post_json.lua "$url/v1/predict" -- "$work/bodies.jsonl" | tee "$work/wrk.txt"

figures=$(sed -n 's/^WRK_JSON //p' "$work/wrk.txt")
[ -n "$figures" ] || { echo "FAIL: wrk printed no summary"; exit 1; }
verdict=$("$PY" -c '
import json, sys
f = json.loads(sys.argv[1])
socket_errors = f["connect_errors"] + f["read_errors"] + f["write_errors"] + f["timeouts"]
rps = f["requests"] / (f["duration_us"] / 1e6)
print("%d requests, %.0f req/s, p50 %.1f ms, p99 %.1f ms; non-2xx %d (first status %d), socket errors %d" % (
    f["requests"], rps, f["p50_us"] / 1000, f["p99_us"] / 1000, f["non2xx"], f["first_bad_status"], socket_errors))
print("PASS" if f["requests"] > 0 and f["non2xx"] == 0 and socket_errors == 0 else "FAIL")
' "$figures")
echo "$verdict"
if [ "$(echo "$verdict" | tail -1)" != PASS ]; then
    echo "--- server log (last 20 lines)"; tail -20 "$work/server.log"
    exit 1
fi
