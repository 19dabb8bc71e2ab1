"""Everything one workload needs to read its secrets as files, with no credentials in the pod:
a least-privilege policy, an identity bound to its service account, and a SecretProviderClass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.irsa import IrsaRole, IrsaRoleArgs
from components.secret_access import SecretReadPolicy, SecretReadPolicyArgs
from components.secret_provider_class import (
    SecretObject,
    SecretProviderClass,
    SecretProviderClassArgs,
    SyncedSecret,
)


@dataclass(frozen=True)
class WorkloadSecretsArgs:
    """Inputs of WorkloadSecrets."""

    namespace: str
    service_account: str
    secret_provider_class: str
    objects: Sequence[SecretObject]
    secret_arns: Sequence[pulumi.Input[str]]
    """ARNs of exactly the secrets in `objects`: the policy grants these and nothing else."""
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    region: str
    parameter_arns: Sequence[pulumi.Input[str]] = ()
    kms_key_arns: Sequence[pulumi.Input[str]] = ()
    synced_secrets: Sequence[SyncedSecret] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    wait_for: Sequence[pulumi.Resource] = ()
    """The Namespace and the CSI driver releases."""


class WorkloadSecrets(pulumi.ComponentResource):
    """Exposes `service_account_name`, `class_name`, `role_arn` and `file_names`."""

    def __init__(
        self, name: str, args: WorkloadSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:secrets:WorkloadSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.policy = SecretReadPolicy(
            f"{name}-read",
            SecretReadPolicyArgs(
                secret_arns=args.secret_arns,
                parameter_arns=args.parameter_arns,
                kms_key_arns=args.kms_key_arns,
                region=args.region,
                description=f"Read the secrets of {args.namespace}/{args.service_account}",
                tags=args.tags,
            ),
            opts=child,
        )
        self.identity = IrsaRole(
            f"{name}-irsa",
            IrsaRoleArgs(
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                namespace=args.namespace,
                service_account=args.service_account,
                policy_arns=[self.policy.policy_arn],
                tags=args.tags,
                wait_for=args.wait_for,
            ),
            opts=child,
        )
        self.provider_class = SecretProviderClass(
            f"{name}-class",
            SecretProviderClassArgs(
                namespace=args.namespace,
                class_name=args.secret_provider_class,
                objects=args.objects,
                region=args.region,
                synced_secrets=args.synced_secrets,
                wait_for=args.wait_for,
            ),
            opts=child,
        )
        self.service_account_name = args.service_account
        self.class_name = args.secret_provider_class
        self.file_names = self.provider_class.file_names
        self.role_arn: pulumi.Output[str] = self.identity.role_arn
        # What a pod must wait for before it can mount the volume.
        self.ready: list[pulumi.Resource] = [self.identity, self.provider_class]
        self.register_outputs({"role_arn": self.role_arn})
