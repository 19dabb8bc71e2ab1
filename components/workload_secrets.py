"""Everything one workload needs to read its secrets as files, with no credentials in the pod:
a least-privilege policy, an identity bound to its service account, and a SecretProviderClass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from .iam_policies import replica_arn
from .irsa import ROLE_SUFFIX, IrsaRole, IrsaRoleArgs
from .modes import IdentityMode
from .pod_identity import (
    PodIdentityBinding,
    PodIdentityBindingArgs,
    PodIdentityRole,
    PodIdentityRoleArgs,
)
from .secret_access import POLICY_SUFFIX, SecretReadPolicy, SecretReadPolicyArgs
from .secret_provider_class import (
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


IDENTITY_SUFFIXES = {
    IdentityMode.IRSA: "-irsa",
    IdentityMode.POD_IDENTITY: "-podid",
    IdentityMode.POD_IDENTITY_ABAC: "-abac",
}
"""Name of the identity child: `<name><suffix>`."""
READ_POLICY_SUFFIX = "-read"


def autonamed_iam_resources(name: str, identity_mode: IdentityMode) -> list[tuple[str, str]]:
    """(kind, Pulumi resource name) of each IAM resource `WorkloadSecrets(name)` creates
    without a fixed name: AWS names them `<resource name>-<7 random characters>`, so a long
    `name` can push them over the IAM limits (checked in the config layer)."""
    if identity_mode == IdentityMode.POD_IDENTITY_ABAC:
        return []  # the shared role has a fixed resource name; only a binding is made here
    role = f"{name}{IDENTITY_SUFFIXES[IdentityMode(identity_mode)]}{ROLE_SUFFIX}"
    policy = f"{name}{READ_POLICY_SUFFIX}{POLICY_SUFFIX}"
    return [("IAM role", role), ("IAM policy", policy)]


@dataclass(frozen=True)
class WorkloadSecretsArgs:
    """Inputs of WorkloadSecrets."""

    namespace: pulumi.Input[str]
    """Kubernetes namespace of the workload (DNS-1123 label; checked when plain); it must exist.
    Required."""
    service_account: pulumi.Input[str]
    """Name of the Kubernetes ServiceAccount the workload runs as (DNS-1123 subdomain; checked
    when plain). Required."""
    secret_provider_class: str
    """Kubernetes name of the SecretProviderClass created for it. Plain `str`: pods name it in
    their CSI volume, and the `class_name` output they are built from is this value. Required."""
    objects: Sequence[SecretObject]
    """The secrets and parameters mounted into the pod. Required, at least one."""
    secret_arns: Sequence[pulumi.Input[str]]
    """ARNs of exactly the secrets in `objects` (and their failover replicas): the policy grants
    these and nothing else. Unused with `pod-identity-abac`, where tags decide. Required."""
    region: str
    """AWS region of the secrets (the stack's). Required."""
    identity_mode: IdentityMode = IdentityMode.IRSA
    """IRSA, Pod Identity with its own role, or the shared ABAC role. Default: IRSA."""
    oidc_provider_arn: pulumi.Input[str] | None = None
    """The cluster's IAM OIDC provider ARN; IRSA only. Default: None."""
    oidc_issuer: pulumi.Input[str] | None = None
    """The cluster's OIDC issuer URL; IRSA only. Default: None."""
    cluster_name: pulumi.Input[str] | None = None
    """The cluster the association is made in; Pod Identity only. Default: None."""
    cluster_arn: pulumi.Input[str] | None = None
    """Pins the role's trust to this cluster; Pod Identity only. Default: None, any cluster of the
    account."""
    shared_role_arn: pulumi.Input[str] | None = None
    """The SharedPodIdentityRole to bind the ServiceAccount to; `pod-identity-abac` only. Default:
    None."""
    failover_region: str = ""
    """Read from this region when the primary fails (the secrets must be replicated there).
    Default: empty, none."""
    parameter_arns: Sequence[pulumi.Input[str]] = ()
    """ARNs of the SSM parameters in `objects`. Default: none."""
    kms_key_arns: Sequence[pulumi.Input[str]] = ()
    """Customer-managed KMS keys of those secrets. Default: none, the AWS managed keys."""
    synced_secrets: Sequence[SyncedSecret] = ()
    """Kubernetes Secrets kept in step with mounted files. Default: none."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The Namespace and the CSI driver releases. Default: none."""
    identity_wait_for: Sequence[pulumi.Resource] = ()
    """What pods must also wait for to get credentials, e.g. the Pod Identity agent.
    Default: none."""

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
    """Exposes `role_arn`, `class_name` and `file_names`, and `ready`: what a pod mounting
    the secrets waits for."""

    def __init__(
        self, name: str, args: WorkloadSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:secrets:WorkloadSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.policy: SecretReadPolicy | None = None
        policy_arns: list[pulumi.Input[str]] = []
        if args.identity_mode != IdentityMode.POD_IDENTITY_ABAC:
            # One permission builder for both identity modes.
            self.policy = SecretReadPolicy(
                f"{name}{READ_POLICY_SUFFIX}",
                SecretReadPolicyArgs(
                    secret_arns=args.secret_arns,
                    parameter_arns=args.parameter_arns,
                    kms_key_arns=args.kms_key_arns,
                    region=args.region,
                    failover_region=args.failover_region,
                    description=pulumi.Output.format(
                        "Read the secrets of {0}/{1}", args.namespace, args.service_account
                    ),
                    tags=args.tags,
                ),
                opts=child,
            )
            policy_arns.append(self.policy.policy_arn)
        self.identity: pulumi.ComponentResource
        if args.identity_mode == IdentityMode.IRSA:
            self.identity = IrsaRole(
                f"{name}{IDENTITY_SUFFIXES[IdentityMode.IRSA]}",
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
                f"{name}{IDENTITY_SUFFIXES[IdentityMode.POD_IDENTITY]}",
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
                f"{name}{IDENTITY_SUFFIXES[IdentityMode.POD_IDENTITY_ABAC]}",
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
        self.class_name = args.secret_provider_class
        self.file_names = self.provider_class.file_names
        # What a pod must wait for before it can mount the volume.
        self.ready: list[pulumi.Resource] = [
            self.identity,
            self.provider_class,
            *args.identity_wait_for,
        ]
        self.register_outputs(
            {
                "role_arn": self.role_arn,
                "class_name": self.class_name,
                "file_names": self.file_names,
            }
        )
