"""The composition layer's shape: no import cycle (none hidden behind TYPE_CHECKING), a
config layer that knows nothing of resources, and each default in one place."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eksplatform.cluster import ClusterArgs
from eksplatform.network import NetworkArgs
from eksplatform.nodegroup import NodeGroupArgs
from eksplatform.prometheus import PrometheusArgs
from eksplatform.secrets_store import SecretsStoreCsiArgs
from eksplatform.workloads.ambassador import AmbassadorExampleArgs
from eksplatform.workloads.init_container import InitContainerExampleArgs
from eksplatform.workloads.sidecar import SidecarExampleArgs

from stacks.config import schema
from tools.pulumi_mocks import ROOT

PACKAGES = ("components", "stacks", "tools")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(importer: str, path: Path, module: str, level: int) -> str:
    """An import as a repository module name: relative imports resolved, and the installed
    package `eksplatform` read as the folder it is built from (components/)."""
    if level:
        package = importer.split(".")
        package = package if path.name == "__init__.py" else package[:-1]
        base = package[: len(package) - (level - 1)]
        module = ".".join([*base, *filter(None, [module])])
    if module == "eksplatform" or module.startswith("eksplatform."):
        module = "components" + module.removeprefix("eksplatform")
    return module


def _imports() -> dict[str, set[str]]:
    """Project module -> project modules it imports, wherever the import statement stands."""
    modules = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or node.level):
                module = _absolute(name, path, node.module or "", node.level)
                targets = [module, *(f"{module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [_absolute(name, path, a.name, 0) for a in node.names]
            else:
                continue
            found.update(t for t in targets if t in modules and t != name)
        graph[name] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_module_of_the_program_imports_itself_back():
    graph = _imports()
    assert "stacks.load" in graph and "stacks.examples.sidecar" in graph
    assert _cycles(graph) == []


def test_no_project_import_hides_behind_type_checking():
    hidden = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
                    continue
                for inner in ast.walk(node):
                    module = getattr(inner, "module", None) or ""
                    names = [a.name for a in getattr(inner, "names", [])]
                    if any(m.split(".")[0] in PACKAGES for m in [module, *names] if m):
                        hidden.append(str(path.relative_to(ROOT)))
    assert hidden == []


def test_the_config_layer_knows_nothing_of_what_builds_resources():
    graph = _imports()
    builders = {"stacks.platform", "stacks.app", "stacks.build", "stacks.load", "stacks.entrypoint"}
    for name, imported in graph.items():
        if name.startswith("stacks.config"):
            assert not imported & builders, (name, imported & builders)
            units = ("stacks.examples", "stacks.addons")
            assert not any(m.startswith(units) for m in imported), name


def _yaml(name: str, convert: Callable[[Any], Any] = lambda v: v) -> Any:
    return convert(schema.default(name))


AGREEMENT = [
    (NetworkArgs, "vpc_cidr", _yaml("vpcCidr")),
    (NetworkArgs, "availability_zone_count", _yaml("availabilityZoneCount")),
    (NetworkArgs, "single_nat_gateway", _yaml("natGatewayMode", lambda v: v == "single")),
    (ClusterArgs, "enable_network_policy", _yaml("enableNetworkPolicy")),
    (ClusterArgs, "enable_deletion_protection", _yaml("enableClusterDeletionProtection")),
    (ClusterArgs, "public_access_cidrs", _yaml("publicAccessCidrs", tuple)),
    (ClusterArgs, "admin_principal_arns", _yaml("adminPrincipalArns", tuple)),
    (NodeGroupArgs, "instance_types", _yaml("nodeInstanceTypes", tuple)),
    (NodeGroupArgs, "min_size", _yaml("nodeMinSize")),
    (NodeGroupArgs, "desired_size", _yaml("nodeDesiredSize")),
    (NodeGroupArgs, "max_size", _yaml("nodeMaxSize")),
    (NodeGroupArgs, "disk_size_gib", _yaml("nodeDiskSizeGib")),
    (NodeGroupArgs, "capacity_type", _yaml("nodeCapacityType")),
    (NodeGroupArgs, "ssh_key_name", _yaml("nodeSshKeyName")),
    (SecretsStoreCsiArgs, "enable_sync_secret", _yaml("enableSyncSecret")),
    (SecretsStoreCsiArgs, "enable_secret_rotation", _yaml("enableSecretRotation")),
    (SecretsStoreCsiArgs, "rotation_poll_interval", _yaml("rotationPollInterval")),
    (SecretsStoreCsiArgs, "install_method", _yaml("secretsStoreInstallMethod")),
    (PrometheusArgs, "namespace", _yaml("monitoringNamespace")),
    (SidecarExampleArgs, "service_type", _yaml("sidecarServiceType")),
    (SidecarExampleArgs, "load_balancer_scheme", _yaml("sidecarLoadBalancerScheme")),
    (InitContainerExampleArgs, "source", _yaml("initContainerSource")),
    (
        AmbassadorExampleArgs,
        "backends",
        (_yaml("ambassadorServer1Weight"), _yaml("ambassadorServer2Weight")),
    ),
]


def _default(cls: type, field: str) -> Any:
    (f,) = [f for f in dataclasses.fields(cls) if f.name == field]
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


@pytest.mark.parametrize(
    ("cls", "field", "expected"), AGREEMENT, ids=[f"{c.__name__}.{f}" for c, f, _ in AGREEMENT]
)
def test_component_defaults_agree_with_pulumi_yaml(cls, field, expected):
    """Components keep defaults for reuse outside this stack; where a config key feeds a
    field, Pulumi.yaml's default is the one users read, and the two must agree."""
    value = _default(cls, field)
    if field == "backends":
        value = tuple(b.weight for b in value)
    if isinstance(value, (list, tuple)):
        value = tuple(value)
    assert value == expected
