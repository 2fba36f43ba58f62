# nextword: next-word prediction service (word-level LSTM, Flask API on gunicorn).
#
# Build:   docker build -t nextword:latest .        (or: docker compose build)
# Run:     see docker-compose.yml (init-model -> api; trainer for new versions).
#
# Build args:
#   BASE_IMAGE       Python base image (default python:3.11-slim).
#   TORCH_INDEX_URL  Index holding the CPU-only torch wheels, passed to pip as
#                    --extra-index-url. Its "+cpu" builds sort above PyPI's
#                    (CUDA) builds of the same version, so torch==X resolves
#                    to X+cpu. The build fails below if a CUDA build slips in.
#   PIP_EXTRA_ARGS   Extra pip arguments, empty by default. A machine without
#                    internet access makes its wheels and its CA bundle
#                    available in the build, e.g. through a BASE_IMAGE of its
#                    own that copies them in (say to /wheels and
#                    /etc/ssl/certs/local-ca.pem), and passes e.g.
#                    PIP_EXTRA_ARGS="--no-index --find-links /wheels"
#                    or "--cert /etc/ssl/certs/local-ca.pem" when it goes
#                    through a proxy/mirror with its own CA.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_EXTRA_ARGS=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NEXTWORD_MODELS_DIR=/models \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app

# Dependencies first, so that code changes do not reinstall torch.
COPY requirements.txt ./
# PIP_EXTRA_ARGS is deliberately unquoted: it holds several arguments and
# must be split into words.
# hadolint ignore=SC2086
RUN pip install --no-cache-dir --extra-index-url "${TORCH_INDEX_URL}" ${PIP_EXTRA_ARGS} \
        -r requirements.txt \
 && python -c "import importlib.metadata as md, torch; \
cuda = [d.metadata['Name'] for d in md.distributions() if d.metadata['Name'].lower().startswith('nvidia-')]; \
assert torch.version.cuda is None and not cuda, 'CUDA torch build installed: %s %s' % (torch.__version__, cuda); \
print('torch', torch.__version__, '(CPU-only)')"

# Unprivileged runtime user; it owns the model and data directories (named
# volumes mounted there start out with this ownership), not the code.
RUN groupadd --system --gid 10001 nextword \
 && useradd --system --uid 10001 --gid nextword --create-home \
        --home-dir /home/nextword --shell /usr/sbin/nologin nextword \
 && mkdir -p /models /data \
 && chown nextword:nextword /models /data

COPY . .

USER 10001:10001

EXPOSE 8000

# curl is not in slim images; python's urllib raises (exit 1) on any non-2xx.
# The start period covers importing torch and loading the model.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8000'), timeout=4)"]

# Run through sh so the script needs no executable bit in the checkout; the
# script execs its command, which becomes the main process (gunicorn gets
# SIGTERM for a graceful stop and SIGHUP to reload).
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["serve"]
