# Reverse proxy for the api replicas, for a machine that cannot pull the official nginx image:
# Debian's nginx on a Debian base. docker-compose.yml uses ${PROXY_IMAGE:-nginx:1.28-alpine};
# scripts/docker_smoke.sh builds this one from its local base and passes it as PROXY_IMAGE.
#
#   docker build --network host --build-arg BASE_IMAGE=... -t nextword-proxy - <docker/proxy.Dockerfile
#
# The configuration is not baked in: compose mounts docker/nginx/ and runs docker/nginx/run.sh,
# which writes nginx.conf from the environment, in this image and in the official one alike.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# Debian stable replaces a version when it ships a security fix, so an exact pin would stop
# building; the release (bookworm: nginx 1.22) is pinned by the base image.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/* \
 && nginx -v

EXPOSE 8000

CMD ["nginx", "-g", "daemon off;"]
