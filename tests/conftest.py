"""The one place tests get Pulumi mocks from.

- `build(fn)` runs `fn` (which constructs components) under fresh mocks, waits for every
  registration, and returns the Recorder to assert on.
- `run_stack(stack, overrides)` runs the whole program (`__main__.py`) for a stack file.
- `stack_runs` is the session's store: each stack file's program runs once, with the test
  secret values and no overrides, and every test that needs that run shares it read-only.

Two kinds of stack file, named by key: `dev` is the user's `Pulumi.dev.yaml` (tests over it
assert only what holds for any valid stack), `fixture:dev` is the frozen copy in
`tests/fixtures/stacks/` (tests that pin exact resources, counts, URNs and names use it).
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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
from tools.render import Render, created_secret_names, render_recorded  # noqa: E402

# The suite allocates millions of long-lived objects (the Pulumi SDKs' generated modules,
# cloudcoil's pydantic models) and the default thresholds (700, 10, 10) walk them again and
# again: ~5 s of a ~25 s run. Young collections every 50,000 allocations instead, and the
# objects alive after collection are frozen out of every later pass; memory grows ~20 MB.
gc.set_threshold(50_000, 20, 20)

# The session starts subprocesses (checkov, node) from its background thread while the main
# thread runs the program; one fresh-clone run saw exec of checkov fail with EFAULT ("[Errno
# 14] Bad address") under vfork there. fork + exec does not share the parent's memory with
# the child while other threads run; the cost is a few milliseconds per subprocess.
subprocess._USE_VFORK = False  # type: ignore[attr-defined]


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
"""The shipped (user-edited) stacks."""
FIXTURES = ROOT / "tests" / "fixtures" / "stacks"
FIXTURE = "fixture:"
FIXTURE_STACKS = sorted(FIXTURE + p.name.split(".")[1] for p in FIXTURES.glob("Pulumi.*.yaml"))
"""The frozen fixture stacks, as keys: `fixture:dev`, `fixture:prod`, `fixture:staging`."""


def fixture(stack: str) -> str:
    """The key of a fixture stack: `fixture("dev")` runs tests/fixtures/stacks/Pulumi.dev.yaml
    under the stack name `dev` (the name matters: cluster name, prod's protection)."""
    return FIXTURE + stack


def stack_name(key: str) -> str:
    """The Pulumi stack name of a key (`fixture:dev` -> `dev`)."""
    return key.removeprefix(FIXTURE)


PIN = re.compile(r"[A-Za-z0-9_.\-\[\]]+==[^=\s]+")
"""A requirements line Renovate's pip manager updates and pip takes as a constraint."""


def requirement_lines(text: str) -> list[str]:
    """The requirements of a requirements file: its lines but blanks and comments."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def config_of(key: str, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """`stack_config` for a key: the fixture file for `fixture:<stack>`, else the shipped one."""
    if key.startswith(FIXTURE):
        return stack_config(stack_name(key), overrides, directory=FIXTURES)
    return stack_config(key, overrides)


TEST_SECRET_VALUES = {
    "demo-app-credentials": {"username": "demo", "password": "test-only-password"},
}


def secret_values_for(stack: str) -> dict[str, Any]:
    """A value for every secret the stack creates, as `pulumi config set --secret` would."""
    names = created_secret_names(config_of(stack))
    return {name: TEST_SECRET_VALUES.get(name, f"test-value-of-{name}") for name in names}


def secret_config_for(stack: str) -> dict[str, str]:
    """The `secretValues` config a stack's test runs get."""
    return {f"{PROJECT}:secretValues": json.dumps(secret_values_for(stack))}


class StackRuns:
    """One program run per stack file per session, shared read-only, its render, and slow
    out-of-process checks (checkov) over that render, run on a background thread.

    Program runs stay on the main thread: the Pulumi runtime's settings are process-wide.
    """

    def __init__(self, tmp: Path) -> None:
        self._tmp = tmp
        self._runs: dict[str, Recorder] = {}
        self._by_config: dict[str, Recorder] = {}
        self._fingerprints: dict[str, str] = {}
        self._renders: dict[str, Render] = {}
        self._background: dict[str, Future] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stack-runs")

    def run(self, stack: str) -> Recorder:
        """The stack's run with the test secret values; frozen, so appending fails."""
        if stack not in self._runs:
            config = config_of(stack, secret_config_for(stack))
            # A fixture identical to its shipped stack (as on a fresh clone) shares the run.
            same = json.dumps([stack_name(stack), config], sort_keys=True)
            if same not in self._by_config:
                self._by_config[same] = run_program(stack_name(stack), config).freeze()
            self._runs[stack] = self._by_config[same]
            self._fingerprints[stack] = self._runs[stack].fingerprint()
        return self._runs[stack]

    def render(self, stack: str) -> Render:
        """The render of that run (files are the same with real or placeholder secrets)."""
        if stack not in self._renders:
            run = self.run(stack)
            shared = next((r for r in self._renders.values() if r.recorder is run), None)
            out = self._tmp / stack.replace(":", "-")
            self._renders[stack] = shared or render_recorded(run, stack_name(stack), out)
        return self._renders[stack]

    def in_background(self, key: str, fn: Callable[[], Any]) -> Future:
        """`fn()` on the background thread, once per key; `.result()` waits for it."""
        if key not in self._background:
            self._background[key] = self._executor.submit(fn)
        return self._background[key]

    def mutated(self) -> list[str]:
        """Stacks whose shared run some test changed."""
        return [s for s, r in self._runs.items() if r.fingerprint() != self._fingerprints[s]]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def stack_runs(tmp_path_factory):
    runs = StackRuns(tmp_path_factory.mktemp("stack-runs"))
    yield runs
    runs.close()
    mutated = runs.mutated()
    assert not mutated, f"a test changed the shared program run of {mutated}; copy it instead"


@pytest.fixture(scope="session", autouse=True)
def _start_slow_checks_early(request, stack_runs) -> None:
    """checkov takes seconds per stack in its own process: start it before the first test,
    for the stacks the selected tests will ask about, so it runs on the second core while
    the rest of the suite runs on the first."""
    wanted: dict[str, set[str]] = {"checkov_run": set(), "charts_checkov_run": set()}
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        for fixture, stacks in wanted.items():
            if fixture in getattr(item, "fixturenames", ()) and "rendered" in params:
                stacks.add(params["rendered"])
    if not any(wanted.values()):
        return
    from tests.validation.conftest import start_chart_checkov, start_checkov

    for fixture, start in (
        ("checkov_run", start_checkov),
        ("charts_checkov_run", start_chart_checkov),
    ):
        for stack in sorted(wanted[fixture]):
            # A stack that fails to run fails the tests that use it, not every test.
            with contextlib.suppress(Exception):
                start(stack_runs, stack)


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
def run_stack(stack_runs) -> Callable[..., Recorder]:
    """The stack's program run: the shared one without overrides, a fresh one with."""

    def _run(stack: str, overrides: dict[str, Any] | None = None) -> Recorder:
        if not overrides:
            return stack_runs.run(stack)
        values = {**secret_config_for(stack), **overrides}
        return run_program(stack_name(stack), config_of(stack, values))

    return _run
