# The action's image: ghcr.io/org/ecsundo-action. Tests substitute the base (BASE_IMAGE).
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

# No USER: the runner needs root to write the workspace and its file commands.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# Dependencies first, from the hash-locked file, so this layer is cached across code changes.
COPY requirements/runtime.txt /tmp/runtime.txt
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile --require-hashes --only-binary=:all: -r /tmp/runtime.txt \
    && /opt/venv/bin/pip uninstall --yes pip \
    && rm /tmp/runtime.txt

WORKDIR /app
COPY ecsundo_action /app/ecsundo_action
COPY entrypoint.py post.py /app/

ENTRYPOINT ["python3", "/app/entrypoint.py"]
