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


def _all_default_config():
    """A stack that sets nothing but what has no default (region, secret values, the default
    secret kept outside the default prefix)."""
    import json
    from datetime import date

    from stacks.load import load

    raw = {
        "aws:region": "eu-west-1",
        f"{schema.PROJECT}:secretValues": json.dumps({"demo-app-credentials": {"u": "p"}}),
        f"{schema.PROJECT}:secretNamesOutsidePrefix": '["demo-app-credentials"]',
    }
    return load(raw.get, stack="x", keys=list(raw), today=date(2026, 11, 21))


DERIVED = {
    "cluster_name": "the cluster's name: clusterName or eks-secrets-<stack>",
    "kubernetes_version": "a required field",
    "tags": "project, stack and owner",
    "aws_region": "aws:region",
    "kms_deletion_window_days": "from the stack's protection (7, or 30 when protected)",
}
"""Args fields an all-default stack sets from something other than the key's own default."""


def test_every_args_field_config_sets_has_the_args_default_on_an_all_default_stack():
    """Config parses straight into the components' Args. On a stack that sets nothing, each
    field config set must hold the Args' own default: a Pulumi.yaml default that drifts from
    the Args' (or the reverse) fails here, for keys added later too."""
    cfg = _all_default_config()
    built = [cfg.cluster, cfg.network, cfg.nodegroup, cfg.secrets_store]
    built.extend(a for a in cfg.addons.values() if dataclasses.is_dataclass(a))
    compared, drifted = 0, []
    for args in built:
        assert args is not None and dataclasses.is_dataclass(args)
        for f in dataclasses.fields(args):
            if f.name in DERIVED:
                continue
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                continue  # wired by the program (vpc, subnets) or required
            default = _default(type(args), f.name)
            value = getattr(args, f.name)
            if isinstance(value, (list, tuple)):
                value, default = tuple(value), tuple(default)
            compared += 1
            if value != default:
                drifted.append((type(args).__name__, f.name, value, default))
    assert drifted == []
    assert compared >= 30  # every Args the config builds was compared


def test_the_args_config_builds_are_the_component_args_the_program_passes():
    """No settings class between a key and its component: the config holds the Args."""
    from eksplatform.cluster import CoreDnsArgs

    cfg = _all_default_config()
    assert type(cfg.cluster) is ClusterArgs
    assert type(cfg.network) is NetworkArgs
    assert type(cfg.nodegroup) is NodeGroupArgs
    assert type(cfg.secrets_store) is SecretsStoreCsiArgs
    assert type(cfg.addons["coredns"]) is CoreDnsArgs
