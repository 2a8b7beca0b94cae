# SOP Platform developer targets. Everything runs through uv and the project venv (.venv).
# On a machine with only Python, uv is bootstrapped into .venv-tools/ (python3 -m venv + pip install uv).

SHELL := /bin/bash
PYTHON ?= python3
UV_TOOLS := .venv-tools/bin/uv
# The uv that is bootstrapped here and that deploy/Dockerfile installs (UV_VERSION there): keep them equal.
UV_VERSION := 0.13.9
UV ?= $(shell command -v uv 2>/dev/null || echo $(UV_TOOLS))
PYTEST_ARGS ?=
# pytest-xdist workers for make test (each module stays on one worker); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

# Only depend on the bootstrap rule when we actually use the bootstrapped uv.
ifeq ($(UV),$(UV_TOOLS))
UV_DEP := $(UV_TOOLS)
endif

.DEFAULT_GOAL := help
.PHONY: help install run test lint format-check typecheck check contracts bench bench-gateway bench-views bench-reads bench-fidelity bench-language soak

help:
	@echo "make install   uv sync --frozen (creates .venv)"
	@echo "make run       start the platform locally (uv run sop dev)"
	@echo "make test      run the test suite on 2 workers (PYTEST_WORKERS=0: one process); extra pytest args via"
	@echo "               PYTEST_ARGS='-m \"not postgres\" -x'; every test on SQLite too: PYTEST_ARGS=--sqlite-matrix=full"
	@echo "make lint      ruff check ."
	@echo "make typecheck mypy --strict (pydantic and Strawberry plugins) on shared/ and every component's src"
	@echo "make check     every gate CI runs: ruff check, ruff format --check, mypy, then the tests (.ci/run calls it)"
	@echo "make contracts write the public contract (OpenAPI, GraphQL SDL) to docs/contract/ after reviewing its diff"
	@echo "make bench-reads CPU and statements per case-view read of the network and plans services, before/after"
	@echo "make bench     benchmarks (tests/perf): SACWIS batch load vs COPY, caseload latency; BENCH_ARGS=--quick"
	@echo "make bench-gateway  a 50-case caseload page through GraphQL vs one caseView per row; BENCH_ARGS=--postgres"
	@echo "make bench-views  full/small caseView and a caseload page, gateway vs no-gateway baseline vs Hive Gateway"
	@echo "               (installed with npm into ~/.cache/sop-bench), as processes on PostgreSQL and NATS: p50/p99,"
	@echo "               req/s, CPU ms per view per process, RSS (docs/performance.md); BENCH_ARGS=--quick or --no-peer"
	@echo "make bench-fidelity  rebuild the fidelity read model from generated events for 100,000 cases: events/s and"
	@echo "               a county dashboard's answer time; BENCH_ARGS=\"--cases 20000 --nats\" (via NATS JetStream)"
	@echo "make bench-language  the plain-language check on its labelled set: precision and recall per finding and language"
	@echo "make soak      32 clients for 120 s on one case (services as processes, PostgreSQL, NATS, one restart);"
	@echo "               prints errors, p50/p99, rows written = 2xx writes. Quick: SOAK_ARGS='--seconds 20 --clients 8'"
	@echo "uv: $(UV)"

$(UV_TOOLS):
	@echo "uv not found on PATH; installing it into .venv-tools/"
	$(PYTHON) -m venv .venv-tools && .venv-tools/bin/python -m pip install --quiet --upgrade pip uv==$(UV_VERSION) \
	  || { rm -rf .venv-tools; \
	       echo "python3 -m venv failed; falling back to pip install --user uv"; \
	       $(PYTHON) -m pip install --user --quiet uv==$(UV_VERSION) && mkdir -p .venv-tools/bin && \
	       ln -sf "$$($(PYTHON) -m site --user-base)/bin/uv" $(UV_TOOLS); }
	@test -x $(UV_TOOLS) || { echo "could not install uv"; exit 1; }

install: $(UV_DEP)
	$(UV) sync --frozen

run: install
	$(UV) run --frozen sop dev

test: install
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check .

format-check: install
	$(UV) run --frozen ruff format --check .

typecheck: install
	$(UV) run --frozen mypy

# The gates in order, cheapest first: a submission that fails any of them does not land (.ci/run runs this).
check: lint format-check typecheck test

contracts: install
	$(UV) run --frozen sop contract write docs/contract

bench: install
	$(UV) run --frozen python tests/perf/__main__.py $(BENCH_ARGS)

bench-gateway: install
	$(UV) run --frozen python tests/perf/gateway_caseload.py $(BENCH_ARGS)

# The components run as the image runs them: its dependencies without the development group (deploy/Dockerfile's
# `uv sync --no-dev`), in .venv-image; structlog imports Rich when it is installed, which the image does not have.
bench-views: install
	UV_PROJECT_ENVIRONMENT=.venv-image $(UV) sync --frozen --no-dev --quiet
	$(UV) run --frozen python tests/perf/case_views.py --components-python .venv-image/bin/python $(BENCH_ARGS)

bench-reads: install
	$(UV) run --frozen python tests/perf/view_reads.py $(BENCH_ARGS)

bench-fidelity: install
	$(UV) run --frozen python tests/perf/fidelity.py $(BENCH_ARGS)

bench-language: install
	$(UV) run --frozen python tests/perf/plain_language.py $(BENCH_ARGS)

soak: install
	$(UV) run --frozen python tests/perf/soak.py $(SOAK_ARGS)
