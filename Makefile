# The two commands a newcomer needs: `make run` (demo on the embedded store) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup tools nsq mongo-server run test lint typecheck pytest screenshots bench lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

# The test servers, built once: nsqd, nsqlookupd, nsq_tail (from tools/nsq, needs Go) and the
# MongoDB test server (FerretDB v2 on PostgreSQL 15 + DocumentDB; apt-get and make install as
# root or through sudo, a few minutes the first time; see scripts/build-mongo-server.sh).
tools: nsq mongo-server

nsq:
	scripts/build-tools.sh

mongo-server:
	scripts/build-mongo-server.sh

# The demo uses a local nsqd when one is built; without Go it falls back to HTTP ingest.
# It never needs the MongoDB test server, so it does not wait for that build.
run: setup
	-@scripts/build-tools.sh || echo "(could not build nsqd: the demo uses HTTP ingest)"
	$(BIN)/taskdash demo

test: setup tools lint typecheck pytest

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	PYTHONPATH=src $(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

# The suite mostly waits on its servers, so it runs on 3 pytest-xdist workers even on 2 cores;
# each worker starts its own nsqd, FerretDB (with its PostgreSQL cluster) and Chromium on free
# ports and temp dirs, and stops them. PYTEST_WORKERS=0 runs it in this one process.
PYTEST_WORKERS ?= 3

pytest: setup tools
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The README's screenshots: the page tour (Chromium) saved into docs/screenshots instead of the
# temp dir the suite uses, so that `make test` leaves the tree clean. Run it after changing a
# page, look at the PNGs, and commit them.
screenshots: setup
	TASKDASH_TEST_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/web/test_page_tour.py

# Benchmarks (not part of the tests): `make bench` rewrites bench/RESULTS.md (about 15 minutes on an idle machine, more when loaded);
# `make bench QUICK=1` prints the same kind of lines in a minute or two and writes nothing.
bench: setup tools
	$(BIN)/python bench/run.py $(if $(filter-out 0,$(QUICK)),--quick,)

# Re-pin dependencies after editing pyproject.toml (needs uv: `$(BIN)/pip install uv`).
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
