#!/bin/sh
# The compose file's reverse proxy: write nginx.conf from the environment, then run nginx in the
# foreground. Works in the official nginx image and in Debian's nginx (docker/proxy.Dockerfile).
#
#   PROXY_LISTEN        address:port the stack answers on (default 0.0.0.0:8000)
#   API_PORTS           the range the api replicas bind in (default 8001-8008; docker/listen.py)
#   API_HOST            where the replicas listen (default 127.0.0.1: host network, same machine)
#   PROXY_FAIL_TIMEOUT  how long a replica that refused a connection is left out (default 5s)
#   PROXY_CONF          where the generated nginx.conf goes (default /tmp/nextword-nginx.conf)
#
# Host networking gives every replica its own port, so the upstream lists the whole range: a
# port with no replica refuses the connection at once, nginx passes the request to the next one
# and leaves the empty port out for PROXY_FAIL_TIMEOUT (passive health checks; open-source nginx
# has no active ones). A replica that answers 502/503 (model still loading) is skipped the same
# way. Every api route is safe to repeat (predictions are pure, reload is idempotent), hence
# non_idempotent: a POST is retried too.
set -eu

listen="${PROXY_LISTEN:-0.0.0.0:8000}"
ports="${API_PORTS:-8001-8008}"
api_host="${API_HOST:-127.0.0.1}"
fail_timeout="${PROXY_FAIL_TIMEOUT:-5s}"
first="${ports%-*}"
last="${ports#*-}"
case "$first$last" in
    *[!0-9]*|"") echo "run.sh: API_PORTS must be PORT or FIRST-LAST, not '$ports'" >&2; exit 2 ;;
esac

conf="${PROXY_CONF:-/tmp/nextword-nginx.conf}"
{
    cat <<EOF
# Written by docker/nginx/run.sh at start; edit that file, not this one.
worker_processes 1;
pid /tmp/nextword-nginx.pid;
error_log stderr warn;

events {
    worker_connections 1024;
}

http {
    log_format upstream '\$remote_addr "\$request" \$status \$body_bytes_sent '
                        'upstream=\$upstream_addr upstream_status=\$upstream_status rt=\$request_time';
    access_log /dev/stdout upstream;
    client_body_temp_path /tmp/nginx-client-body;
    proxy_temp_path /tmp/nginx-proxy;
    fastcgi_temp_path /tmp/nginx-fastcgi;
    uwsgi_temp_path /tmp/nginx-uwsgi;
    scgi_temp_path /tmp/nginx-scgi;
    server_tokens off;
    # The api refuses bodies over NEXTWORD_MAX_BODY_BYTES (64 KiB) with its own JSON error.
    client_max_body_size 1m;

    upstream nextword_api {
EOF
    port="$first"
    while [ "$port" -le "$last" ]; do
        echo "        server $api_host:$port max_fails=1 fail_timeout=$fail_timeout;"
        port=$((port + 1))
    done
    cat <<EOF
        keepalive 16;
    }

    server {
        listen $listen;

        location / {
            proxy_pass http://nextword_api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_connect_timeout 2s;
            # Longer than gunicorn's 30 s worker timeout: the api's own error comes through.
            proxy_read_timeout 35s;
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_next_upstream_timeout 10s;
        }
    }
}
EOF
} >"$conf"

nginx -e stderr -t -q -c "$conf"
echo "run.sh: proxy on $listen -> $api_host:$first-$last"
exec nginx -e stderr -c "$conf" -g 'daemon off;'
