# The two commands a newcomer needs: `make run` (whole stack + demo clinic) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install hapi run test test-postgres test-unit lint typecheck check bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed  ## Python virtualenv with the app and dev tools

hapi:  ## Build the HAPI FHIR server jar (cached until hapi-config/ changes)
	scripts/hapi.sh build

run: install hapi  ## Redis + HAPI (H2) + API + worker on 127.0.0.1, demo clinic loaded
	scripts/run-stack.sh

test: install hapi  ## The test suite against a real HAPI and Redis that it starts itself
	$(VENV)/bin/pytest

# What CI runs again on PostgreSQL: the storage-sensitive suites (conformance and enforcement, booking
# races, the patient record, replicas, backup and restore). `make test-postgres PG_TESTS=tests` runs everything there.
PG_TESTS ?= tests/conformance tests/scheduling tests/patients tests/replicas tests/operations
test-postgres: install hapi  ## Integration tests on HAPI over a local PostgreSQL (as production runs it)
	PRM_HAPI_DB=postgres $(VENV)/bin/pytest -m integration -p no:schemathesis -p no:hypothesispytest $(PG_TESTS)

test-unit: install  ## The pure tests (no servers), in seconds
	$(VENV)/bin/pytest tests/unit -q -p no:schemathesis -p no:hypothesispytest  # plugins the fuzz stage needs, not these

lint: install  ## ruff, mypy and the dependency-direction contracts
	$(VENV)/bin/ruff check app adapters workers tests bench
	$(VENV)/bin/ruff format --check app adapters workers tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

check: lint test

bench: install hapi  ## Benchmarks (see bench/README.md)
	$(PY) -m bench

clean:
	rm -rf $(VENV) hapi-config/target var .pytest_cache .mypy_cache .ruff_cache
