"""What a component registers as its outputs is exactly what it exposes as values; the rest
of its public attributes are handles on its children (resources, lists or dicts of them, or
None where a child is optional)."""

from __future__ import annotations

import inspect
import json

import pulumi
import pytest
from eksplatform.existing_cluster import ExistingCluster, ExistingClusterArgs
from eksplatform.pod_identity import SharedPodIdentityRole, SharedPodIdentityRoleArgs
from eksplatform.secrets import ManagedParameter, ManagedParameterArgs, SecretsKey, SecretsKeyArgs

from tests.components.test_args_documented import COMPONENTS, MODULES
from tests.components.test_team_app import build_team_app
from tests.conftest import FIXTURES, fixture, secret_values_for
from tests.package.hosted import build_hosted
from tools.pulumi_mocks import PROJECT, run_program, stack_config

CLUSTER_ARN = "arn:aws:eks:ap-southeast-1:123456789012:cluster/eks-secrets-dev"


def _is_handle(value: object) -> bool:
    if value is None or isinstance(value, pulumi.Resource):
        return True
    if isinstance(value, dict):
        return all(isinstance(v, pulumi.Resource) for v in value.values())
    return isinstance(value, (list, tuple)) and all(isinstance(v, pulumi.Resource) for v in value)


def _component_classes() -> set[str]:
    """`module.Class` of every ComponentResource defined in the checked modules."""
    root = str(COMPONENTS)
    names = set()
    for path in MODULES:
        module_name = "eksplatform." + str(path.relative_to(root)).removesuffix(".py").replace(
            "/", "."
        )
        module = __import__(module_name, fromlist=["_"])
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, pulumi.ComponentResource) and obj.__module__ == module_name:
                names.add(f"{module_name}.{name}")
    return names


@pytest.fixture
def registered(monkeypatch, build) -> dict[str, list[tuple[set[str], set[str]]]]:
    """`module.Class` -> (registered output names, public value attributes) of each instance
    the dev program and a few direct builds create."""
    found: dict[str, list[tuple[set[str], set[str]]]] = {}
    base = set(vars(pulumi.ComponentResource.__new__(pulumi.ComponentResource)))
    register = pulumi.ComponentResource.register_outputs

    def spy(self, outputs):
        values = {
            k
            for k, v in vars(self).items()
            if not k.startswith("_") and k not in base and k != "urn" and not _is_handle(v)
        }
        key = f"{type(self).__module__}.{type(self).__name__}"
        found.setdefault(key, []).append((set(outputs), values))
        return register(self, outputs)

    monkeypatch.setattr(pulumi.ComponentResource, "register_outputs", spy)
    secrets = {f"{PROJECT}:secretValues": json.dumps(secret_values_for(fixture("dev")))}
    run_program("dev", stack_config("dev", secrets, directory=FIXTURES))
    build(build_hosted)
    build(build_team_app)
    build(
        lambda: (
            SecretsKey("kms", SecretsKeyArgs(alias="alias/x", region="ap-southeast-1")),
            ManagedParameter("url", ManagedParameterArgs("/team-a/db-url", value="postgres://")),
            SharedPodIdentityRole("abac", SharedPodIdentityRoleArgs(cluster_arn=CLUSTER_ARN)),
            ExistingCluster("existing", ExistingClusterArgs("shared-apps", "1.35")),
        )
    )
    return found


def test_registered_outputs_are_the_public_values_of_every_component(registered):
    assert _component_classes() <= set(registered), "some components were never built"
    mismatched = {
        name: pairs
        for name, pairs in registered.items()
        if name.startswith("eksplatform.") and any(out != values for out, values in pairs)
    }
    checked = {name for name in mismatched if name in _component_classes()}
    assert checked == set(), {name: mismatched[name] for name in checked}
