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
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = ("sts:AssumeRole", "sts:TagSession")
NAMESPACE_TAG = "kubernetes-namespace"
"""Session tag EKS Pod Identity sets to the pod's namespace, and the tag secrets carry (ABAC)."""

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


def eks_cluster_arn(partition: str, region: str, account_id: str, cluster_name: str) -> str:
    """The cluster ARN, built rather than read so it is known from plain values."""
    return f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}"


def arn_parts(arn: str) -> tuple[str, str, str]:
    """(partition, region, account) of an ARN such as a cluster's."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"{arn!r} is not an ARN")
    return parts[1], parts[3], parts[4]


def replica_arn(arn: str, region: str) -> str:
    """The ARN of a secret's replica (or a multi-Region key's replica) in `region`.

    Replicas keep the primary's name, suffix and account; only the region differs.
    """
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"{arn!r} is not an ARN")
    parts[3] = region
    return ":".join(parts)


def pod_identity_trust_policy(
    *, cluster_arn: str = "", namespaces: Sequence[str] = (), service_account: str = ""
) -> PolicyDocument:
    """Lets EKS Pod Identity assume the role and tag the session.

    EKS sends the pod's cluster ARN, namespace and service account as request tags; pinning
    them here means an association made in another cluster (a Pod Identity role is reusable
    across clusters) or for another service account cannot use this role. AWS documents
    these `aws:RequestTag/...` keys for Pod Identity trust policies (pod-id-role); it does
    not document `aws:SourceArn` for this principal, and a condition on an absent key would
    silently refuse every pod, so none is used.
    """
    statement: dict[str, Any] = {
        "Sid": "AllowEksPodIdentity",
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
        "Action": list(POD_IDENTITY_ACTIONS),
    }
    conditions: dict[str, Any] = {}
    if cluster_arn:
        conditions["aws:RequestTag/eks-cluster-arn"] = cluster_arn
    if namespaces:
        conditions[f"aws:RequestTag/{NAMESPACE_TAG}"] = sorted(set(namespaces))
    if service_account:
        conditions["aws:RequestTag/kubernetes-service-account"] = service_account
    if conditions:
        statement["Condition"] = {"StringEquals": conditions}
    return {"Version": VERSION, "Statement": [statement]}


def _kms_decrypt_statement(
    kms_key_arns: Sequence[str], services: Sequence[str], regions: Sequence[str]
) -> dict[str, Any]:
    """kms:Decrypt on the listed keys, only when a secret service calls KMS on our behalf."""
    return {
        "Sid": "DecryptThroughSecretServicesOnly",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": sorted(set(kms_key_arns)),
        "Condition": {
            "StringEquals": {
                "kms:ViaService": [
                    f"{service}.{region}.amazonaws.com"
                    for service in services
                    for region in regions
                ]
            }
        },
    }


def abac_secret_read_policy(
    *,
    partition: str,
    account_id: str,
    regions: Sequence[str],
    kms_key_arns: Sequence[str] = (),
) -> PolicyDocument:
    """One policy for many namespaces: each pod reads only secrets tagged with its namespace.

    EKS Pod Identity tags every session with `kubernetes-namespace`; a secret is readable
    only when its own `kubernetes-namespace` tag equals the caller's. An untagged secret, or a
    session without the tag, matches nothing. `regions` are the primary and failover regions.
    """
    if not regions:
        raise ValueError("an ABAC read policy needs at least one region")
    ordered = list(dict.fromkeys(regions))
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadSecretsOfOwnNamespace",
            "Effect": "Allow",
            "Action": list(SECRET_READ_ACTIONS),
            "Resource": [
                f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:*"
                for region in ordered
            ],
            "Condition": {
                "StringEquals": {
                    f"secretsmanager:ResourceTag/{NAMESPACE_TAG}": (
                        f"${{aws:PrincipalTag/{NAMESPACE_TAG}}}"
                    )
                }
            },
        }
    ]
    if kms_key_arns:
        statements.append(_kms_decrypt_statement(kms_key_arns, ["secretsmanager"], ordered))
    return {"Version": VERSION, "Statement": statements}


def secret_read_policy(
    secret_arns: Sequence[str],
    *,
    parameter_arns: Sequence[str] = (),
    kms_key_arns: Sequence[str] = (),
    region: str = "",
    failover_region: str = "",
) -> PolicyDocument:
    """Read access to exactly the listed secrets (and SSM parameters), nothing else.

    `kms:Decrypt` is added only for customer-managed keys, and only when called through
    Secrets Manager or SSM in this region, or the failover region (`kms:ViaService`).
    """
    if not secret_arns and not parameter_arns:
        raise ValueError("a read policy needs at least one secret or parameter ARN")
    # An empty key ARN is a key that may not exist (a platform contract without a stack key).
    kms_key_arns = [a for a in kms_key_arns if a]
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
        services = (["secretsmanager"] if secret_arns else []) + (["ssm"] if parameter_arns else [])
        regions = [region, failover_region] if failover_region else [region]
        statements.append(_kms_decrypt_statement(kms_key_arns, services, regions))
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


def eks_cluster_assume_role_policy() -> PolicyDocument:
    """Trust policy of the cluster service role."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


def eks_secrets_encryption_policy(key_arn: str) -> PolicyDocument:
    """What the control plane needs on its own key to envelope-encrypt Kubernetes Secrets.

    No kms:CreateGrant: the grant is created by whoever creates the cluster (the deployer),
    and a role that may create grants can delegate the key (parliament flags it).
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "EnvelopeEncryptionWithStackKey",
                "Effect": "Allow",
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:ListGrants",
                ],
                "Resource": key_arn,
            }
        ],
    }
