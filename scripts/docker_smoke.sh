#!/usr/bin/env bash
# Docker compose, really run: build the images, train a tiny model in init-model, serve through
# the proxy, scale the api to 3 replicas, retrain with the trainer, lose a replica. `make
# docker-smoke` runs it (as root); run it before each release of the Dockerfile or compose files.
#
# On this machine no image registry is reachable and Docker's default bridge network is off
# limits, so the script
#   - starts a Docker engine of its own (dockerd with --bridge none --iptables=false, its own
#     socket, data and exec roots in a temporary folder) and stops it at the end;
#   - makes the base image itself (docker/make_base_image.sh: debootstrap bookworm + python3,
#     `docker import`), passed as BASE_IMAGE; the rootfs tar (~180 MB) is kept in
#     /var/cache/nextword/ (SMOKE_BASE_CACHE) and reused by later runs: delete it for a fresh one
#     (e.g. to pick up Debian security updates);
#   - serves the local CPU-only torch wheel (the one pip uses here, in /opt/wheels) from a
#     throwaway index on 127.0.0.1, passed as TORCH_INDEX_URL; everything else comes from PyPI;
#   - builds the proxy image from Debian's nginx (docker/proxy.Dockerfile), passed as PROXY_IMAGE,
#     and the Redis image from Debian's redis-server (docker/redis.Dockerfile), as REDIS_IMAGE; the
#     stack runs with the "redis" profile, and its tiny model is trained with the document cache;
#   - runs every service with network_mode: host on 127.0.0.1 only.
# The compose commands are the README's ("Docker compose"), with the variables below. Every wait
# is bounded; on exit (success, failure or Ctrl-C) it removes the containers, volumes, images
# and the engine's folders it made (all on a tmpfs), keeping only the base tar. 1.5-3 minutes
# with the base tar cached, ~1.5 more to make it (measured here: 1m28s and 2m41s; 3m06s cold).
#
# Needs: root, dockerd (Debian docker.io), docker-compose (Debian, 1.29), debootstrap; missing
# ones are installed with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE_PORT="${SMOKE_PORT:-18080}"                   # the proxy: where the stack answers
SMOKE_API_PORTS="${SMOKE_API_PORTS:-18081-18084}"   # the api replicas' range
SMOKE_INDEX_PORT="${SMOKE_INDEX_PORT:-18079}"       # the throwaway torch index
SMOKE_REDIS_PORT="${SMOKE_REDIS_PORT:-18078}"       # Redis (the "redis" profile)
# The base rootfs tar, kept between runs (outside the checkout, so fresh clones and CI on this
# machine reuse it); named by a hash of the script that makes it, so a changed script makes a new one.
SMOKE_BASE_CACHE="${SMOKE_BASE_CACHE:-/var/cache/nextword}"
SMOKE_BASE_TAR="$SMOKE_BASE_CACHE/bookworm-python3-$(sha256sum docker/make_base_image.sh | cut -c1-12).tar"
TORCH_WHEEL_DIR="${TORCH_WHEEL_DIR:-/opt/wheels}"

START=$(date +%s)
say() { echo "== [$(($(date +%s) - START))s] $*"; }
fail() { echo "docker_smoke: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (it starts dockerd and runs debootstrap)"

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

torch_version=$(sed -n 's/^torch==\([^ ]*\).*/\1/p' requirements.txt)
shopt -s nullglob
wheels=("$TORCH_WHEEL_DIR"/torch-"$torch_version"+cpu-cp311-*.whl)
shopt -u nullglob
[ ${#wheels[@]} -ge 1 ] || fail "no torch $torch_version CPU wheel for Python 3.11 in $TORCH_WHEEL_DIR"

port_in_use() {
    python3 -c 'import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"
}
for port in "$SMOKE_PORT" "$SMOKE_INDEX_PORT" "$SMOKE_REDIS_PORT" $(seq "${SMOKE_API_PORTS%-*}" "${SMOKE_API_PORTS#*-}"); do
    if port_in_use "$port"; then fail "port $port on 127.0.0.1 is taken; set SMOKE_PORT/SMOKE_API_PORTS/SMOKE_INDEX_PORT/SMOKE_REDIS_PORT"; fi
done

WORK=$(mktemp -d /tmp/nextword-docker-smoke.XXXXXX)
# The engine's data on a tmpfs (~2 GB used): builds do no disk I/O, and removing it all at the end
# is an unmount instead of minutes of deleting small files. SMOKE_TMPFS_SIZE=0: on disk instead.
if [ "${SMOKE_TMPFS_SIZE:-8g}" != 0 ]; then
    mount -t tmpfs -o "size=${SMOKE_TMPFS_SIZE:-8g},mode=0700" nextword-smoke "$WORK"
fi
export DOCKER_HOST="unix://$WORK/docker.sock"
export COMPOSE_PROJECT_NAME=nextwordsmoke
# The classic builder (this engine has no buildx); compose builds through the engine's API.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
index_pid=""
dockerd_pid=""

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    say "cleanup"
    if [ -S "$WORK/docker.sock" ] && timeout 10 docker info >/dev/null 2>&1; then
        if [ "$rc" != 0 ]; then
            echo "   --- last log lines of each service ---"
            timeout 30 docker-compose --profile train --profile redis logs --no-color --tail 25 2>&1 | sed 's/^/   /'
        fi
        timeout 120 docker-compose --profile train --profile redis down --volumes --remove-orphans --timeout 10 2>&1 | sed 's/^/   /'
    fi
    if [ -n "$index_pid" ]; then kill "$index_pid" 2>/dev/null; wait "$index_pid" 2>/dev/null; fi
    if [ -n "$dockerd_pid" ]; then
        kill -TERM "$dockerd_pid" 2>/dev/null
        for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$dockerd_pid" 2>/dev/null; then echo "   dockerd did not stop in 30 s: SIGKILL"; kill -KILL "$dockerd_pid"; fi
        wait "$dockerd_pid" 2>/dev/null
    fi
    # Anything the engine left mounted under its folders (normally nothing), then the folders.
    grep -o " $WORK/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
    if mountpoint -q "$WORK"; then umount "$WORK" || umount -l "$WORK"; fi
    rm -rf "$WORK"
    say "done (exit $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting dockerd (own socket and data root in $WORK; no bridge, no iptables)"
dockerd --host "$DOCKER_HOST" --data-root "$WORK/data" --exec-root "$WORK/exec" \
    --pidfile "$WORK/dockerd.pid" --bridge none --iptables=false --ip-masq=false \
    --storage-driver overlay2 >"$WORK/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 60); do
    timeout 5 docker info >/dev/null 2>&1 && break
    sleep 1
done
timeout 5 docker info >/dev/null 2>&1 || { tail -n 20 "$WORK/dockerd.log" >&2; fail "dockerd did not answer in 60 s"; }
docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}'
docker-compose version --short | sed 's/^/docker-compose /'

if [ ! -s "$SMOKE_BASE_TAR" ]; then
    say "making the base image (debootstrap bookworm + python3)"
    rm -f "$SMOKE_BASE_CACHE"/bookworm-python3-*.tar   # tars of an older make_base_image.sh
    timeout 900 bash docker/make_base_image.sh "$SMOKE_BASE_TAR"
else
    say "base image from $SMOKE_BASE_TAR (delete it to make a fresh one)"
fi
timeout 300 docker import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python"]' \
    "$SMOKE_BASE_TAR" nextword-smoke-base:bookworm >/dev/null

say "building the proxy image (Debian's nginx)"
timeout 600 docker build --network host --build-arg BASE_IMAGE=nextword-smoke-base:bookworm \
    -t nextword-smoke-proxy:latest - <docker/proxy.Dockerfile >"$WORK/proxy-build.log" 2>&1 \
    || { tail -n 30 "$WORK/proxy-build.log" >&2; fail "the proxy image did not build"; }
grep -o 'nginx version: [^ ]*' "$WORK/proxy-build.log" | sed 's/^/   /' || true

say "building the Redis image (Debian's redis-server)"
timeout 600 docker build --network host --build-arg BASE_IMAGE=nextword-smoke-base:bookworm \
    -t nextword-smoke-redis:latest - <docker/redis.Dockerfile >"$WORK/redis-build.log" 2>&1 \
    || { tail -n 30 "$WORK/redis-build.log" >&2; fail "the Redis image did not build"; }
grep -o 'Redis server v=[^ ]*' "$WORK/redis-build.log" | sed 's/^/   /' || true

# A one-package index on loopback: torch comes from this machine's CPU wheel, never PyPI's CUDA build.
mkdir -p "$WORK/index/torch"
ln -s "${wheels[0]}" "$WORK/index/torch/"
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/index" "$SMOKE_INDEX_PORT" >"$WORK/index.log" 2>&1 &
index_pid=$!

# The variables the README's commands read (docker-compose.yml), for this machine and a tiny model.
export BASE_IMAGE=nextword-smoke-base:bookworm
export TORCH_INDEX_URL="http://127.0.0.1:$SMOKE_INDEX_PORT/"
export PIP_EXTRA_ARGS="--trusted-host 127.0.0.1"
export PROXY_IMAGE=nextword-smoke-proxy:latest
export REDIS_IMAGE=nextword-smoke-redis:latest REDIS_PORT="$SMOKE_REDIS_PORT" COMPOSE_PROFILES=redis
export NEXTWORD_REDIS_URL="redis://127.0.0.1:$SMOKE_REDIS_PORT/0"
export PROXY_HOST=127.0.0.1 PORT="$SMOKE_PORT" API_PORTS="$SMOKE_API_PORTS"
export NEXTWORD_WORKERS=1 NEXTWORD_RELOAD_INTERVAL=2
export NEXTWORD_CORPUS_ARGS="--train-passages 300 --eval-passages 30"
export NEXTWORD_TRAIN_ARGS="--dry-run --tune-cache"   # with a document cache, so its rows are shared
unset NEXTWORD_STATE_SECRET NEXTWORD_ADMIN_TOKEN  # replicas share the key init-model writes

# HTTP checks, in Python (urllib): the proxy and the replicas answer on 127.0.0.1 only.
cat >"$WORK/check.py" <<'EOF'
import json, sys, time, urllib.error, urllib.request

def call(port, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if body is not None else "GET",
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.load(r)

def ready(port, timeout_s, not_model=""):
    """Wait until /readyz is 200 (and names a model other than not_model); print the model."""
    deadline, last = time.time() + float(timeout_s), None
    while time.time() < deadline:
        try:
            status, body = call(port, "/readyz")
            if status == 200 and body["model"] != not_model:
                print(body["model"]); return
            last = body
        except (OSError, urllib.error.HTTPError) as e:
            last = e
        time.sleep(0.5)
    sys.exit(f"port {port}: not ready in {timeout_s} s (last: {last})")

def predict(port, prompt):
    status, body = call(port, "/v1/predict", {"prompt": prompt, "k": 3})
    assert status == 200 and len(body["predictions"]) == 3 and body["state"], body
    print(json.dumps({"port": int(port), **{k: body[k] for k in ("model", "predictions")}}))

def continue_elsewhere(first, second, third):
    """A state token from one replica, continued on another, equals the whole text on a third."""
    head, tail = "I grew up in France. I speak", "fluent"
    _, a = call(first, "/v1/predict", {"prompt": head, "k": 5})
    _, b = call(second, "/v1/predict", {"prompt": tail, "state": a["state"], "k": 5})
    _, c = call(third, "/v1/predict", {"prompt": f"{head} {tail}", "k": 5})
    for p, q in zip(b["predictions"], c["predictions"]):
        assert p["word"] == q["word"] and abs(p["probability"] - q["probability"]) < 1e-4, (b, c)
    print(f"token from :{first} continued on :{second} = whole text on :{third}: {[p['word'] for p in b['predictions']]}")

def upstreams():
    """From the proxy's access log on stdin: the replica ports that answered 200 (the last try)."""
    import re
    ports = set()
    for m in re.finditer(r"upstream=(.*?) upstream_status=(.*?) rt=", sys.stdin.read()):
        addrs, codes = m[1].split(", "), m[2].split(", ")
        if codes[-1] == "200":
            ports.add(addrs[-1].rsplit(":", 1)[1])
    print(" ".join(sorted(ports)))

HEAD = " ".join(["I grew up in France. The clouds are in the sky."] * 6)

def start_text(port):
    """A text typed in three requests on one replica: prints the last state token."""
    body = None
    for part in (HEAD, "I speak", "fluent"):
        _, body = call(port, "/v1/predict", {"prompt": part, "k": 5, **({"state": body["state"]} if body else {})})
    print(body["state"])

def finish_text(second, third, token):
    """Continue that token on another replica: the whole text's answer on a third; print how the second
    found the cache (its nextword_document_cache_total counts)."""
    _, b = call(second, "/v1/predict", {"prompt": "and", "state": token, "k": 5})
    _, c = call(third, "/v1/predict", {"prompt": f"{HEAD} I speak fluent and", "k": 5})
    for p, q in zip(b["predictions"], c["predictions"]):
        assert p["word"] == q["word"] and abs(p["probability"] - q["probability"]) < 1e-4, (b, c)
    with urllib.request.urlopen(f"http://127.0.0.1:{second}/metrics", timeout=10) as r:
        lines = r.read().decode().splitlines()
    print(" ".join(l.split("{")[1].split("}")[0] + "=" + l.split()[-1] for l in lines
                   if l.startswith("nextword_document_cache_total{")))

def many(port, n):
    for i in range(int(n)):
        status, body = call(port, "/v1/predict", {"prompt": f"the clouds are in the {i}", "k": 1})
        assert status == 200, body
    print(f"{n} predictions through :{port}, all 200")

globals()[sys.argv[1]](*sys.argv[2:])
EOF
check() { timeout 200 python3 "$WORK/check.py" "$@"; }
api_ids() { docker-compose ps -q api; }
replica_port() { docker exec "$1" cat /tmp/nextword.port; }

say "docker-compose up -d   (builds the image; init-model trains a tiny model; api + proxy)"
timeout 1500 docker-compose up -d >"$WORK/up.log" 2>&1 || { tail -n 40 "$WORK/up.log" >&2; fail "docker-compose up -d failed"; }
tr -d '\r' <"$WORK/up.log" | grep -E '^(Step [0-9]+/|torch .*CPU-only|Successfully (built|tagged)|Creating.*(done|driver)$)' \
    | grep -vE '^Step [0-9]+/[0-9]+ : (ARG|ENV|WORKDIR|EXPOSE|USER|ENTRYPOINT|CMD)' | cut -c1-150 | sed 's/^/   /' || true
docker image ls --format 'table {{.Repository}}\t{{.Tag}}\t{{.Size}}'
docker-compose logs --no-color init-model >"$WORK/init-model.log"
tail -n 4 "$WORK/init-model.log" | sed 's/^/   /'
say "waiting for /readyz through the proxy (:$SMOKE_PORT)"
v1=$(check ready "$SMOKE_PORT" 180)
echo "   serving model $v1"
check predict "$SMOKE_PORT" "the clouds are in the"
first=$(api_ids)
check predict "$(replica_port "$first")" "the clouds are in the"   # the api container directly

say "docker-compose up -d --scale api=3"
timeout 600 docker-compose up -d --scale api=3 2>&1 | tr -d '\r' | sed -e '/\.\.\. $/d' -e 's/^/   /'
mapfile -t ids < <(api_ids)
[ ${#ids[@]} = 3 ] || fail "expected 3 api containers, got ${#ids[@]}"
ports=()
for id in "${ids[@]}"; do
    for _ in $(seq 60); do replica_port "$id" >/dev/null 2>&1 && break; sleep 1; done
    ports+=("$(replica_port "$id")")
done
echo "   replica ports: ${ports[*]}"
[ "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" = 3 ] || fail "replicas share a port"
for port in "${ports[@]}"; do check ready "$port" 180 >/dev/null; done
check continue_elsewhere "${ports[0]}" "${ports[1]}" "${ports[2]}"
# The proxy left the new replicas' ports out when they refused connections before the scale-up;
# it tries them again after PROXY_FAIL_TIMEOUT (5 s).
sleep 6
check many "$SMOKE_PORT" 30
docker-compose logs --no-color proxy >"$WORK/proxy.log"
used=$(python3 "$WORK/check.py" upstreams <"$WORK/proxy.log")
echo "   replicas that answered through the proxy: $used"
for port in "${ports[@]}"; do
    case " $used " in *" $port "*) ;; *) fail "the proxy never sent a request to :$port";; esac
done

say "waiting for the containers' health checks"
healthy=0
for _ in $(seq 120); do
    healthy=0
    for id in "${ids[@]}"; do
        [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ] && healthy=$((healthy + 1))
    done
    [ "$healthy" = 3 ] && break
    sleep 1
done
[ "$healthy" = 3 ] || fail "only $healthy of 3 api containers healthy after 120 s"
docker-compose ps | sed 's/^/   /'

say "the replicas share one folder of document cache rows (the cache-rows tmpfs)"
docker exec "${ids[0]}" python -c "
import os, sys
st = os.stat('/cache-rows/nextword')
if st.st_uid != os.getuid() or st.st_mode & 0o077:
    sys.exit(1)
open('/cache-rows/nextword/.smoke', 'w').close()" || fail "no rows folder of the service user's own in ${ids[0]:0:12}"
for id in "${ids[@]:1}"; do
    docker exec "$id" test -e /cache-rows/nextword/.smoke || fail "replica ${id:0:12} does not see the shared rows folder"
done
docker exec "${ids[0]}" rm /cache-rows/nextword/.smoke
echo "   one rows folder, owned by the service user (0700), seen by all 3 replicas"

say "a text continued from Redis: its rows removed from the host's folder, as on another host"
token=$(check start_text "${ports[0]}")
docker exec "${ids[0]}" sh -c 'rm -f /cache-rows/nextword/*'
found=$(check finish_text "${ports[1]}" "${ports[2]}" "$token")
echo "   :${ports[1]} continued it as the whole text on :${ports[2]}; its caches: $found"
case " $found " in *'result="redis"='[1-9]*) ;; *) fail "the replica did not read the rows from Redis";; esac
redis_id=$(docker-compose ps -q redis)
keys=$(docker exec "$redis_id" redis-cli -p "$SMOKE_REDIS_PORT" --scan --pattern 'nextword:rows:*' | wc -l)
echo "   Redis holds $keys key(s) of rows"
[ "$keys" -ge 1 ] || fail "no rows in Redis"

say "docker-compose run --rm trainer   (a new model version; the replicas switch without a restart)"
timeout 900 docker-compose run --rm trainer >"$WORK/trainer.log" 2>&1 || { tail -n 30 "$WORK/trainer.log" >&2; fail "trainer failed"; }
tail -n 3 "$WORK/trainer.log" | sed 's/^/   /'
for port in "${ports[@]}"; do
    v2=$(check ready "$port" 60 "$v1")
    echo "   :$port serves $v2 (was $v1)"
done
check predict "$SMOKE_PORT" "the clouds are in the"
restarts=$(docker inspect -f '{{.RestartCount}} {{.State.StartedAt}}' "${ids[@]}" | sort -u)
echo "   restart count / start time of each replica: $(echo "$restarts" | tr '\n' ';')"

say "losing a replica: docker stop ${ids[0]:0:12} (SIGTERM; gunicorn's graceful stop)"
t0=$(date +%s.%N)
timeout 60 docker stop "${ids[0]}" >/dev/null
echo "   stopped in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)") s"
check many "$SMOKE_PORT" 30

say "docker-compose down   (the models volume stays)"
timeout 120 docker-compose down 2>&1 | tr -d '\r' | sed -e '/\.\.\. $/d' -e 's/^/   /'
[ -z "$(docker ps -aq)" ] || fail "containers left after down"
docker volume ls -q | grep -qx "${COMPOSE_PROJECT_NAME}_models" || fail "the models volume is gone after down"
say "PASS"
