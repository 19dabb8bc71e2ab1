"""Reading the platform contract: every field checked, an unknown major version refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from eksplatform.contract import ContractError, kubeconfig_cluster, parse_contract
from eksplatform.modes import IdentityMode

KEY = "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
CONTRACT: dict[str, Any] = {
    "contractVersion": "1",
    "region": "ap-southeast-1",
    "failoverRegion": "ap-southeast-2",
    "clusterName": "eks-secrets-prod",
    "clusterArn": "arn:aws:eks:ap-southeast-1:123456789012:cluster/eks-secrets-prod",
    "endpoint": "https://ABC.gr7.ap-southeast-1.eks.amazonaws.com",
    "certificateAuthority": "LS0tLS1CRUdJTg==",
    "oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-southeast-1.amazonaws.com/id/ABC",
    "oidcIssuer": "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC",
    "secretNamePrefix": "eks-secrets-prod/",
    "iamPath": "/eks-secrets-platform/prod/",
    "secrets": {
        "eks-secrets-prod/orders-db": {
            "arn": "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:eks-secrets-prod/orders-db-AbCdEf",
            "type": "secretsmanager",
            "stackKey": True,
        },
        "eks-secrets-prod/orders-url": {
            "arn": "arn:aws:ssm:ap-southeast-1:123456789012:parameter/eks-secrets-prod/orders-url",
            "type": "ssmparameter",
            "stackKey": False,
        },
    },
    "podIdentityAgent": False,
    "podIdentityAbacRoleArn": "",
    "secretsKmsKeyArn": KEY,
}


def test_contract_parses_into_plain_values() -> None:
    contract = parse_contract(CONTRACT)
    assert contract.failover_region == "ap-southeast-2"
    assert contract.secret("eks-secrets-prod/orders-url", "ssmparameter").arn.endswith("orders-url")


def test_contract_of_another_major_version_is_refused_with_the_way_out() -> None:
    with pytest.raises(ContractError, match=r"contractVersion '2' is not one this package reads"):
        parse_contract({**CONTRACT, "contractVersion": "2"})


def test_contract_names_every_missing_and_mistyped_field_at_once() -> None:
    broken = {k: v for k, v in CONTRACT.items() if k != "oidcIssuer"}
    broken["podIdentityAgent"] = "yes"
    with pytest.raises(ContractError) as raised:
        parse_contract(broken)
    assert str(raised.value) == (
        "the platform contract is malformed: oidcIssuer: missing; "
        "podIdentityAgent: 'yes' is not a boolean"
    )


def test_contract_refuses_a_secret_without_its_type() -> None:
    broken = copy.deepcopy(CONTRACT)
    broken["secrets"]["eks-secrets-prod/orders-db"]["type"] = "vault"
    with pytest.raises(ContractError, match=r"secrets.eks-secrets-prod/orders-db: .* needs arn"):
        parse_contract(broken)


def test_an_output_that_is_not_a_contract_is_refused() -> None:
    with pytest.raises(ContractError, match="'platform' output is str, not a mapping"):
        parse_contract("eks-secrets-prod")


def test_a_secret_the_platform_does_not_offer_is_refused_with_what_it_offers() -> None:
    contract = parse_contract(CONTRACT)
    with pytest.raises(ContractError, match=r"'orders' is not in .* offers: eks-secrets-prod/"):
        contract.secret("orders")
    with pytest.raises(
        ContractError, match="is a ssmparameter in the contract, not secretsmanager"
    ):
        contract.secret("eks-secrets-prod/orders-url")


def test_stack_key_and_its_failover_replica_only_for_secrets_encrypted_with_it() -> None:
    contract = parse_contract(CONTRACT)
    assert contract.kms_key_arns(["eks-secrets-prod/orders-url"]) == []
    assert contract.kms_key_arns(["eks-secrets-prod/orders-db"]) == [
        KEY,
        KEY.replace("ap-southeast-1", "ap-southeast-2"),
    ]
    assert (
        parse_contract({**CONTRACT, "secretsKmsKeyArn": ""}).kms_key_arns(
            ["eks-secrets-prod/orders-db"]
        )
        == []
    )


def test_pod_identity_is_refused_where_the_platform_runs_no_agent_or_abac_role() -> None:
    contract = parse_contract(CONTRACT)
    contract.check_identity(IdentityMode.IRSA)
    with pytest.raises(ContractError, match="'pod-identity' needs the eks-pod-identity-agent"):
        contract.check_identity(IdentityMode.POD_IDENTITY)
    with_agent = parse_contract({**CONTRACT, "podIdentityAgent": True})
    with_agent.check_identity(IdentityMode.POD_IDENTITY)
    with pytest.raises(ContractError, match="shared ABAC role"):
        with_agent.check_identity(IdentityMode.POD_IDENTITY_ABAC)


def test_kubeconfig_reaches_the_endpoint_with_aws_eks_get_token_and_no_credential() -> None:
    kubeconfig = parse_contract(CONTRACT).kubeconfig()
    assert kubeconfig_cluster(kubeconfig) == (
        CONTRACT["endpoint"],
        CONTRACT["certificateAuthority"],
    )
    (user,) = kubeconfig["users"]
    assert user["user"] == {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": [
                "eks",
                "get-token",
                "--cluster-name",
                "eks-secrets-prod",
                "--region",
                "ap-southeast-1",
            ],
        }
    }


def test_team_roles_go_under_the_platform_path_that_its_administrator_may_create() -> None:
    contract = parse_contract(CONTRACT)
    assert contract.team_iam_path("orders-team") == "/eks-secrets-platform/prod/teams/orders-team/"
    with pytest.raises(ContractError, match="letters, digits"):
        contract.team_iam_path("orders/team")
    with pytest.raises(ContractError, match="exceeds 512"):
        parse_contract({**CONTRACT, "iamPath": "/" + "p/" * 250}).team_iam_path("orders")
