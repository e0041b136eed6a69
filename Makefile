# Two commands stay true on a fresh machine with only Python 3.11+ and make:
#   make demo   the whole story against an in-process AWS stand-in
#   make test   every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format readme lock newest container-test bench coverage mutate clean

# Everything below installs from requirements/dev.txt: hash-locked, complete (--no-deps), so a
# fresh clone next month gets exactly what passed today. The project itself is installed
# editable with the locked setuptools (no build isolation, which would fetch an unpinned one).
# The stamp re-installs only when the lock or the project's metadata changes.
$(VENV)/.installed: requirements/dev.txt pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python -m simulator.demo

# Tests run in WORKERS processes (pytest-xdist), each with its own AWS stand-in: most of a
# test's time is spent waiting on rollouts and quotas, so more workers than CPUs pays. The ten
# slowest tests are listed, and the run's time.
WORKERS ?= 4
test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(WORKERS) --durations=10

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The README's inputs and outputs tables, from action.yml, and the rendered summaries under
# docs/examples/ (a test fails when either is stale).
readme: $(VENV)/.installed
	$(BIN)/python -m tests.readme
	$(BIN)/python -m tests.summaries

# The hash-locked files, from their .in files and pyproject.toml: runtime.txt (the image's),
# dev.txt (everything make installs here, within runtime.txt's versions) and ecs-deploy.txt
# (make bench's baseline). pip-tools comes from dev.txt itself.
UNUSED_IN_IMAGE := pygithub pynacl cryptography cffi pycparser pyjwt
COMPILE := ../$(BIN)/pip-compile --quiet --generate-hashes --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock: $(VENV)/.installed
	cd requirements && $(COMPILE) $(addprefix --unsafe-package ,$(UNUSED_IN_IMAGE)) \
		-o runtime.txt runtime.in
	cd requirements && $(COMPILE) --allow-unsafe --all-extras -o dev.txt ../pyproject.toml dev.in
	cd requirements && $(COMPILE) --allow-unsafe -o ecs-deploy.txt ecs-deploy.in

# The newest releases pyproject.toml's ranges admit, the lock ignored: what the weekly drift
# workflow tests, so that a breaking release is a red run before it is a broken fresh clone.
# Then `make test` runs on them (the stamp is fresh); `make clean` returns to the lock.
newest:
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --upgrade -e '.[test]'
	$(BIN)/python -m pip freeze --exclude-editable
	touch $(VENV)/.installed $(VENV)/.newest

# Build the image with buildah and run it as the runner does, against the AWS stand-in.
container-test: $(VENV)/.installed
	$(BIN)/python -m tests.container.run

# Snapshot and restore at 100, 500 and 1,000 services against ECS's quotas, with baselines
# (the engine at concurrency 1; fabfuel/ecs-deploy from PyPI, in a venv of its own).
# Writes benchmarks/results/. Takes about 30 minutes: the quotas are the point.
ECS_DEPLOY := benchmarks/.venv-ecs-deploy
bench: $(VENV)/.installed $(ECS_DEPLOY)/.installed
	$(BIN)/python -m benchmarks.bench --ecs-deploy $(ECS_DEPLOY)/bin/ecs

$(ECS_DEPLOY)/.installed: requirements/ecs-deploy.txt
	rm -rf $(ECS_DEPLOY)
	$(PYTHON) -m venv $(ECS_DEPLOY)
	$(ECS_DEPLOY)/bin/python -m pip install --quiet --disable-pip-version-check \
		--require-hashes --no-deps -r requirements/ecs-deploy.txt
	touch $@

# Coverage across processes (the CLI and the action run as subprocesses in the tests):
# a per-module table and the TOTAL line.
coverage: $(VENV)/.installed
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

# Mutation testing (mutmut) of the core against the fast tests: the killed/total score per
# module. ONLY="modes.restore wait" runs those modules' mutants alone. Long (the engine's tests
# run against the stand-in); not part of make test.
ONLY ?=
mutate: $(VENV)/.installed
	rm -rf mutants
	$(BIN)/mutmut run $(foreach m,$(ONLY),"ecsundo_action.$(m).*") > /dev/null
	$(BIN)/mutmut results --all true 2>/dev/null | $(BIN)/python -m tests.mutation_score $(ONLY)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache mutants .coverage .coverage.*
