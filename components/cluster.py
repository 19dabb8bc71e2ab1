"""The EKS control plane, built on pulumi-eks, and the one Kubernetes provider derived from it.

pulumi-eks's Cluster is a remote component: only its plain outputs are read here
(kubeconfig, OIDC provider, security group ids), never `eks_cluster` or `core`. What it
creates from our inputs is decided by `nodejs/eks/cluster/cluster.ts` in pulumi/pulumi-eks
(read at v4.3.0 and HEAD 7bf0c1b, which has the same `nodejs/eks/` but for yarn.lock; the
snapshot has no v4.4.0 tag). With these inputs it:

- creates the vpc-cni and kube-proxy EKS add-ons; without a version it looks the build up as
  "most recent" on every run, so both are pinned here (components/versions.py);
- leaves CoreDNS alone when `skipDefaultNodeGroup` is set; `CoreDns` below manages it as a
  pinned add-on, created after the nodegroup, and `corednsAddonOptions.enabled=false` keeps
  pulumi-eks from ever creating a second one;
- creates its own cluster and node security groups (0.0.0.0/0 egress) unless
  `skipDefaultSecurityGroups`; the managed nodegroup never uses them, so they are skipped and
  `clusterSecurityGroupId` is the EKS-managed cluster security group
  (`core.cluster.vpcConfig.clusterSecurityGroupId`);
- creates the OIDC provider without tags and with no option for them: `oidc_provider_tags`
  adds ours through a resource transform. Access entries take `tags` directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from .iam_policies import (
    eks_cluster_arn,
    eks_cluster_assume_role_policy,
    eks_secrets_encryption_policy,
    kms_key_policy,
)
from .validation import check_cidr
from .versions import addon_version

CONTROL_PLANE_LOGS = ("api", "audit", "authenticator")
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
OIDC_PROVIDER_TYPE = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"


@dataclass(frozen=True)
class ClusterArgs:
    """Inputs of Cluster."""

    cluster_name: str
    """EKS cluster name (letters, digits, '-'). Required."""
    kubernetes_version: str
    """`major.minor`; must have a row in versions.EKS_ADDON_VERSIONS (add-on builds). Required."""
    vpc_id: pulumi.Input[str]
    """VPC the cluster runs in. Required."""
    public_subnet_ids: pulumi.Input[Sequence[str]]
    """Subnets for internet-facing load balancers. Required."""
    private_subnet_ids: pulumi.Input[Sequence[str]]
    """Subnets of the control plane's network interfaces and the nodes. Required."""
    admin_principal_arns: Sequence[pulumi.Input[str]] = ()
    """IAM roles or users granted cluster-admin through EKS access entries (each may be an
    Output; their number decides the entries, so the list itself is plain). Default: none."""
    public_access_cidrs: Sequence[str] = ()
    """CIDRs allowed to reach the public API endpoint (never 0.0.0.0/0). Default: none, the endpoint
    is private only."""
    enable_network_policy: bool = True
    """Turns on the VPC CNI's network policy agent, so NetworkPolicies are enforced.
    Default: True."""
    enable_deletion_protection: bool = False
    """EKS refuses to delete the cluster until this is off. Default: False."""
    log_retention_days: int = 30
    """Days the control-plane log group keeps events. Default: 30."""
    kms_deletion_window_days: int = 30
    """Days a deleted secrets-encryption key can still be restored (7-30). Default: 30."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags on every taggable resource, the OIDC provider and access entries included. Default:
    none."""

    def __post_init__(self) -> None:
        for cidr in self.public_access_cidrs:
            if problem := check_cidr(cidr):
                raise ValueError(f"public_access_cidrs entry {cidr!r} {problem}")
            if cidr in ("0.0.0.0/0", "::/0"):
                raise ValueError("public_access_cidrs must not open the API endpoint to everyone")
        addon_version(self.kubernetes_version, "vpc-cni")


def access_entries(
    principal_arns: Sequence[pulumi.Input[str]], tags: Mapping[str, str] | None = None
) -> dict[str, eks.AccessEntryArgs]:
    """Cluster-admin access entries, keyed by a stable name per principal."""
    return {
        f"admin-{index}": eks.AccessEntryArgs(
            principal_arn=arn,
            tags=dict(tags or {}) or None,
            access_policies={
                "cluster-admin": eks.AccessPolicyAssociationArgs(
                    policy_arn=CLUSTER_ADMIN_POLICY,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                )
            },
        )
        for index, arn in enumerate(principal_arns)
    }


def oidc_provider_tags(tags: Mapping[str, str]) -> pulumi.ResourceTransform:
    """A transform that adds `tags` to the OIDC provider pulumi-eks creates without any (its
    own tags win on a clash, there are none today); every other resource passes unchanged."""

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != OIDC_PROVIDER_TYPE or not tags:
            return None
        props = dict(args.props)
        # Transforms see plain values: the provider's tags (none today) are a mapping.
        existing = cast(Mapping[str, str], props.get("tags") or {})
        props["tags"] = {**tags, **existing}
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return transform


@dataclass(frozen=True)
class AddonOptions:
    """pulumi-eks's add-on inputs: vpc-cni and kube-proxy pinned, CoreDNS never its own."""

    vpc_cni: eks.VpcCniOptionsArgs
    """vpc-cni add-on: the pinned build, network policy as configured. Required."""
    kube_proxy: eks.KubeProxyAddonOptionsArgs
    """kube-proxy add-on: the pinned build. Required."""
    coredns: eks.CoreDnsAddonOptionsArgs
    """CoreDNS: off in pulumi-eks (the CoreDns component manages it). Required."""


def addon_options(kubernetes_version: str, enable_network_policy: bool) -> AddonOptions:
    return AddonOptions(
        vpc_cni=eks.VpcCniOptionsArgs(
            enable_network_policy=enable_network_policy,
            addon_version=addon_version(kubernetes_version, "vpc-cni"),
        ),
        kube_proxy=eks.KubeProxyAddonOptionsArgs(
            version=addon_version(kubernetes_version, "kube-proxy"),
        ),
        coredns=eks.CoreDnsAddonOptionsArgs(enabled=False),
    )


class Cluster(pulumi.ComponentResource):
    """Control plane, its secrets-encryption key, its log group and a Kubernetes provider."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))

        self.kms_key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"Envelope encryption of Kubernetes Secrets in {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=pulumi.Output.all(identity.account_id, partition.partition).apply(
                lambda v: json.dumps(kms_key_policy(v[0], v[1]))
            ),
            tags=tags,
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-secrets-key-alias",
            name=f"alias/{args.cluster_name}-k8s-secrets",
            target_key_id=self.kms_key.key_id,
            opts=child,
        )
        # The service role is ours, not pulumi-eks's default, so that its access to the
        # encryption key is explicit and reviewable.
        self.service_role = aws.iam.Role(
            f"{name}-service-role",
            assume_role_policy=json.dumps(eks_cluster_assume_role_policy()),
            description=f"EKS control plane of {args.cluster_name}",
            tags=tags,
            opts=child,
        )
        service_role_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-service-role-cluster-policy",
                role=self.service_role.name,
                policy_arn=partition.partition.apply(
                    lambda p: f"arn:{p}:iam::aws:policy/AmazonEKSClusterPolicy"
                ),
                opts=child,
            ),
            aws.iam.RolePolicy(
                f"{name}-service-role-kms",
                role=self.service_role.id,
                policy=self.kms_key.arn.apply(
                    lambda arn: json.dumps(eks_secrets_encryption_policy(arn))
                ),
                opts=child,
            ),
        ]
        # Created before the cluster so that EKS does not create it with no retention and
        # leave it behind after a destroy.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )
        addons = addon_options(args.kubernetes_version, args.enable_network_policy)
        self.eks = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.kubernetes_version,
            vpc_id=args.vpc_id,
            public_subnet_ids=args.public_subnet_ids,
            private_subnet_ids=args.private_subnet_ids,
            service_role=self.service_role,
            node_associate_public_ip_address=False,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries(args.admin_principal_arns, tags),
            create_oidc_provider=True,
            skip_default_node_group=True,
            skip_default_security_groups=True,
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            encryption_config_key_arn=self.kms_key.arn,
            endpoint_private_access=True,
            endpoint_public_access=bool(args.public_access_cidrs),
            public_access_cidrs=list(args.public_access_cidrs) or None,
            deletion_protection=args.enable_deletion_protection,
            vpc_cni_options=addons.vpc_cni,
            kube_proxy_addon_options=addons.kube_proxy,
            coredns_addon_options=addons.coredns,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.log_group, *service_role_policies],
                transforms=[oidc_provider_tags(tags)],
            ),
        )
        self.kubeconfig = pulumi.Output.secret(self.eks.kubeconfig_json)
        # Derived from an output so that whatever uses the name waits for the cluster.
        self.cluster_name: pulumi.Output[str] = self.eks.kubeconfig_json.apply(
            lambda _: args.cluster_name
        )
        self.oidc_provider_arn: pulumi.Output[str] = self.eks.oidc_provider_arn
        self.oidc_issuer: pulumi.Output[str] = self.eks.oidc_provider_url
        # Built, not read: pulumi-eks is a remote component; EKS Pod Identity trust pins it.
        self.cluster_arn: pulumi.Output[str] = pulumi.Output.all(
            partition.partition,
            aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region,
            identity.account_id,
            self.cluster_name,
        ).apply(lambda v: eks_cluster_arn(*v))
        # The EKS-managed cluster security group (pulumi-eks's own are skipped): the one the
        # control plane and the managed nodegroup's nodes share.
        self.cluster_security_group_id: pulumi.Output[str] = self.eks.cluster_security_group_id
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            delete_unreachable=False,
            opts=child,
        )
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_arn": self.cluster_arn,
                "cluster_security_group_id": self.cluster_security_group_id,
                "kubeconfig": self.kubeconfig,
                "oidc_issuer": self.oidc_issuer,
                "oidc_provider_arn": self.oidc_provider_arn,
            }
        )


@dataclass(frozen=True)
class CoreDnsArgs:
    """Inputs of CoreDns."""

    cluster_name: pulumi.Input[str]
    """The cluster; an Output that resolves once it exists. Required."""
    kubernetes_version: str
    """`major.minor`; picks the pinned build from versions.EKS_ADDON_VERSIONS. Required."""
    addon_version: str = ""
    """An add-on build such as v1.14.3-eksbuild.3. Default: empty, the pinned build for
    `kubernetes_version`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags on the add-on. Default: none."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The nodegroup: CoreDNS pods need a node, and an add-on whose pods cannot schedule stays
    DEGRADED. Default: none."""

    def __post_init__(self) -> None:
        if not self.addon_version:
            addon_version(self.kubernetes_version, "coredns")


class CoreDns(pulumi.ComponentResource):
    """CoreDNS as a pinned EKS add-on, so it is upgraded with the cluster instead of staying
    the self-managed copy EKS bootstraps. OVERWRITE adopts that copy; `preserve` leaves DNS
    running if the add-on is ever removed."""

    def __init__(self, name: str, args: CoreDnsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:cluster:CoreDns", name, None, opts)
        self.addon = aws.eks.Addon(
            f"{name}-addon",
            cluster_name=args.cluster_name,
            addon_name="coredns",
            addon_version=args.addon_version or addon_version(args.kubernetes_version, "coredns"),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            preserve=True,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.register_outputs({})
