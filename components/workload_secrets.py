"""Everything one workload needs to read its secrets as files, with no credentials in the pod:
a least-privilege policy, an identity bound to its service account, and a SecretProviderClass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.iam_policies import replica_arn
from components.irsa import IrsaRole, IrsaRoleArgs
from components.modes import IdentityMode
from components.pod_identity import (
    PodIdentityBinding,
    PodIdentityBindingArgs,
    PodIdentityRole,
    PodIdentityRoleArgs,
)
from components.secret_access import SecretReadPolicy, SecretReadPolicyArgs
from components.secret_provider_class import (
    SecretObject,
    SecretProviderClass,
    SecretProviderClassArgs,
    SyncedSecret,
)


def with_replica(arn: pulumi.Input[str], failover_region: str) -> list[pulumi.Output[str]]:
    """A secret's ARN, plus its replica's in `failover_region` when there is one: what a
    workload reading that secret with failover is granted (replicas keep the name)."""
    primary = pulumi.Output.from_input(arn)
    if not failover_region:
        return [primary]
    return [primary, primary.apply(lambda a: replica_arn(a, failover_region))]


@dataclass(frozen=True)
class WorkloadSecretsArgs:
    """Inputs of WorkloadSecrets."""

    namespace: str
    service_account: str
    secret_provider_class: str
    objects: Sequence[SecretObject]
    secret_arns: Sequence[pulumi.Input[str]]
    """ARNs of exactly the secrets in `objects` (and their failover replicas): the policy
    grants these and nothing else. Unused with `pod-identity-abac`, where tags decide."""
    region: str
    identity_mode: IdentityMode = IdentityMode.IRSA
    """IRSA (default), Pod Identity with its own role, or the shared ABAC role."""
    oidc_provider_arn: pulumi.Input[str] | None = None
    """IRSA only."""
    oidc_issuer: pulumi.Input[str] | None = None
    """IRSA only."""
    cluster_name: pulumi.Input[str] | None = None
    """Pod Identity only: the cluster the association is made in."""
    cluster_arn: pulumi.Input[str] | None = None
    """Pod Identity only: pins the role's trust to this cluster."""
    shared_role_arn: pulumi.Input[str] | None = None
    """`pod-identity-abac` only: the SharedPodIdentityRole to bind the service account to."""
    failover_region: str = ""
    """Read from this region when the primary fails (the secrets must be replicated there)."""
    parameter_arns: Sequence[pulumi.Input[str]] = ()
    kms_key_arns: Sequence[pulumi.Input[str]] = ()
    synced_secrets: Sequence[SyncedSecret] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    wait_for: Sequence[pulumi.Resource] = ()
    """The Namespace and the CSI driver releases."""
    identity_wait_for: Sequence[pulumi.Resource] = ()
    """What pods must also wait for to get credentials, e.g. the Pod Identity agent."""

    def __post_init__(self) -> None:
        needs = {
            IdentityMode.IRSA: ("oidc_provider_arn", "oidc_issuer"),
            IdentityMode.POD_IDENTITY: ("cluster_name",),
            IdentityMode.POD_IDENTITY_ABAC: ("cluster_name", "shared_role_arn"),
        }[IdentityMode(self.identity_mode)]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"identity_mode {self.identity_mode!r} needs {', '.join(missing)}")
        if self.identity_mode == IdentityMode.POD_IDENTITY_ABAC and self.parameter_arns:
            raise ValueError("pod-identity-abac reads tagged Secrets Manager secrets only")


class WorkloadSecrets(pulumi.ComponentResource):
    """Exposes `service_account_name`, `class_name`, `role_arn` and `file_names`."""

    def __init__(
        self, name: str, args: WorkloadSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:secrets:WorkloadSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.identity_mode = args.identity_mode
        self.policy: SecretReadPolicy | None = None
        policy_arns: list[pulumi.Input[str]] = []
        if args.identity_mode != IdentityMode.POD_IDENTITY_ABAC:
            # One permission builder for both identity modes.
            self.policy = SecretReadPolicy(
                f"{name}-read",
                SecretReadPolicyArgs(
                    secret_arns=args.secret_arns,
                    parameter_arns=args.parameter_arns,
                    kms_key_arns=args.kms_key_arns,
                    region=args.region,
                    failover_region=args.failover_region,
                    description=f"Read the secrets of {args.namespace}/{args.service_account}",
                    tags=args.tags,
                ),
                opts=child,
            )
            policy_arns.append(self.policy.policy_arn)
        self.identity: pulumi.ComponentResource
        if args.identity_mode == IdentityMode.IRSA:
            self.identity = IrsaRole(
                f"{name}-irsa",
                IrsaRoleArgs(
                    oidc_provider_arn=args.oidc_provider_arn,  # type: ignore[arg-type]
                    oidc_issuer=args.oidc_issuer,  # type: ignore[arg-type]
                    namespace=args.namespace,
                    service_account=args.service_account,
                    policy_arns=policy_arns,
                    tags=args.tags,
                    wait_for=args.wait_for,
                ),
                opts=child,
            )
            self.role_arn: pulumi.Output[str] = self.identity.role_arn
        elif args.identity_mode == IdentityMode.POD_IDENTITY:
            self.identity = PodIdentityRole(
                f"{name}-podid",
                PodIdentityRoleArgs(
                    cluster_name=args.cluster_name,  # type: ignore[arg-type]
                    cluster_arn=args.cluster_arn,
                    namespace=args.namespace,
                    service_account=args.service_account,
                    policy_arns=policy_arns,
                    tags=args.tags,
                    wait_for=args.wait_for,
                ),
                opts=child,
            )
            self.role_arn = self.identity.role_arn
        else:
            self.identity = PodIdentityBinding(
                f"{name}-abac",
                PodIdentityBindingArgs(
                    cluster_name=args.cluster_name,  # type: ignore[arg-type]
                    namespace=args.namespace,
                    service_account=args.service_account,
                    role_arn=args.shared_role_arn,  # type: ignore[arg-type]
                    tags=args.tags,
                    wait_for=args.wait_for,
                ),
                opts=child,
            )
            self.role_arn = pulumi.Output.from_input(args.shared_role_arn)  # type: ignore[arg-type]
        self.provider_class = SecretProviderClass(
            f"{name}-class",
            SecretProviderClassArgs(
                namespace=args.namespace,
                class_name=args.secret_provider_class,
                objects=args.objects,
                region=args.region,
                synced_secrets=args.synced_secrets,
                use_pod_identity=args.identity_mode != IdentityMode.IRSA,
                failover_region=args.failover_region,
                wait_for=args.wait_for,
            ),
            opts=child,
        )
        self.service_account_name = args.service_account
        self.class_name = args.secret_provider_class
        self.file_names = self.provider_class.file_names
        # What a pod must wait for before it can mount the volume.
        self.ready: list[pulumi.Resource] = [
            self.identity,
            self.provider_class,
            *args.identity_wait_for,
        ]
        self.register_outputs({"role_arn": self.role_arn})
