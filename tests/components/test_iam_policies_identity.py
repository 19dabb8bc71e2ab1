"""Exact IAM JSON of the identity modes: IRSA vs Pod Identity trust, ABAC, KMS conditions."""

import pytest
from eksplatform.iam_policies import (
    abac_secret_read_policy,
    arn_parts,
    eks_cluster_arn,
    irsa_trust_policy,
    pod_identity_trust_policy,
    replica_arn,
    secret_read_policy,
)

CLUSTER_ARN = "arn:aws:eks:ap-southeast-1:123456789012:cluster/eks-secrets-dev"
SECRET = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:demo-AbCdEf"
REPLICA = "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:demo-AbCdEf"
PARAMETER = "arn:aws:ssm:ap-southeast-1:123456789012:parameter/app/db-url"
KEY = "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"
REPLICA_KEY = "arn:aws:kms:ap-southeast-2:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"


def test_irsa_and_pod_identity_trust_different_principals_and_actions():
    irsa = irsa_trust_policy(
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-southeast-1.amazonaws.com/id/ABC",
        "https://oidc.eks.ap-southeast-1.amazonaws.com/id/ABC",
        "secrets-demo",
        "reader",
    )["Statement"][0]
    pod_identity = pod_identity_trust_policy()["Statement"][0]
    assert (irsa["Principal"], irsa["Action"]) == (
        {
            "Federated": (
                "arn:aws:iam::123456789012:oidc-provider/"
                "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
            )
        },
        "sts:AssumeRoleWithWebIdentity",
    )
    assert (pod_identity["Principal"], pod_identity["Action"]) == (
        {"Service": "pods.eks.amazonaws.com"},
        ["sts:AssumeRole", "sts:TagSession"],
    )


def test_pod_identity_trust_without_pins_is_the_documented_minimum():
    assert pod_identity_trust_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowEksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


def test_pod_identity_trust_pins_cluster_namespace_and_service_account_request_tags():
    policy = pod_identity_trust_policy(
        cluster_arn=CLUSTER_ARN, namespaces=["secrets-demo-podid"], service_account="reader"
    )
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowEksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
                        "aws:RequestTag/kubernetes-namespace": ["secrets-demo-podid"],
                        "aws:RequestTag/kubernetes-service-account": "reader",
                    }
                },
            }
        ],
    }


def test_abac_policy_matches_secret_namespace_tag_to_session_tag():
    assert abac_secret_read_policy(
        partition="aws", account_id="123456789012", regions=["ap-southeast-1"]
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSecretsOfOwnNamespace",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": ["arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:*"],
                "Condition": {
                    "StringEquals": {
                        "secretsmanager:ResourceTag/kubernetes-namespace": (
                            "${aws:PrincipalTag/kubernetes-namespace}"
                        )
                    }
                },
            }
        ],
    }


def test_abac_policy_covers_the_failover_region_and_decrypts_only_via_secrets_manager():
    statements = abac_secret_read_policy(
        partition="aws",
        account_id="123456789012",
        regions=["ap-southeast-1", "ap-southeast-2", "ap-southeast-1"],
        kms_key_arns=[KEY, REPLICA_KEY],
    )["Statement"]
    assert statements[0]["Resource"] == [
        "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:*",
        "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:*",
    ]
    assert statements[1] == {
        "Sid": "DecryptThroughSecretServicesOnly",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [KEY, REPLICA_KEY],
        "Condition": {
            "StringEquals": {
                "kms:ViaService": [
                    "secretsmanager.ap-southeast-1.amazonaws.com",
                    "secretsmanager.ap-southeast-2.amazonaws.com",
                ]
            }
        },
    }


def test_abac_policy_needs_a_region():
    with pytest.raises(ValueError, match="needs at least one region"):
        abac_secret_read_policy(partition="aws", account_id="123456789012", regions=[])


def test_read_policy_for_secrets_and_parameters_with_kms_lists_each_service():
    assert secret_read_policy(
        [SECRET], parameter_arns=[PARAMETER], kms_key_arns=[KEY], region="ap-southeast-1"
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadListedSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": [SECRET],
            },
            {
                "Sid": "ReadListedParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": [PARAMETER],
            },
            {
                "Sid": "DecryptThroughSecretServicesOnly",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": [KEY],
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [
                            "secretsmanager.ap-southeast-1.amazonaws.com",
                            "ssm.ap-southeast-1.amazonaws.com",
                        ]
                    }
                },
            },
        ],
    }


def test_read_policy_with_failover_covers_replica_arns_and_both_regions_kms():
    policy = secret_read_policy(
        [SECRET, REPLICA],
        kms_key_arns=[KEY, REPLICA_KEY],
        region="ap-southeast-1",
        failover_region="ap-southeast-2",
    )
    assert policy["Statement"][0]["Resource"] == [SECRET, REPLICA]
    assert policy["Statement"][1]["Condition"] == {
        "StringEquals": {
            "kms:ViaService": [
                "secretsmanager.ap-southeast-1.amazonaws.com",
                "secretsmanager.ap-southeast-2.amazonaws.com",
            ]
        }
    }


def test_replica_arn_swaps_only_the_region():
    assert replica_arn(SECRET, "ap-southeast-2") == REPLICA
    assert replica_arn(KEY, "ap-southeast-2") == REPLICA_KEY
    with pytest.raises(ValueError, match="is not an ARN"):
        replica_arn("demo", "ap-southeast-2")


def test_cluster_arn_is_built_from_plain_values_and_parsed_back():
    arn = eks_cluster_arn("aws", "ap-southeast-1", "123456789012", "eks-secrets-dev")
    assert arn == CLUSTER_ARN
    assert arn_parts(arn) == ("aws", "ap-southeast-1", "123456789012")
