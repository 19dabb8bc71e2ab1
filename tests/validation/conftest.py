"""One render per stack file per test session, shared by every validator of the gate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import STACKS
from tests.validation import gate
from tools.pulumi_mocks import PROJECT, stack_config
from tools.render import Render, render


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
        return gate.Cluster(self.manifests, opaque_namespaces=opaque)

    @property
    def oidc(self) -> tuple[str, str]:
        """(provider ARN, issuer) from the mocked eks.Cluster's outputs."""
        (eks,) = self.render.recorder.of_type("eks:index:Cluster")
        return eks.outputs["oidcProviderArn"], eks.outputs["oidcProviderUrl"]


@pytest.fixture(scope="session", params=STACKS)
def rendered(request, tmp_path_factory) -> RenderedStack:
    stack = request.param
    out = tmp_path_factory.mktemp(f"render-{stack}")
    result = render(stack, out)
    return RenderedStack(
        stack=stack,
        render=result,
        kubernetes_version=stack_config(stack)[f"{PROJECT}:kubernetesVersion"],
        manifests=gate.load_manifests(out),
        releases=gate.load_releases(out),
        iam=gate.load_iam(out),
    )


@pytest.fixture(scope="session")
def checkov_run(rendered) -> gate.CheckovRun:
    """checkov once per stack over the whole directory (it takes seconds per run)."""
    return gate.run_checkov(rendered.out / "k8s", gate.load_skips())


def require(rendered: RenderedStack, items: object, what: str) -> None:
    """A validator must not pass vacuously on `dev`, the stack that shows everything; a leaner
    stack (prod without demos) may simply have none of `what`."""
    if items:
        return
    if rendered.stack == "dev":
        pytest.fail(f"dev renders no {what}: the validator would prove nothing")
    pytest.skip(f"{rendered.stack} renders no {what}")
