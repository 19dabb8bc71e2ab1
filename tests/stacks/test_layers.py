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
    # The examples' keys reach their workloads' Args through the examples' settings; the
    # Args config builds itself (cluster, network, nodegroup, add-ons) are compared field by
    # field below, on an all-default stack.
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


def _built_on_an_all_default_stack(
    monkeypatch: pytest.MonkeyPatch, **overrides: str
) -> list[tuple[Any, set[str]]]:
    """Every Args the config layer builds (`ConfigReader.build`) for a stack that sets nothing
    but what has no default (region, secret values, the default secret kept outside the
    default prefix), with the fields it passed."""
    from stacks.config.reader import ConfigReader
    from tests.stacks.configs import load_all_default

    built: list[tuple[Any, set[str]]] = []
    real = ConfigReader.build

    def recording(self: ConfigReader, cls: Any, **fields: Any) -> Any:
        args = real(self, cls, **fields)
        built.append((args, set(fields)))
        return args

    monkeypatch.setattr(ConfigReader, "build", recording)
    load_all_default(**overrides)
    return built


DERIVED = {
    "cluster_name": "the cluster's name: clusterName or eks-secrets-<stack>",
    "kubernetes_version": "the cluster's (kubernetesVersion, compared where it is required)",
    "tags": "project, stack and owner",
    "aws_region": "aws:region",
    "kms_deletion_window_days": "from the stack's protection (7, or 30 when protected)",
    "vpc_id": "wired by the program to the network's output",
    "public_subnet_ids": "wired by the program to the network's output",
    "private_subnet_ids": "wired by the program to the network's output",
    "subnet_ids": "wired by the program to the network's output",
}
"""Fields config passes from something other than one key's own default."""


@pytest.mark.parametrize(
    "overrides", [{}, {"existingClusterName": "shared-apps"}], ids=["created", "existing"]
)
def test_every_args_field_config_passes_holds_the_args_default_on_an_all_default_stack(
    monkeypatch, overrides
):
    """Config parses straight into the components' Args. On a stack that sets nothing, each
    field config passed must hold the Args' own default: a Pulumi.yaml default that drifts from
    the Args' (or the reverse) fails here, for keys added later too."""
    built = _built_on_an_all_default_stack(monkeypatch, **overrides)
    compared: list[str] = []
    drifted = []
    for args, passed in built:
        for f in dataclasses.fields(args):
            has_default = (
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            )
            if f.name not in passed or f.name in DERIVED or not has_default:
                continue
            default, value = _default(type(args), f.name), getattr(args, f.name)
            if isinstance(value, (list, tuple)):
                value, default = tuple(value), tuple(default)
            compared.append(f"{type(args).__name__}.{f.name}")
            if value != default:
                drifted.append((type(args).__name__, f.name, value, default))
    assert drifted == []
    expected = {
        "created": {
            "ClusterArgs.enable_network_policy",
            "ClusterArgs.public_access_cidrs",
            "NetworkArgs.vpc_cidr",
            "NodeGroupArgs.disk_size_gib",
            "SecretsStoreCsiArgs.rotation_poll_interval",
        },
        "existing": {"ExistingClusterArgs.oidc_provider", "SecretsStoreCsiArgs.install_method"},
    }["existing" if overrides else "created"]
    assert expected <= set(compared), sorted(compared)


def test_the_config_holds_the_components_args_not_settings_of_its_own():
    """No settings class between a key and its component: `StackConfig` holds the Args the
    program passes (with other resources' outputs wired in by `dataclasses.replace`)."""
    from eksplatform.cluster import CoreDnsArgs
    from eksplatform.pod_identity import PodIdentityAgentArgs

    from tests.stacks.configs import load_config

    cfg = load_config()
    assert type(cfg.cluster) is ClusterArgs
    assert type(cfg.network) is NetworkArgs
    assert type(cfg.nodegroup) is NodeGroupArgs
    assert type(cfg.secrets_store) is SecretsStoreCsiArgs
    assert type(cfg.addons["coredns"]) is CoreDnsArgs
    assert type(cfg.addons["pod_identity_agent"]) is PodIdentityAgentArgs
