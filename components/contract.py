"""The platform contract: what a platform stack exports so that teams can deploy their apps
from stacks of their own (a `pulumi.StackReference` to it), and nothing more.

Defined once here, for both sides: the platform stack builds its `platform` output with
`contract_output`, a team stack reads it back with `parse_contract`. The contract carries
ARNs, names and addresses, never a secret value.

Versioning: `contractVersion` is a major version. Adding an optional field keeps it; removing
or renaming a field, or changing a field's meaning or type, is a new major version, and a
consumer refuses a major version it does not know (`ContractError`), so a team stack fails at
preview instead of deploying against a platform it misreads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi

from .iam_policies import replica_arn
from .k8s import exec_kubeconfig
from .modes import IdentityMode, SecretType

CONTRACT_VERSION = "1"
"""The major version this package produces and reads. A breaking change bumps it."""
SUPPORTED_VERSIONS = (CONTRACT_VERSION,)
TEAM_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
IAM_PATH_MAX = 512
OUTPUT_NAME = "platform"
"""The stack output that holds the contract."""


class ContractSecretV1(TypedDict):
    """One secret or parameter the platform holds, by its name (the key in `secrets`)."""

    arn: str
    """Its ARN (a Secrets Manager secret or an SSM parameter)."""
    type: str
    """`secretsmanager` or `ssmparameter`."""
    stackKey: bool
    """Encrypted with the stack key (`secretsKmsKeyArn`): a reader needs kms:Decrypt on it."""


class PlatformContractV1(TypedDict):
    """The `platform` stack output, as a team stack reads it (version 1)."""

    contractVersion: str
    """Major version of this shape: `"1"`."""
    region: str
    """AWS region of the cluster and the secrets."""
    failoverRegion: str
    """Region the secrets are replicated to for failover reads; empty without failover."""
    clusterName: str
    """EKS cluster name (Pod Identity associations, `aws eks get-token`)."""
    clusterArn: str
    """EKS cluster ARN (Pod Identity roles pin their trust to it)."""
    endpoint: str
    """HTTPS URL of the Kubernetes API server."""
    certificateAuthority: str
    """The API server's CA certificate, base64-encoded PEM (kubeconfig
    `certificate-authority-data`)."""
    oidcProviderArn: str
    """ARN of the cluster's IAM OIDC provider (IRSA trust)."""
    oidcIssuer: str
    """The cluster's OIDC issuer, host/path without `https://` (IRSA trust conditions)."""
    secretNamePrefix: str
    """Names of the platform's secrets start with it (CI's IAM policies fence it)."""
    iamPath: str
    """IAM path of the platform's roles and policies, `/eks-secrets-platform/<stack>/`: its
    permissions administrator may create roles (with the boundary) and policies only under
    it, so a team stack it applies puts its own under `<iamPath>teams/<team>/`."""
    secrets: dict[str, ContractSecretV1]
    """The secrets and parameters the platform holds, by name: ARNs only, never values."""
    podIdentityAgent: bool
    """The eks-pod-identity-agent add-on runs: `pod-identity` and `pod-identity-abac` work."""
    podIdentityAbacRoleArn: str
    """The shared ABAC role (`pod-identity-abac`); empty when the platform has none."""
    secretsKmsKeyArn: str
    """The stack key: the customer-managed KMS key of the platform's secrets in `region`
    (`secretsKmsKey: create`, or the key ARN given); empty with AWS managed keys."""
    stackName: NotRequired[str]
    """The platform stack's name, for messages only."""


REQUIRED_FIELDS: dict[str, type] = {
    "contractVersion": str,
    "region": str,
    "failoverRegion": str,
    "clusterName": str,
    "clusterArn": str,
    "endpoint": str,
    "certificateAuthority": str,
    "oidcProviderArn": str,
    "oidcIssuer": str,
    "secretNamePrefix": str,
    "iamPath": str,
    "secrets": dict,
    "podIdentityAgent": bool,
    "podIdentityAbacRoleArn": str,
    "secretsKmsKeyArn": str,
}
"""Every field of version 1 and its JSON type (the keys of PlatformContractV1). None is ever
null: Pulumi drops null entries from stack outputs, so "none" is an empty string."""
SECRET_FIELDS: dict[str, type] = {"arn": str, "type": str, "stackKey": bool}


class ContractError(ValueError):
    """The platform's output is not a contract this package can read."""


@dataclass(frozen=True)
class ContractSecret:
    """One secret of a parsed contract."""

    arn: str
    """Its ARN. Required."""
    type: SecretType
    """Secrets Manager secret or SSM parameter. Required."""
    stack_key: bool
    """Encrypted with the contract's stack key. Required."""


@dataclass(frozen=True)
class PlatformContract:
    """A parsed, checked contract (plain values): what a team stack builds on."""

    region: str
    """`region`. Required."""
    failover_region: str
    """`failoverRegion`; empty without failover. Required."""
    cluster_name: str
    """`clusterName`. Required."""
    cluster_arn: str
    """`clusterArn`. Required."""
    endpoint: str
    """`endpoint`, the API server URL. Required."""
    certificate_authority: str
    """`certificateAuthority`, base64 PEM. Required."""
    oidc_provider_arn: str
    """`oidcProviderArn`. Required."""
    oidc_issuer: str
    """`oidcIssuer`, without https://. Required."""
    secret_name_prefix: str
    """`secretNamePrefix`. Required."""
    iam_path: str
    """`iamPath`, `/eks-secrets-platform/<stack>/`. Required."""
    secrets: Mapping[str, ContractSecret]
    """`secrets`, by name. Required."""
    pod_identity_agent: bool
    """`podIdentityAgent`. Required."""
    pod_identity_abac_role_arn: str
    """`podIdentityAbacRoleArn`; empty when none. Required."""
    secrets_kms_key_arn: str
    """`secretsKmsKeyArn`, the stack key; empty when none. Required."""
    version: str = CONTRACT_VERSION
    """`contractVersion`. Default: CONTRACT_VERSION."""

    def secret(self, name: str, type_: str = SecretType.SECRETS_MANAGER) -> ContractSecret:
        """The secret `name`, checked to be of `type_`."""
        found = self.secrets.get(name)
        if found is None:
            offered = ", ".join(sorted(self.secrets)) or "none"
            raise ContractError(
                f"secret {name!r} is not in the platform's contract (it offers: {offered})"
            )
        if found.type != type_:
            raise ContractError(f"secret {name!r} is a {found.type} in the contract, not {type_}")
        return found

    def kms_key_arns(self, names: Sequence[str]) -> list[str]:
        """The stack key (and its failover replica) when one of `names` is encrypted with it."""
        if not self.secrets_kms_key_arn or not any(self.secrets[n].stack_key for n in names):
            return []
        keys = [self.secrets_kms_key_arn]
        if self.failover_region:
            keys.append(replica_arn(self.secrets_kms_key_arn, self.failover_region))
        return keys

    def check_identity(self, identity: IdentityMode) -> None:
        """Refuses an identity mode the platform cannot serve."""
        if identity != IdentityMode.IRSA and not self.pod_identity_agent:
            raise ContractError(
                f"identity {identity.value!r} needs the eks-pod-identity-agent add-on, which the "
                "platform does not run: use irsa, or ask the platform team to enable it"
            )
        if identity == IdentityMode.POD_IDENTITY_ABAC and not self.pod_identity_abac_role_arn:
            raise ContractError(
                "identity 'pod-identity-abac' needs the platform's shared ABAC role "
                "(podIdentityAbacRoleArn is empty)"
            )

    def team_iam_path(self, team: str) -> str:
        """Where a team stack's roles and policies go: `<iamPath>teams/<team>/`."""
        if not TEAM_NAME.fullmatch(team):
            raise ContractError(f"team {team!r}: use letters, digits, '.', '_' and '-' only")
        path = f"{self.iam_path}teams/{team}/"
        # IAM API reference, Role and Policy data types, `Path`: "Length Constraints: Minimum
        # length of 1. Maximum length of 512."
        if len(path) > IAM_PATH_MAX:
            raise ContractError(f"team {team!r}: IAM path {path!r} exceeds {IAM_PATH_MAX}")
        return path

    def kubeconfig(self) -> dict[str, Any]:
        """A kubeconfig that reaches the cluster with `aws eks get-token` (the caller's AWS
        credentials; the cluster must grant them an access entry)."""
        return exec_kubeconfig(
            self.cluster_name, self.endpoint, self.certificate_authority, self.region
        )


def parse_contract(value: object) -> PlatformContract:
    """The contract from a StackReference's `platform` output; every missing or mistyped field
    and an unknown major version are a ContractError naming them."""
    if not isinstance(value, Mapping):
        raise ContractError(
            f"the platform stack's {OUTPUT_NAME!r} output is {type(value).__name__}, not a "
            "mapping: is it a platform stack of eks-secrets-platform?"
        )
    version = value.get("contractVersion")
    if version not in SUPPORTED_VERSIONS:
        raise ContractError(
            f"contractVersion {version!r} is not one this package reads "
            f"({', '.join(SUPPORTED_VERSIONS)}): upgrade eks-secrets-platform to a release "
            "that reads it"
        )
    problems = []
    for key, kind in REQUIRED_FIELDS.items():
        if key not in value:
            problems.append(f"{key}: missing")
        elif not isinstance(value[key], kind):
            problems.append(f"{key}: {value[key]!r} is not {_kind(kind)}")
    secrets: dict[str, ContractSecret] = {}
    for name, item in (value.get("secrets") or {}).items():
        if not isinstance(item, Mapping):
            problems.append(f"secrets.{name}: {item!r} is not a mapping")
            continue
        bad = [k for k, kind in SECRET_FIELDS.items() if not isinstance(item.get(k), kind)]
        if bad or item.get("type") not in tuple(SecretType):
            problems.append(f"secrets.{name}: {item!r} needs arn, type and stackKey")
            continue
        secrets[name] = ContractSecret(item["arn"], SecretType(item["type"]), item["stackKey"])
    if problems:
        raise ContractError("the platform contract is malformed: " + "; ".join(problems))
    return PlatformContract(
        region=value["region"],
        failover_region=value["failoverRegion"],
        cluster_name=value["clusterName"],
        cluster_arn=value["clusterArn"],
        endpoint=value["endpoint"],
        certificate_authority=value["certificateAuthority"],
        oidc_provider_arn=value["oidcProviderArn"],
        oidc_issuer=value["oidcIssuer"],
        secret_name_prefix=value["secretNamePrefix"],
        iam_path=value["iamPath"],
        secrets=secrets,
        pod_identity_agent=value["podIdentityAgent"],
        pod_identity_abac_role_arn=value["podIdentityAbacRoleArn"],
        secrets_kms_key_arn=value["secretsKmsKeyArn"],
        version=version,
    )


def _kind(kind: type) -> str:
    return {str: "a string", bool: "a boolean", dict: "a mapping"}[kind]


@dataclass(frozen=True)
class ContractSecretInput:
    """One secret as the producer knows it."""

    arn: pulumi.Input[str]
    """Its ARN, once it exists. Required."""
    type: SecretType
    """Secrets Manager secret or SSM parameter. Required."""
    stack_key: bool
    """Encrypted with the stack key. Required."""


def contract_output(
    *,
    region: str,
    failover_region: str,
    cluster_name: pulumi.Input[str],
    cluster_arn: pulumi.Input[str],
    kubeconfig: pulumi.Input[str],
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer: pulumi.Input[str],
    secret_name_prefix: str,
    iam_path: str,
    secrets: Mapping[str, ContractSecretInput],
    pod_identity_agent: bool,
    pod_identity_abac_role_arn: pulumi.Input[str] | None,
    secrets_kms_key_arn: pulumi.Input[str] | None,
) -> dict[str, Any]:
    """The `platform` output (version 1), from the platform's handles. The endpoint and CA are
    read from the kubeconfig (which carries no credential: it runs `aws eks get-token`), and
    are not secret."""
    cluster = pulumi.Output.unsecret(pulumi.Output.from_input(kubeconfig)).apply(kubeconfig_cluster)
    contract: dict[str, Any] = {
        "contractVersion": CONTRACT_VERSION,
        "region": region,
        "failoverRegion": failover_region,
        "clusterName": cluster_name,
        "clusterArn": cluster_arn,
        "endpoint": cluster.apply(lambda c: c[0]),
        "certificateAuthority": cluster.apply(lambda c: c[1]),
        "oidcProviderArn": oidc_provider_arn,
        "oidcIssuer": pulumi.Output.from_input(oidc_issuer).apply(
            lambda issuer: issuer.removeprefix("https://")
        ),
        "secretNamePrefix": secret_name_prefix,
        "iamPath": iam_path,
        "secrets": {
            name: {"arn": s.arn, "type": s.type.value, "stackKey": s.stack_key}
            for name, s in secrets.items()
        },
        "podIdentityAgent": pod_identity_agent,
        "podIdentityAbacRoleArn": pod_identity_abac_role_arn or "",
        "secretsKmsKeyArn": secrets_kms_key_arn or "",
    }
    return contract


def kubeconfig_cluster(kubeconfig: str | Mapping[str, Any]) -> tuple[str, str]:
    """(API server URL, base64 CA) of the current context's cluster."""
    config = json.loads(kubeconfig) if isinstance(kubeconfig, str) else kubeconfig
    current = config.get("current-context")
    context = next((c for c in config["contexts"] if c["name"] == current), config["contexts"][0])
    cluster_name = context["context"]["cluster"]
    cluster = next(c for c in config["clusters"] if c["name"] == cluster_name)["cluster"]
    return cluster["server"], cluster["certificate-authority-data"]
