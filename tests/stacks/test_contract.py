"""The platform contract every platform stack exports for team stacks (eksplatform.contract)."""

from __future__ import annotations

import json

import pytest
from eksplatform.contract import (
    CONTRACT_VERSION,
    OUTPUT_NAME,
    REQUIRED_FIELDS,
    SECRET_FIELDS,
    kubeconfig_cluster,
    parse_contract,
)

from tests.conftest import FIXTURE_STACKS, fixture, secret_values_for


def _values(value: object) -> list[str]:
    """Every string inside a secret value (a JSON secret's leaves too)."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _values(v)]
    if isinstance(value, list):
        return [s for v in value for s in _values(v)]
    return [str(value)]


@pytest.mark.parametrize("stack", FIXTURE_STACKS)
def test_contract_has_every_field_present_and_typed(stack_runs, stack: str) -> None:
    outputs = stack_runs.run(stack).stack_outputs
    contract = outputs[OUTPUT_NAME]
    assert set(contract) == set(REQUIRED_FIELDS)
    for key, kind in REQUIRED_FIELDS.items():
        assert isinstance(contract[key], kind), (key, contract[key])
    assert contract["contractVersion"] == CONTRACT_VERSION
    assert set(contract["secrets"]) == set(outputs["secretArns"])
    for name, secret in contract["secrets"].items():
        assert set(secret) == set(SECRET_FIELDS)
        assert secret["arn"] == outputs["secretArns"][name]
    assert parse_contract(contract).cluster_name == outputs["clusterName"]


@pytest.mark.parametrize("stack", FIXTURE_STACKS)
def test_contract_carries_no_secret_value_and_no_credential(stack_runs, stack: str) -> None:
    contract = json.dumps(stack_runs.run(stack).stack_outputs[OUTPUT_NAME])
    values = [v for value in secret_values_for(stack).values() for v in _values(value)]
    assert values
    assert not [v for v in values if len(v) >= 6 and v in contract]
    assert "kubeconfig" not in contract
    assert "token" not in contract.lower()


@pytest.mark.parametrize("stack", FIXTURE_STACKS)
def test_contract_endpoint_and_ca_are_the_kubeconfigs(stack_runs, stack: str) -> None:
    outputs = stack_runs.run(stack).stack_outputs
    contract = outputs[OUTPUT_NAME]
    server, ca = kubeconfig_cluster(outputs["kubeconfig"])
    assert (contract["endpoint"], contract["certificateAuthority"]) == (server, ca)
    assert contract["endpoint"].startswith("https://")
    assert not contract["oidcIssuer"].startswith("https://")
    assert contract["oidcProviderArn"] == outputs["oidcProviderArn"]


def test_contract_names_the_stack_key_only_where_the_stack_has_one(stack_runs) -> None:
    dev = stack_runs.run(fixture("dev")).stack_outputs[OUTPUT_NAME]
    prod = stack_runs.run(fixture("prod")).stack_outputs[OUTPUT_NAME]
    assert dev["secretsKmsKeyArn"] == ""
    assert not any(s["stackKey"] for s in dev["secrets"].values())
    assert prod["secretsKmsKeyArn"].startswith("arn:aws:kms:ap-southeast-1:")
    assert all(s["stackKey"] for s in prod["secrets"].values())


ABAC_APPS = """
- name: secrets-demo-podid
  serviceAccount: nginx-podid-reader
  identity: pod-identity-abac
  secrets: [demo-podid-credentials]
"""


def test_contract_says_whether_pod_identity_runs_and_names_the_abac_role(
    stack_runs, run_stack
) -> None:
    dev = stack_runs.run(fixture("dev")).stack_outputs[OUTPUT_NAME]
    prod = stack_runs.run(fixture("prod")).stack_outputs[OUTPUT_NAME]
    assert (dev["podIdentityAgent"], dev["podIdentityAbacRoleArn"]) == (True, "")
    assert (prod["podIdentityAgent"], prod["podIdentityAbacRoleArn"]) == (False, "")
    abac = run_stack(fixture("dev"), {"eks-secrets-platform:apps": ABAC_APPS})
    (role,) = [r for r in abac.of_type("aws:iam/role:Role") if r.name.startswith("secrets-abac")]
    contract = abac.stack_outputs[OUTPUT_NAME]
    assert contract["podIdentityAgent"] is True
    assert contract["podIdentityAbacRoleArn"] == role.outputs["arn"]
