# nextword: next-word prediction service (word-level RNN, Flask API on gunicorn).
#
# Build:   docker build -t nextword:latest .        (or: docker compose build)
# Run:     see docker-compose.yml (init-model -> api replicas -> proxy; trainer for new versions).
#
# Build args:
#   BASE_IMAGE       Python base image (default: the official python:3.11-slim). It must have
#                    python and pip on PATH. scripts/docker_smoke.sh passes one made locally
#                    (debootstrap, docker/make_base_image.sh) on a machine without a registry.
#   TORCH_INDEX_URL  The index torch alone is installed from (pip --index-url, --no-deps):
#                    PyTorch's CPU-only wheels by default, so PyPI's CUDA build can never be
#                    picked; the build fails below if one slips in anyway.
#   PIP_EXTRA_ARGS   Extra pip arguments for both installs, empty by default; e.g.
#                    "--trusted-host 127.0.0.1" for a plain-http local index, or
#                    "--cert /etc/ssl/certs/local-ca.pem" behind a TLS-intercepting proxy.
#
# All configuration at run time is by environment variables (README, "Configuration").
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

# Dependencies first, so that code changes do not reinstall torch. torch comes from
# TORCH_INDEX_URL only, at the version requirements.txt pins; the second install then finds it
# satisfied and adds torch's own dependencies and the rest from PyPI. The wheel's C++ headers and
# C++ test programs (~110 MB; only for building extensions and testing torch) are removed.
COPY requirements.txt ./
# PIP_EXTRA_ARGS is deliberately unquoted: it holds several arguments and
# must be split into words.
# hadolint ignore=SC2086
RUN grep -E '^torch==' requirements.txt >/tmp/torch.txt \
 && pip install --no-cache-dir --no-deps --index-url "${TORCH_INDEX_URL}" ${PIP_EXTRA_ARGS} -r /tmp/torch.txt \
 && pip install --no-cache-dir ${PIP_EXTRA_ARGS} -r requirements.txt \
 && rm /tmp/torch.txt \
 && torch_dir=$(python -c "import importlib.util as u; print(u.find_spec('torch').submodule_search_locations[0])") \
 && rm -rf "${torch_dir}/include" "${torch_dir}/bin/"test_* "${torch_dir}/bin/"*Test "${torch_dir}/bin/"protoc* \
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

# /readyz through docker/healthcheck.py, on the port this replica bound: healthy once a model
# is loaded. The start period covers importing torch and loading the model.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

# Run through sh so the script needs no executable bit in the checkout; the script execs
# gunicorn (through docker/listen.py, which execs too), which becomes the main process:
# gunicorn gets SIGTERM for a graceful stop and SIGHUP to reload.
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["serve"]
