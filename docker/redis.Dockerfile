# Redis for the document cache rows (service/rows_store.py), for a machine that cannot pull the official
# redis image: Debian's redis-server on a Debian base. docker-compose.yml uses ${REDIS_IMAGE:-redis:7.4-alpine};
# scripts/docker_smoke.sh builds this one from its local base and passes it as REDIS_IMAGE.
#
#   docker build --network host --build-arg BASE_IMAGE=... -t nextword-redis - <docker/redis.Dockerfile
#
# The settings (loopback only, no persistence, a memory cap with LRU eviction) are compose's command.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# Debian stable replaces a version when it ships a security fix, so an exact pin would stop
# building; the release (bookworm: redis 7.0) is pinned by the base image.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && redis-server --version

# The user Debian's package makes (its uid is the package's choice, hence a name).
# hadolint ignore=DL3066
USER redis
EXPOSE 6379

CMD ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
