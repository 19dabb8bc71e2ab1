"""One render per stack file per test session, shared by every validator of the gate.

The gate runs over every shipped stack (the user's, so it checks only what holds for any
valid stack) and over the fixture dev (`fixture:dev`, tests/fixtures/stacks), which shows
everything, so no validator can pass there for want of objects (`require`). A fixture whose
config equals its shipped stack's shares that stack's run, render and checkov runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import STACKS, config_of, fixture
from tools import charts, gate
from tools.pulumi_mocks import PROJECT
from tools.render import Render, safe_name, to_yaml


@dataclass
class RenderedStack:
    """A stack's render on disk, loaded once for every validator."""

    stack: str
    render: Render
    kubernetes_version: str
    manifests: gate.Manifests
    releases: dict
    iam: dict[str, str]

    @property
    def out(self) -> Path:
        return self.render.out

    @property
    def cluster(self) -> gate.Cluster:
        opaque = {r["namespace"] for r in self.releases.values()}
        apps = self.render.recorder.stack_outputs.get("apps") or {}
        opaque |= gate.team_namespaces(self.manifests, apps)
        return gate.Cluster(self.manifests, opaque_namespaces=opaque)

    @property
    def oidc(self) -> tuple[str, str]:
        """(provider ARN, issuer) the stack exports: a created cluster's, or the existing
        cluster's provider (found or created)."""
        arn = self.render.recorder.stack_outputs["oidcProviderArn"]
        return arn, arn.partition(":oidc-provider/")[2]


def start_checkov(stack_runs, stack: str):
    """checkov over the stack's shared render, on the session's background thread."""
    out = stack_runs.render(stack).out
    return stack_runs.in_background(
        f"checkov-{out}", lambda: gate.run_checkov(out / "k8s", gate.load_skips())
    )


_RENDERED: dict[str, RenderedStack] = {}
_CHARTS: dict[str, dict[str, RenderedChart]] = {}


def rendered_stack(stack_runs, stack: str) -> RenderedStack:
    """The stack's shared render, loaded once per session."""
    if stack not in _RENDERED:
        result = stack_runs.render(stack)
        out = result.out
        same = next((r for r in _RENDERED.values() if r.render is result), None)
        _RENDERED[stack] = RenderedStack(
            stack=stack,
            render=result,
            kubernetes_version=config_of(stack)[f"{PROJECT}:kubernetesVersion"],
            manifests=same.manifests if same else gate.load_manifests(out),
            releases=same.releases if same else gate.load_releases(out),
            iam=same.iam if same else gate.load_iam(out),
        )
    return _RENDERED[stack]


def charts_of(stack_runs, stack: str) -> dict[str, RenderedChart]:
    """The stack's Helm releases rendered by the real charts, once per session (on the main
    thread, like every call into the Helm engine)."""
    out = str(rendered_stack(stack_runs, stack).out)
    if out not in _CHARTS:
        _CHARTS[out] = render_charts(rendered_stack(stack_runs, stack))
    return _CHARTS[out]


def start_chart_checkov(stack_runs, stack: str):
    """checkov over the charts' manifests of the stack, on the session's background thread."""
    out = rendered_stack(stack_runs, stack).out
    charts_of(stack_runs, stack)
    return stack_runs.in_background(
        f"checkov-charts-{out}", lambda: gate.run_checkov(out / "charts", gate.load_skips())
    )


@pytest.fixture(scope="session")
def chart_archives() -> None:
    """Marks a test that renders or reads the real chart archives: a session that selects
    one stops before its first test when an archive is missing (below)."""


def pytest_collection_finish(session: pytest.Session) -> None:
    """Without the pinned chart archives, one message saying which, where they were looked
    for and how to get them, instead of an error in every test that renders a chart."""
    if not any("chart_archives" in getattr(i, "fixturenames", ()) for i in session.items):
        return
    missing = charts.missing_pins()
    if missing:
        pytest.exit(charts.unavailable_message(missing), returncode=pytest.ExitCode.TESTS_FAILED)


GATED = [*STACKS, fixture("dev"), fixture("existing")]
"""The shipped stacks, the fixture dev, which renders every kind of object, and the fixture
on an existing cluster."""


@pytest.fixture(scope="session", params=GATED)
def rendered(request, stack_runs) -> RenderedStack:
    return rendered_stack(stack_runs, request.param)


@dataclass
class RenderedChart:
    """One Helm release of a stack, rendered by the real Helm engine with the program's values."""

    path: str
    """The release's file in the stack render (`k8s/<ns>/HelmRelease-<name>.yaml`)."""
    release: dict
    objects: list[dict]

    @property
    def name(self) -> str:
        return self.release["release"]

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o.get("kind") == kind]


def render_charts(rendered_stack: RenderedStack) -> dict[str, RenderedChart]:
    """Every release of a render, by release name; the objects are also written under
    `<out>/charts/<namespace>/<Kind>-<name>.yaml` for checkov (alone: checkov matches a
    NetworkPolicy's podSelector across namespaces, so the program's policies would hide
    findings in kube-system)."""
    result = {}
    for path, release in rendered_stack.releases.items():
        by_template = charts.render_release(release)
        objects = [o for items in by_template.values() for o in items]
        result[release["release"]] = RenderedChart(path, release, objects)
        for obj in objects:
            namespace = (obj.get("metadata") or {}).get("namespace") or release["namespace"]
            target = (
                rendered_stack.out
                / "charts"
                / namespace
                / f"{obj['kind']}-{safe_name(obj['metadata']['name'])}.yaml"
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(to_yaml(obj))
    return result


@pytest.fixture(scope="session")
def rendered_charts(rendered, stack_runs, chart_archives) -> dict[str, RenderedChart]:
    """The stack's Helm releases rendered once per session (milliseconds each)."""
    return charts_of(stack_runs, rendered.stack)


@pytest.fixture(scope="session")
def charts_checkov_run(rendered, stack_runs, chart_archives) -> gate.CheckovRun:
    """checkov once per stack over the third-party manifests the charts render, usually
    started before the first test (tests/conftest.py)."""
    return start_chart_checkov(stack_runs, rendered.stack).result()


@pytest.fixture(scope="session")
def checkov_run(rendered, stack_runs) -> gate.CheckovRun:
    """checkov once per stack over the whole directory (it takes seconds per run), usually
    started before the first test (tests/conftest.py)."""
    return start_checkov(stack_runs, rendered.stack).result()


def require(rendered: RenderedStack, items: object, what: str) -> None:
    """A validator must not pass vacuously on the fixture dev, the stack that shows
    everything; a user's stack (prod without demos, a dev with its examples off) may simply
    have none of `what`."""
    if items:
        return
    if rendered.stack == fixture("dev"):
        pytest.fail(f"dev renders no {what}: the validator would prove nothing")
    pytest.skip(f"{rendered.stack} renders no {what}")
