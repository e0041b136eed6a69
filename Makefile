# Two commands stay true on a fresh machine with only Python 3.11+ and make:
#   make demo   the whole story against an in-process AWS stand-in
#   make test   every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format lock container-test bench coverage mutate clean

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

# Snapshot and restore at 100, 500 and 1,000 services against ECS's quotas, with baselines
# (the engine at concurrency 1; fabfuel/ecs-deploy from PyPI, in a venv of its own).
# Writes benchmarks/results/. Takes about 30 minutes: the quotas are the point.
ECS_DEPLOY := benchmarks/.venv-ecs-deploy
bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	test -x $(ECS_DEPLOY)/bin/ecs || ($(PYTHON) -m venv $(ECS_DEPLOY) && \
		$(ECS_DEPLOY)/bin/python -m pip install --quiet ecs-deploy)
	$(BIN)/python -m benchmarks.bench --ecs-deploy $(ECS_DEPLOY)/bin/ecs

# Coverage across processes (the CLI and the action run as subprocesses in the tests):
# a per-module table and the TOTAL line.
coverage: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,coverage]'
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

# Mutation testing (mutmut) of the core against the fast tests: the killed/total score per
# module. ONLY="restore wait" runs those modules' mutants alone. Long (the engine's tests
# run against the stand-in); not part of make test.
ONLY ?=
mutate: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	rm -rf mutants
	$(BIN)/mutmut run $(foreach m,$(ONLY),"ecsundo_action.$(m).*") > /dev/null
	$(BIN)/mutmut results --all true 2>/dev/null | $(BIN)/python -m tests.mutation_score $(ONLY)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache mutants .coverage .coverage.*
