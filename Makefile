# The two set-up commands of the README: `make install`, then `make test`.
PYTHON ?= python3
VENV := .venv
TOOLS_VENV := .venv-tools

.PHONY: install test lint typecheck render clean

install:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip check
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	$(TOOLS_VENV)/bin/pip check

test: lint typecheck
	$(VENV)/bin/python -m pytest

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Settings in pyproject.toml. .basedpyright/baseline.json holds the one known error in
# components/nodegroup.py (issue 9 owns that file); every other error fails.
typecheck:
	$(VENV)/bin/basedpyright

# What a stack would create, without credentials: make render STACK=dev (see the README).
STACK ?= dev
render:
	$(VENV)/bin/python -m tools.render --stack $(STACK) --out build/$(STACK)

clean:
	rm -rf build .pytest_cache .ruff_cache
