"""The EKS control plane, built on pulumi-eks, and the one Kubernetes provider derived from it.

pulumi-eks's Cluster is a remote component: only its plain outputs are read here
(kubeconfig, OIDC provider, security group ids), never `eks_cluster` or `core`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.iam_policies import (
    eks_cluster_arn,
    eks_cluster_assume_role_policy,
    eks_secrets_encryption_policy,
    kms_key_policy,
)
from components.validation import check_cidr

CONTROL_PLANE_LOGS = ("api", "audit", "authenticator")
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ClusterArgs:
    """Inputs of Cluster."""

    cluster_name: str
    kubernetes_version: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[Sequence[str]]
    private_subnet_ids: pulumi.Input[Sequence[str]]
    admin_principal_arns: Sequence[str] = ()
    """IAM roles or users granted cluster-admin through EKS access entries."""
    public_access_cidrs: Sequence[str] = ()
    """CIDRs allowed to reach the public API endpoint; empty keeps the endpoint private only."""
    enable_network_policy: bool = True
    enable_deletion_protection: bool = False
    log_retention_days: int = 30
    kms_deletion_window_days: int = 30
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for cidr in self.public_access_cidrs:
            if problem := check_cidr(cidr):
                raise ValueError(f"public_access_cidrs entry {cidr!r} {problem}")
            if cidr in ("0.0.0.0/0", "::/0"):
                raise ValueError("public_access_cidrs must not open the API endpoint to everyone")


def access_entries(principal_arns: Sequence[str]) -> dict[str, eks.AccessEntryArgs]:
    """Cluster-admin access entries, keyed by a stable name per principal."""
    return {
        f"admin-{index}": eks.AccessEntryArgs(
            principal_arn=arn,
            access_policies={
                "cluster-admin": eks.AccessPolicyAssociationArgs(
                    policy_arn=CLUSTER_ADMIN_POLICY,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                )
            },
        )
        for index, arn in enumerate(principal_arns)
    }


class Cluster(pulumi.ComponentResource):
    """Control plane, its secrets-encryption key, its log group and a Kubernetes provider."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        identity = aws.get_caller_identity_output()
        partition = aws.get_partition_output()

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
            access_entries=access_entries(args.admin_principal_arns),
            create_oidc_provider=True,
            skip_default_node_group=True,
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            encryption_config_key_arn=self.kms_key.arn,
            endpoint_private_access=True,
            endpoint_public_access=bool(args.public_access_cidrs),
            public_access_cidrs=list(args.public_access_cidrs) or None,
            deletion_protection=args.enable_deletion_protection,
            vpc_cni_options=eks.VpcCniOptionsArgs(enable_network_policy=args.enable_network_policy),
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.log_group, *service_role_policies]
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
            aws.get_region_output().region,
            identity.account_id,
            self.cluster_name,
        ).apply(lambda v: eks_cluster_arn(*v))
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
                "oidc_provider_arn": self.oidc_provider_arn,
                "kubeconfig": self.kubeconfig,
            }
        )
