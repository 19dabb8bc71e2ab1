"""The exact IAM JSON that reaches AWS: least privilege and pinned trust."""

import pytest
from eksplatform.iam_policies import (
    irsa_trust_policy,
    issuer_host_path,
    secret_read_policy,
)

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
ISSUER = "https://oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
SECRET = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:demo-AbCdEf"


def test_trust_policy_pins_sub_and_aud():
    assert irsa_trust_policy(PROVIDER, ISSUER, "secrets-demo", "reader") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AssumeFromOneServiceAccount",
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC:sub": (
                            "system:serviceaccount:secrets-demo:reader"
                        ),
                        "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def test_issuer_condition_keys_never_carry_the_scheme():
    assert issuer_host_path("https://oidc.example/id/X/") == "oidc.example/id/X"
    assert issuer_host_path("oidc.example/id/X") == "oidc.example/id/X"


def test_read_policy_grants_only_get_and_describe_on_listed_arns():
    assert secret_read_policy([SECRET, SECRET]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadListedSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": [SECRET],
            }
        ],
    }


def test_read_policy_adds_kms_decrypt_only_through_secrets_manager():
    key = "arn:aws:kms:ap-southeast-1:123456789012:key/1234"
    statements = secret_read_policy([SECRET], kms_key_arns=[key], region="ap-southeast-1")[
        "Statement"
    ]
    assert statements[1] == {
        "Sid": "DecryptThroughSecretServicesOnly",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [key],
        "Condition": {
            "StringEquals": {"kms:ViaService": ["secretsmanager.ap-southeast-1.amazonaws.com"]}
        },
    }


def test_read_policy_has_no_kms_statement_without_a_customer_key():
    actions = [s["Action"] for s in secret_read_policy([SECRET])["Statement"]]
    assert all("kms:Decrypt" not in a for a in actions)


def test_read_policy_refuses_to_grant_nothing():
    with pytest.raises(ValueError, match="at least one secret"):
        secret_read_policy([])


def test_kms_scoping_needs_a_region():
    with pytest.raises(ValueError, match="region is required"):
        secret_read_policy([SECRET], kms_key_arns=["arn:aws:kms:x"])
