"""TeamApp: an app a team deploys from its own stack, built from the platform contract through
the same components as an `apps` entry."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from eksplatform.app import TeamApp, TeamAppArgs
from eksplatform.contract import parse_contract
from eksplatform.modes import IdentityMode
from eksplatform.secret_provider_class import SecretObject

from tests.components.test_contract import CONTRACT, KEY

DB = "eks-secrets-prod/orders-db"
URL = "eks-secrets-prod/orders-url"
DB_ARN = CONTRACT["secrets"][DB]["arn"]


def _deploy(contract: dict[str, Any], objects: list[SecretObject], **kwargs: Any) -> None:
    TeamApp(
        "orders",
        TeamAppArgs.from_contract(
            pulumi.Output.from_input(contract).apply(parse_contract),
            namespace="orders",
            service_account="orders",
            objects=objects,
            region=kwargs.pop("region", "ap-southeast-1"),
            **kwargs,
        ),
    )


def build_team_app() -> None:
    """One TeamApp on IRSA, for tests that need every component built."""
    _deploy(CONTRACT, [SecretObject(DB)])


def _policy(rec) -> dict[str, Any]:
    policy = json.loads(rec.named("orders-secrets-read-policy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def test_team_app_is_a_namespace_baseline_and_workload_secrets(build) -> None:
    rec = build(lambda: _deploy(CONTRACT, [SecretObject(DB)]))
    app = rec.named("orders")
    assert app.type == "eksplatform:platform:TeamApp"
    children = {(r.type, r.name) for r in rec.resources if r.parent == app.urn}
    assert children == {
        ("eksplatform:workloads:NamespaceBaseline", "orders-ns"),
        ("eksplatform:secrets:WorkloadSecrets", "orders-secrets"),
    }


def test_team_app_with_failover_reads_its_secret_and_replica_with_the_stack_key(build) -> None:
    rec = build(lambda: _deploy(CONTRACT, [SecretObject(DB)], failover_region="ap-southeast-2"))
    statements = _policy(rec)
    assert statements["ReadListedSecrets"]["Resource"] == sorted(
        [DB_ARN, DB_ARN.replace("ap-southeast-1", "ap-southeast-2")]
    )
    (decrypt,) = [s for s in statements.values() if "kms:Decrypt" in s["Action"]]
    assert decrypt["Resource"] == sorted([KEY, KEY.replace("ap-southeast-1", "ap-southeast-2")])
    parameters = rec.named("orders-secrets-class-spc").inputs["spec"]["parameters"]
    assert parameters["failoverRegion"] == "ap-southeast-2"


def test_team_app_grants_no_key_for_a_parameter_the_stack_key_does_not_encrypt(build) -> None:
    rec = build(lambda: _deploy(CONTRACT, [SecretObject(URL, object_type="ssmparameter")]))
    statements = _policy(rec)
    assert statements["ReadListedParameters"]["Resource"] == [CONTRACT["secrets"][URL]["arn"]]
    assert set(statements) == {"ReadListedParameters"}


def test_team_app_on_pod_identity_associates_in_the_platform_cluster(build) -> None:
    contract = {**CONTRACT, "podIdentityAgent": True}
    rec = build(lambda: _deploy(contract, [SecretObject(DB)], identity=IdentityMode.POD_IDENTITY))
    (association,) = rec.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["clusterName"] == CONTRACT["clusterName"]
    assert association.inputs["namespace"] == "orders"
    assert association.inputs["serviceAccount"] == "orders"
    trust = json.dumps(
        json.loads(rec.named("orders-secrets-podid-role").inputs["assumeRolePolicy"])
    )
    assert CONTRACT["clusterArn"] in trust


@pytest.mark.parametrize(
    ("contract", "kwargs", "message"),
    [
        (CONTRACT, {"objects": [SecretObject("orders")]}, "secret 'orders' is not in"),
        (CONTRACT, {"region": "eu-west-1"}, "region 'eu-west-1': the platform's cluster"),
        (
            {**CONTRACT, "failoverRegion": ""},
            {"failover_region": "ap-southeast-2"},
            "replicates its secrets to 'no region'",
        ),
        (CONTRACT, {"identity": IdentityMode.POD_IDENTITY}, "needs the eks-pod-identity-agent"),
    ],
)
def test_team_app_refuses_what_the_platform_contract_does_not_offer(
    build, contract: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    objects = kwargs.pop("objects", [SecretObject(DB)])
    with pytest.raises(Exception, match=message):
        build(lambda: _deploy(contract, objects, **kwargs))


def test_team_app_args_refuse_a_bad_namespace_and_no_secrets() -> None:
    with pytest.raises(ValueError, match="namespace 'Orders'"):
        TeamAppArgs(namespace="Orders", service_account="o", objects=[SecretObject(DB)], region="r")
    with pytest.raises(ValueError, match="reads at least one secret"):
        TeamAppArgs(namespace="orders", service_account="o", objects=[], region="r")
