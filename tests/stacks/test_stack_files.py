"""Each stack file uses only declared keys; the fixture environments (frozen copies of the
shipped ones) differ where it matters. Which choices a user's stack makes is the user's."""

import json

import pytest

from stacks.config.stack_file import read_stack_file
from stacks.config.yaml_loader import load
from tests.conftest import FIXTURE_STACKS, FIXTURES, STACKS, config_of, fixture, stack_name
from tools.pulumi_mocks import PROJECT, ROOT, Recorder
from tools.render import created_secret_names

NS = PROJECT
EXAMPLE_COMPONENTS = (
    "eksplatform:workloads:SidecarExample",
    "eksplatform:workloads:AmbassadorExample",
    "eksplatform:workloads:AdapterExample",
    "eksplatform:workloads:InitContainerExample",
    "eksplatform:workloads:RedisSecretSidecar",
)


@pytest.fixture(scope="module")
def recorded(stack_runs) -> dict[str, Recorder]:
    return {stack: stack_runs.run(fixture(stack)) for stack in ("dev", "staging", "prod")}


def test_the_three_environments_exist():
    assert {"dev", "staging", "prod"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_set_only_declared_keys(stack):
    declared = set(load((ROOT / "Pulumi.yaml").read_text())["config"])
    values = read_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    ours = {k.split(":", 1)[1] for k in values if k.startswith(f"{NS}:")}
    assert ours - declared == set(), f"undeclared keys (typos?) in Pulumi.{stack}.yaml"
    assert values["aws:region"]


def header_secret_names(text: str) -> list[str] | None:
    """The secrets named by the `pulumi config set --secret secretValues '{...}'` example in
    a stack file's header comment (None when the header has no such example)."""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("#").strip())
    joined = " ".join(header)
    start = joined.find("secretValues")
    if start < 0 or "'{" not in joined[start:]:
        return None
    example = joined[start:].split("'{", 1)[1].split("}'", 1)[0]
    return sorted(json.loads("{" + example + "}"))


def test_header_parser_reads_the_documented_example():
    text = (
        "# Before the first `pulumi up -s qa`:\n"
        "#   pulumi config set --secret secretValues \\\n"
        """#     '{"a": {"username": "u", "password": "<p>"},\n"""
        """#       "b": "<another>"}'\n"""
        "config:\n"
    )
    assert header_secret_names(text) == ["a", "b"]
    assert header_secret_names("# no example\nconfig: {}\n") is None


@pytest.mark.parametrize("stack", STACKS)
def test_a_stack_files_header_names_no_secret_the_stack_does_not_create(stack):
    """Following the header's `secretValues` example must never be refused: `pulumi up`
    refuses a value for a secret not in `secrets` (stacks/config/secrets.py). A secret the
    example leaves out is named by `pulumi up` itself, so a user who adds a secret is not
    made to edit the comment for the suite to pass; the fixtures pin the exact list."""
    named = header_secret_names((ROOT / f"Pulumi.{stack}.yaml").read_text()) or []
    assert sorted(set(named) - set(created_secret_names(config_of(stack)))) == []


@pytest.mark.parametrize("stack", FIXTURE_STACKS)
def test_each_fixture_stack_files_header_names_exactly_the_secrets_it_creates(stack):
    named = header_secret_names((FIXTURES / f"Pulumi.{stack_name(stack)}.yaml").read_text())
    assert named == created_secret_names(config_of(stack))


def _component_types(rec: Recorder) -> set[str]:
    return {r.type for r in rec.resources}


def _protected(rec: Recorder, type_: str) -> list[bool]:
    return [r.protect for r in rec.of_type(type_)]


def test_dev_is_cheap_one_spot_node_single_nat_and_examples_on(recorded):
    dev = recorded["dev"]
    ng = dev.named("nodes-ng").inputs
    assert ng["scalingConfig"]["desiredSize"] == 1
    assert ng["capacityType"] == "SPOT"
    assert len(dev.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert set(EXAMPLE_COMPONENTS) <= _component_types(dev)
    assert not any(r.protect for r in dev.resources)
    assert dev.named("secret-demo-app-credentials-secret").inputs["recoveryWindowInDays"] == 0


def test_staging_is_prod_shaped_but_smaller(recorded):
    staging, prod = recorded["staging"], recorded["prod"]
    ng = staging.named("nodes-ng").inputs
    assert ng["capacityType"] == "ON_DEMAND"
    assert ng["scalingConfig"]["minSize"] >= 2
    nats = len(staging.of_type("aws:ec2/natGateway:NatGateway"))
    assert nats == len([s for s in staging.of_type("aws:ec2/subnet:Subnet") if "public" in s.name])
    assert nats < len(prod.of_type("aws:ec2/natGateway:NatGateway"))
    assert not set(EXAMPLE_COMPONENTS) & _component_types(staging)


def test_prod_is_on_demand_over_three_azs_with_at_least_two_nodes(recorded):
    prod = recorded["prod"]
    ng = prod.named("nodes-ng").inputs
    assert ng["capacityType"] == "ON_DEMAND"
    assert ng["scalingConfig"]["minSize"] >= 2
    assert len(ng["subnetIds"]) == 3
    assert len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3


def test_prod_endpoint_is_private_with_limited_public_access(recorded):
    eks = recorded["prod"].named("cluster-eks").inputs
    assert eks["endpointPrivateAccess"] is True
    assert eks["publicAccessCidrs"] and "0.0.0.0/0" not in eks["publicAccessCidrs"]
    assert eks["deletionProtection"] is True


def test_prod_turns_the_optional_examples_off(recorded):
    assert not set(EXAMPLE_COMPONENTS) & _component_types(recorded["prod"])


def test_prod_protects_keys_secrets_and_the_cluster(recorded):
    prod = recorded["prod"]
    for type_ in ("aws:kms/key:Key", "aws:secretsmanager/secret:Secret", "eks:index:Cluster"):
        flags = _protected(prod, type_)
        assert flags and all(flags), type_
    for secret in prod.of_type("aws:secretsmanager/secret:Secret"):
        assert secret.inputs["recoveryWindowInDays"] == 30


def test_workloads_are_not_protected_so_prod_can_still_change(recorded):
    prod = recorded["prod"]
    assert not any(r.protect for r in prod.of_type("kubernetes:apps/v1:Deployment"))
