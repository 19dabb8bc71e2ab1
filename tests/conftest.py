"""The one place tests get Pulumi mocks from.

- `build(fn)` runs `fn` (which constructs components) under fresh mocks, waits for every
  registration, and returns the Recorder to assert on.
- `run_stack(stack, overrides)` runs the whole program (`__main__.py`) for a stack file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.pulumi_mocks import (  # noqa: E402
    PROJECT,
    Recorder,
    install_mocks,
    run_program,
    stack_config,
)
from tools.render import created_secret_names  # noqa: E402

STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
TEST_SECRET_VALUES = {
    "demo-app-credentials": {"username": "demo", "password": "test-only-password"},
}


def secret_values_for(stack: str) -> dict[str, Any]:
    """A value for every secret the stack creates, as `pulumi config set --secret` would."""
    names = created_secret_names(stack_config(stack))
    return {name: TEST_SECRET_VALUES.get(name, f"test-value-of-{name}") for name in names}


@pytest.fixture
def pulumi_mocks() -> Recorder:
    """Fresh mocks for a test decorated with @pulumi.runtime.test; returns the Recorder."""
    recorder = Recorder()
    install_mocks(recorder, "test")
    return recorder


@pytest.fixture
def build() -> Callable[[Callable[[], Any]], Recorder]:
    def _build(fn: Callable[[], Any], *, stack: str = "test") -> Recorder:
        recorder = Recorder()
        install_mocks(recorder, stack)

        @pulumi.runtime.test
        def run() -> None:
            fn()

        run()
        return recorder

    return _build


@pytest.fixture
def run_stack() -> Callable[..., Recorder]:
    def _run(stack: str, overrides: dict[str, Any] | None = None) -> Recorder:
        values = {f"{PROJECT}:secretValues": json.dumps(secret_values_for(stack))}
        values.update(overrides or {})
        return run_program(stack, stack_config(stack, values))

    return _run
