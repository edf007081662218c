# Everyday commands. `make demo` and `make test` work on a fresh machine: they create .venv first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when pyproject.toml is newer than this stamp.
INSTALLED := $(VENV)/.installed
DEMO_DB := output/synthetic_trust.duckdb
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: venv demo test lint services clean

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# A synthetic trust to explore; `osschools dummy-data generate` prints its tables and row counts.
demo: venv
	$(BIN)/osschools dummy-data generate --output $(DEMO_DB)
	@echo "Demo database: $(DEMO_DB) ($$(du -h $(DEMO_DB) | cut -f1))"

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# PostgreSQL from Debian's packages. The tests start their own private cluster from its binaries;
# this also starts the system cluster, for running things by hand.
services:
	@command -v pg_lsclusters >/dev/null || { $(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }
	@pg_lsclusters --no-header | grep -q online || $(SUDO) service postgresql start
	@pg_lsclusters

# Generated files and caches; keeps .venv.
clean:
	rm -rf output build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
