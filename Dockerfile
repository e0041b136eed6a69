# The action's image, ghcr.io/org/ecsundo-action. Tests substitute the base (BASE_IMAGE).
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

# No USER: the runner needs root to write the workspace and its file commands.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# Dependencies first, from the hash-locked file, so this layer is cached across code
# changes. --no-deps: the lock is complete (see requirements/runtime.in for what it leaves
# out). A build behind a private index or a TLS-inspecting proxy passes the PIP_* args;
# unset, pip's defaults apply. Hashes are checked whatever the index.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_CERT
COPY requirements/runtime.txt /tmp/runtime.txt
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-deps --require-hashes --only-binary=:all: -r /tmp/runtime.txt \
    && /opt/venv/bin/pip uninstall --yes --quiet setuptools pip \
    && python3 -m compileall -q --invalidation-mode unchecked-hash /opt/venv \
    && rm /tmp/runtime.txt

WORKDIR /app
COPY ecsundo_action /app/ecsundo_action
COPY entrypoint.py post.py /app/
# Byte-compiled once here: a rollback should not spend its first second compiling botocore.
RUN python3 -m compileall -q --invalidation-mode unchecked-hash /app

ENTRYPOINT ["python3", "/app/entrypoint.py"]
