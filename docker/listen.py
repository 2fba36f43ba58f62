"""Bind the first free port of a range, then exec a server on that socket (the api's entry point).

    python docker/listen.py -- gunicorn -c service/gunicorn.conf.py 'service:create_app()'

With `network_mode: host`, the replicas of `docker compose up --scale api=3` share the host's
ports, so they cannot all listen on one. Each replica takes the first port of $NEXTWORD_PORTS
(e.g. "8001-8008"; default: $PORT alone) that no one listens on, and the reverse proxy lists the
whole range. bind() + listen() either succeed or fail at once, so replicas that start together
never pick the same port (a free-port check followed by a later bind in gunicorn would race).

The listening socket is handed to gunicorn as `--bind fd://N` (gunicorn's socket-activation
path) across exec, so gunicorn stays the container's main process and gets its signals. The port
is written to $NEXTWORD_PORT_FILE for the health check and exported as $PORT.
"""
import os
import socket
import sys

PORT_FILE = os.environ.get("NEXTWORD_PORT_FILE", "/tmp/nextword.port")


def port_range(spec: str) -> range:
    """ "8001-8008" -> 8001..8008; "8000" -> 8000 alone."""
    first, _, last = spec.strip().partition("-")
    start, stop = int(first), int(last or first)
    if not 0 < start <= stop < 65536:
        raise ValueError(f"bad port range {spec!r}")
    return range(start, stop + 1)


def bind_first_free(host: str, ports: range, backlog: int = 2048) -> socket.socket:
    for port in ports:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        # SO_REUSEADDR lets a restarted replica take its port back from TIME_WAIT; Linux still
        # refuses a second listener on a port, so listen() below fails where a replica listens.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(backlog)
            return sock
        except OSError:
            sock.close()
    raise SystemExit(f"listen.py: no free port on {host} in {ports.start}-{ports.stop - 1}")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        raise SystemExit("usage: listen.py -- COMMAND [ARGS...]")
    host = os.environ.get("HOST", "127.0.0.1")
    sock = bind_first_free(host, port_range(os.environ.get("NEXTWORD_PORTS") or os.environ.get("PORT", "8000")))
    port = sock.getsockname()[1]
    fd = sock.detach()
    os.set_inheritable(fd, True)
    with open(PORT_FILE, "w") as f:
        f.write(f"{port}\n")
    os.environ["PORT"] = str(port)
    print(f"listen.py: listening on {host}:{port}", flush=True)
    # A --bind on the command line overrides the one gunicorn.conf.py derives from HOST and PORT.
    os.execvp(argv[0], [*argv, "--bind", f"fd://{fd}"])


if __name__ == "__main__":
    main(sys.argv[1:])
