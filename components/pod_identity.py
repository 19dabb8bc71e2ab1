"""EKS Pod Identity: IAM roles bound to service accounts through the EKS API, not OIDC.

Four pieces, composable:
- `PodIdentityAgent`: the `eks-pod-identity-agent` add-on that hands pods (and ASCP)
  their credentials on each node.
- `PodIdentityBinding`: a PodIdentityAssociation plus the plain ServiceAccount it names.
- `PodIdentityRole`: a role trusted by `pods.eks.amazonaws.com`, its policies, and a binding.
- `SharedPodIdentityRole`: one ABAC role many namespaces bind to; each reads only secrets
  tagged with its own namespace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .iam_policies import abac_secret_read_policy, arn_parts, pod_identity_trust_policy
from .irsa import check_identity_names, identity_service_account, workload_role
from .versions import addon_version

AGENT_ADDON = "eks-pod-identity-agent"
POD_IDENTITY_MIN_KUBERNETES_VERSION = "1.24"
"""EKS Pod Identity, and ASCP's `usePodIdentity`, need EKS 1.24 or later."""


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def check_pod_identity_version(kubernetes_version: str) -> str | None:
    """None when the cluster version supports EKS Pod Identity, else the reason it does not."""
    try:
        too_old = _version_tuple(kubernetes_version) < _version_tuple(
            POD_IDENTITY_MIN_KUBERNETES_VERSION
        )
    except ValueError:
        return f"is not a Kubernetes version like {POD_IDENTITY_MIN_KUBERNETES_VERSION}"
    if too_old:
        return (
            f"is too old for EKS Pod Identity, which needs Kubernetes "
            f"{POD_IDENTITY_MIN_KUBERNETES_VERSION} or later; use IRSA or upgrade the cluster"
        )
    return None


@dataclass(frozen=True)
class PodIdentityAgentArgs:
    """Inputs of PodIdentityAgent."""

    cluster_name: pulumi.Input[str]
    """The cluster's name; pass an Output that resolves only once the cluster exists. Required."""
    kubernetes_version: str
    """The cluster's `major.minor`; picks the pinned build from versions.EKS_ADDON_VERSIONS.
    Required."""
    addon_version: str = ""
    """A build of the `eks-pod-identity-agent` add-on, e.g. `v1.3.10-eksbuild.3`, for a version
    without a pinned one or a cluster already on a newer build. Default: empty, the pinned
    build for `kubernetes_version`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The nodegroup: the agent is a DaemonSet and the add-on stays DEGRADED without nodes.
    Default: none."""

    def __post_init__(self) -> None:
        self.build()

    def build(self) -> str:
        """The add-on build to install: `addon_version`, else the pin (a version without one
        fails with the versions that have one)."""
        return self.addon_version or addon_version(self.kubernetes_version, AGENT_ADDON)


class PodIdentityAgent(pulumi.ComponentResource):
    """The EKS-managed agent DaemonSet that serves Pod Identity credentials on every node.

    The build is pinned per Kubernetes version (components/versions.py): left to EKS, the
    add-on takes whatever build is the default when it is created, so two stacks of one
    program differ and a replaced add-on changes build under a running stack.
    """

    def __init__(
        self, name: str, args: PodIdentityAgentArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:identity:PodIdentityAgent", name, None, opts)
        self.addon = aws.eks.Addon(
            f"{name}-addon",
            cluster_name=args.cluster_name,
            addon_name=AGENT_ADDON,
            addon_version=args.build(),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.register_outputs({})


@dataclass(frozen=True)
class PodIdentityBindingArgs:
    """Inputs of PodIdentityBinding."""

    cluster_name: pulumi.Input[str]
    """The cluster the association is made in. Required."""
    namespace: pulumi.Input[str]
    """Namespace of the ServiceAccount (DNS-1123 label; checked when plain). Required."""
    service_account: pulumi.Input[str]
    """The ServiceAccount the role is bound to (DNS-1123 subdomain; checked when plain).
    Required."""
    role_arn: pulumi.Input[str]
    """ARN of the IAM role its pods get. Required."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""
    create_service_account: bool = True
    """Create the ServiceAccount (needs a Kubernetes provider). Default: True."""
    wait_for: Sequence[pulumi.Resource] = ()
    """Resources the ServiceAccount waits for, such as its Namespace. Default: none."""

    def __post_init__(self) -> None:
        check_identity_names(self.namespace, self.service_account)


class PodIdentityBinding(pulumi.ComponentResource):
    """Binds one service account to a role: the association and a ServiceAccount that carries
    no role annotation (the binding lives in the EKS API, not on the object)."""

    def __init__(
        self, name: str, args: PodIdentityBindingArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:identity:PodIdentityBinding", name, None, opts)
        self.association = aws.eks.PodIdentityAssociation(
            f"{name}-association",
            cluster_name=args.cluster_name,
            namespace=args.namespace,
            service_account=args.service_account,
            role_arn=args.role_arn,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.service_account: k8s.core.v1.ServiceAccount | None = None
        if args.create_service_account:
            self.service_account = identity_service_account(
                name,
                namespace=args.namespace,
                service_account=args.service_account,
                annotations=None,
                wait_for=args.wait_for,
                parent=self,
            )
        self.register_outputs({})


@dataclass(frozen=True)
class PodIdentityRoleArgs:
    """Inputs of PodIdentityRole."""

    cluster_name: pulumi.Input[str]
    """The cluster the association is made in. Required."""
    namespace: pulumi.Input[str]
    """Namespace of the ServiceAccount (DNS-1123 label; checked when plain). Required."""
    service_account: pulumi.Input[str]
    """The only ServiceAccount bound to the role (DNS-1123 subdomain; checked when
    plain). Required."""
    policy_arns: Sequence[pulumi.Input[str]] = ()
    """IAM policy ARNs attached to the role. Default: none."""
    cluster_arn: pulumi.Input[str] | None = None
    """Pins the trust to this cluster's session tag. Default: None, which trusts Pod Identity in
    any cluster of the account that has an association to the role."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""
    create_service_account: bool = True
    """Create the ServiceAccount (needs a Kubernetes provider). Default: True."""
    wait_for: Sequence[pulumi.Resource] = ()
    """Resources the ServiceAccount waits for, such as its Namespace. Default: none."""

    def __post_init__(self) -> None:
        check_identity_names(self.namespace, self.service_account)


class PodIdentityRole(pulumi.ComponentResource):
    """A role only one service account of one cluster can use, through EKS Pod Identity."""

    def __init__(
        self, name: str, args: PodIdentityRoleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:identity:PodIdentityRole", name, None, opts)
        trust = pulumi.Output.all(
            args.cluster_arn or "", args.namespace, args.service_account
        ).apply(
            lambda v: json.dumps(
                pod_identity_trust_policy(cluster_arn=v[0], namespaces=[v[1]], service_account=v[2])
            )
        )
        self.role, self.attachments = workload_role(
            name,
            trust=trust,
            description=pulumi.Output.format(
                "EKS Pod Identity for {0}/{1}", args.namespace, args.service_account
            ),
            policy_arns=args.policy_arns,
            tags=args.tags,
            parent=self,
        )
        self.binding = PodIdentityBinding(
            f"{name}-binding",
            PodIdentityBindingArgs(
                cluster_name=args.cluster_name,
                namespace=args.namespace,
                service_account=args.service_account,
                role_arn=self.role.arn,
                tags=args.tags,
                create_service_account=args.create_service_account,
                wait_for=args.wait_for,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.attachments),
        )
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.service_account = self.binding.service_account
        self.register_outputs({"role_arn": self.role_arn})


@dataclass(frozen=True)
class SharedPodIdentityRoleArgs:
    """Inputs of SharedPodIdentityRole."""

    cluster_arn: pulumi.Input[str]
    """Pins the trust to this cluster; its partition, region and account scope the policy.
    Required."""
    failover_region: str = ""
    """Also allow reading the replicas in this region (an AWS region name). Default: empty, none."""
    kms_key_arns: Sequence[pulumi.Input[str]] = ()
    """Customer-managed KMS keys of the secrets (`kms:Decrypt` via Secrets Manager only). Default:
    none, the AWS managed key."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""


class SharedPodIdentityRole(pulumi.ComponentResource):
    """One role for every namespace bound to it; attribute-based, so adding a namespace
    means tagging its secrets and adding an association, never editing a policy."""

    def __init__(
        self,
        name: str,
        args: SharedPodIdentityRoleArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("eksplatform:identity:SharedPodIdentityRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster_arn = pulumi.Output.from_input(args.cluster_arn)
        self.role, _ = workload_role(
            name,
            trust=cluster_arn.apply(
                lambda arn: json.dumps(pod_identity_trust_policy(cluster_arn=arn))
            ),
            description="EKS Pod Identity, shared: each namespace reads its own tagged secrets",
            policy_arns=(),
            tags=args.tags,
            parent=self,
        )

        def document(values: list[str]) -> str:
            partition, region, account = arn_parts(values[0])
            regions = [region, args.failover_region] if args.failover_region else [region]
            return json.dumps(
                abac_secret_read_policy(
                    partition=partition,
                    account_id=account,
                    regions=regions,
                    kms_key_arns=values[1:],
                )
            )

        self.policy = aws.iam.Policy(
            f"{name}-policy",
            description="Read secrets whose kubernetes-namespace tag matches the caller's",
            policy=pulumi.Output.all(cluster_arn, *args.kms_key_arns).apply(document),
            tags=dict(args.tags),
            opts=child,
        )
        self.attachment = aws.iam.RolePolicyAttachment(
            f"{name}-policy-attachment",
            role=self.role.name,
            policy_arn=self.policy.arn,
            opts=child,
        )
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.register_outputs({"role_arn": self.role_arn})
