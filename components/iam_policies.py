"""IAM policy documents as plain data: the least-privilege read policy and the trust policies.

Pure functions of plain values, so a reviewer reads (and a test pins) the exact JSON that
reaches AWS. Components feed them resolved Output values through `apply`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
SSM_READ_ACTIONS = ("ssm:GetParameter", "ssm:GetParameters")

PolicyDocument = dict[str, Any]


def issuer_host_path(issuer: str) -> str:
    """The OIDC issuer as IAM condition keys spell it: host/path, no scheme."""
    return issuer.removeprefix("https://").rstrip("/")


def service_account_subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def irsa_trust_policy(
    oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str
) -> PolicyDocument:
    """Lets exactly one Kubernetes service account, with the STS audience, assume the role."""
    issuer = issuer_host_path(oidc_issuer)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AssumeFromOneServiceAccount",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": service_account_subject(namespace, service_account),
                        f"{issuer}:aud": STS_AUDIENCE,
                    }
                },
            }
        ],
    }


def secret_read_policy(
    secret_arns: Sequence[str],
    *,
    parameter_arns: Sequence[str] = (),
    kms_key_arns: Sequence[str] = (),
    region: str = "",
) -> PolicyDocument:
    """Read access to exactly the listed secrets (and SSM parameters), nothing else.

    `kms:Decrypt` is added only for customer-managed keys, and only when called through
    Secrets Manager or SSM in this region (`kms:ViaService`).
    """
    if not secret_arns and not parameter_arns:
        raise ValueError("a read policy needs at least one secret or parameter ARN")
    statements: list[dict[str, Any]] = []
    if secret_arns:
        statements.append(
            {
                "Sid": "ReadListedSecrets",
                "Effect": "Allow",
                "Action": list(SECRET_READ_ACTIONS),
                "Resource": sorted(set(secret_arns)),
            }
        )
    if parameter_arns:
        statements.append(
            {
                "Sid": "ReadListedParameters",
                "Effect": "Allow",
                "Action": list(SSM_READ_ACTIONS),
                "Resource": sorted(set(parameter_arns)),
            }
        )
    if kms_key_arns:
        if not region:
            raise ValueError("region is required to scope kms:Decrypt with kms:ViaService")
        services = []
        if secret_arns:
            services.append(f"secretsmanager.{region}.amazonaws.com")
        if parameter_arns:
            services.append(f"ssm.{region}.amazonaws.com")
        statements.append(
            {
                "Sid": "DecryptThroughSecretServicesOnly",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": sorted(set(kms_key_arns)),
                "Condition": {"StringEquals": {"kms:ViaService": services}},
            }
        )
    return {"Version": VERSION, "Statement": statements}


def ec2_assume_role_policy() -> PolicyDocument:
    """Trust policy of the node role."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def kms_key_policy(account_id: str, partition: str = "aws") -> PolicyDocument:
    """Key policy for the envelope-encryption key: the account administers it via IAM."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
