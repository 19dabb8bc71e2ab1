"""The platform's add-ons are units like the examples: one module each under stacks/addons,
found by name, its settings parsed once by the loader and deployed on the platform handle
before any app."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import stacks.addons
from stacks.addons import modules
from tests.conftest import config_of, fixture, secret_config_for
from tests.stacks.configs import load_config
from tools.pulumi_mocks import ROOT, run_program

ADDED = "zz_added"


def test_every_addon_module_is_found_by_name_with_its_parse_and_deploy():
    files = {p.stem for p in (ROOT / "stacks" / "addons").glob("*.py")} - {"__init__"}
    assert set(modules()) == files
    assert {"coredns", "pod_identity_agent", "secrets_store"} <= files
    for name, module in modules().items():
        assert callable(module.parse) and callable(module.deploy), name
    assert set(load_config().addons) == files


@pytest.fixture
def added_addon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An add-on module dropped next to the others: nothing else in the stack changes."""
    (tmp_path / f"{ADDED}.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass

            import pulumi

            NAME = "added"


            @dataclass(frozen=True)
            class Settings:
                cluster_name: str


            def parse(r, base):
                return Settings(base.cluster_name)


            def deploy(platform, settings):
                pulumi.ComponentResource(
                    "test:addon:Added", f"{NAME}-{settings.cluster_name}", None
                )
            """
        )
    )
    monkeypatch.setattr(stacks.addons, "__path__", [*stacks.addons.__path__, str(tmp_path)])
    modules.cache_clear()
    try:
        yield
    finally:
        modules.cache_clear()
        sys.modules.pop(f"stacks.addons.{ADDED}", None)


@pytest.mark.usefixtures("added_addon")
def test_an_added_addon_module_is_parsed_and_deployed_by_its_name():
    cfg = load_config()
    assert cfg.addons[ADDED].cluster_name == cfg.cluster_name
    recorder = run_program("dev", config_of(fixture("dev"), secret_config_for(fixture("dev"))))
    added = [r for r in recorder.resources if r.type == "test:addon:Added"]
    assert [r.name for r in added] == [f"added-{cfg.cluster_name}"]


def test_what_config_could_only_name_is_wired_to_the_resources_that_create_it(stack_runs):
    """Config fills the cluster's name and the existing VPC's ids into the Args as plain
    values; the program replaces them with the created resources' outputs, so each waits for
    what it names. A plain name would still deploy in the wrong order."""
    rec = stack_runs.run(fixture("dev"))
    (cluster,) = rec.of_type("eks:index:Cluster")
    (nodegroup,) = rec.of_type("aws:eks/nodeGroup:NodeGroup")
    addons = {a.inputs["addonName"]: a for a in rec.of_type("aws:eks/addon:Addon")}
    subnets = rec.of_type("aws:ec2/subnet:Subnet")
    assert subnets and all(rec.depends_on(cluster, s) for s in subnets)
    private = [s for s in subnets if "private" in s.name]
    assert private and all(rec.depends_on(nodegroup, s) for s in private)
    assert rec.depends_on(nodegroup, cluster)
    assert {"coredns", "eks-pod-identity-agent"} <= set(addons)
    for name in ("coredns", "eks-pod-identity-agent"):
        assert rec.depends_on(addons[name], cluster), name
