# Two commands stay true on a fresh machine with only Python 3.11+ and make:
#   make demo   the whole story against an in-process AWS stand-in
#   make test   every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format lock container-test clean

# The stamp re-installs only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python -m simulator.demo

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The image's hash-locked dependencies (requirements/runtime.txt) from runtime.in.
UNUSED_IN_IMAGE := pygithub pynacl cryptography cffi pycparser pyjwt
lock: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet pip-tools
	cd requirements && ../$(BIN)/pip-compile --quiet --generate-hashes --strip-extras \
		--no-emit-index-url --no-emit-find-links \
		$(addprefix --unsafe-package ,$(UNUSED_IN_IMAGE)) -o runtime.txt runtime.in

# Build the image with buildah and run it as the runner does, against the AWS stand-in.
container-test: $(VENV)/.installed
	$(BIN)/python -m tests.container.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
