# Everyday commands. `make demo` and `make test` work on a fresh machine: they create .venv first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when pyproject.toml is newer than this stamp.
INSTALLED := $(VENV)/.installed
DEMO := examples/attendance_disadvantage
DEMO_EXECUTOR ?= auto
# The python image's packages, for python actions run by the local executor.
ANALYSIS := $(VENV)/.analysis-installed
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# ACRO 1.0.2 (the SACRO project's output checker), which the disclosure tests cross-check against
# (tests/disclosure/acro/). It requires pandas<=2.3.3 and this project runs pandas 3, so it lives
# in a virtualenv of its own, installed from pinned requirements; it must not go into the dev
# extras of pyproject.toml, which would downgrade pandas in .venv. `make test` builds it.
ACRO_VENV := .venv-acro
ACRO_REQUIREMENTS := tests/disclosure/acro/requirements.txt
ACRO_INSTALLED := $(ACRO_VENV)/.installed

.PHONY: venv acro-venv demo test lint services clean

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# One example study end to end (examples/attendance_disadvantage): the synthetic trust, made on
# first use, its dataset, then the analysis with the disclosure controls applied. Without a Docker
# engine the actions run as local processes, so the python image's analysis stack (matplotlib,
# statsmodels) is installed here too.
demo: venv $(ANALYSIS)
	$(BIN)/osschools run --project-dir $(DEMO) --executor $(DEMO_EXECUTOR) run_all
	@echo "Outputs for release (moderately_sensitive, disclosure-controlled):"
	@ls -1 $(DEMO)/output/*.csv $(DEMO)/output/*.png
	@echo "Logs: $(DEMO)/metadata/; synthetic trust: $(DEMO)/.osschools/synthetic_trust.duckdb"

$(ANALYSIS): $(INSTALLED) docker/python/requirements.txt docker/requirements/runtime.txt
	$(BIN)/python -m pip install --quiet -r docker/python/requirements.txt
	touch $@

test: venv acro-venv
	$(BIN)/pytest $(PYTEST_ARGS)

acro-venv: $(ACRO_INSTALLED)

# The .gitignore inside keeps git and ruff out of it.
$(ACRO_INSTALLED): $(ACRO_REQUIREMENTS)
	test -x $(ACRO_VENV)/bin/python || $(PYTHON) -m venv $(ACRO_VENV)
	echo '*' > $(ACRO_VENV)/.gitignore
	$(ACRO_VENV)/bin/python -m pip install --quiet -r $(ACRO_REQUIREMENTS)
	touch $@

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
