"""A managed nodegroup on AL2023 with a launch template that enforces IMDSv2."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .iam_policies import ec2_assume_role_policy
from .validation import check_one_architecture, instance_architecture

NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEKS_CNI_Policy",
)
CAPACITY_TYPES = ("ON_DEMAND", "SPOT")
AMI_TYPES = {"arm64": "AL2023_ARM_64_STANDARD", "x86_64": "AL2023_x86_64_STANDARD"}


def ami_type_for(instance_types: Sequence[str]) -> str:
    """AL2023 for the instances' architecture; mixing architectures in one group fails."""
    if not instance_types:
        raise ValueError("a nodegroup needs at least one instance type")
    if problem := check_one_architecture(instance_types):
        raise ValueError(f"instance types {list(instance_types)} {problem}")
    return AMI_TYPES[instance_architecture(instance_types[0])]


def launch_template_metadata_options() -> aws.ec2.LaunchTemplateMetadataOptionsArgsDict:
    """IMDSv2 only, one hop: pods cannot reach the node role's credentials."""
    return {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
        "instance_metadata_tags": "disabled",
    }


@dataclass(frozen=True)
class NodeTaint:
    key: str
    """Taint key (a Kubernetes label key). Required."""
    value: str
    """Taint value; empty for a key-only taint. Required."""
    effect: str
    """EKS spelling: NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE. Required."""


@dataclass(frozen=True)
class NodeGroupArgs:
    """Inputs of NodeGroup."""

    cluster_name: pulumi.Input[str]
    """The cluster; an Output that resolves once it exists. Required."""
    kubernetes_version: str
    """`major.minor` of the nodes, the cluster's. Required."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets only: nodes get no public IP. Required."""
    instance_types: Sequence[str] = ("t3.medium",)
    """EC2 instance types, all of one CPU architecture. Default: ("t3.medium",)."""
    min_size: int = 1
    """Fewest nodes. Default: 1."""
    desired_size: int = 1
    """Nodes at creation (min_size <= desired_size <= max_size). Default: 1."""
    max_size: int = 2
    """Most nodes. Default: 2."""
    disk_size_gib: int = 20
    """Root volume of each node, in GiB (encrypted gp3). Default: 20."""
    capacity_type: str = "ON_DEMAND"
    """ON_DEMAND or SPOT. Default: ON_DEMAND."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels on every node. Default: none."""
    taints: Sequence[NodeTaint] = ()
    """Taints on every node. Default: none."""
    ssh_key_name: str = ""
    """EC2 key pair for SSH to the nodes. Default: empty, no SSH."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags on the nodegroup, its role and launch template. Default: none."""

    def __post_init__(self) -> None:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"min_size {self.min_size} <= desired_size {self.desired_size} "
                f"<= max_size {self.max_size} does not hold"
            )
        if self.capacity_type not in CAPACITY_TYPES:
            raise ValueError(f"capacity_type {self.capacity_type!r} is not one of {CAPACITY_TYPES}")
        ami_type_for(self.instance_types)


class NodeGroup(pulumi.ComponentResource):
    def __init__(self, name: str, args: NodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:cluster:NodeGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(ec2_assume_role_policy()),
            description="EKS managed nodegroup instances",
            tags=tags,
            opts=child,
        )
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}",
                role=self.role.name,
                policy_arn=partition.apply(lambda p, n=policy: f"arn:{p}:iam::aws:policy/{n}"),
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            description="IMDSv2-only nodes with encrypted gp3 root volumes",
            update_default_version=True,
            metadata_options=launch_template_metadata_options(),
            key_name=args.ssh_key_name or None,
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": args.disk_size_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            tag_specifications=[
                {"resource_type": kind, "tags": tags} for kind in ("instance", "volume")
            ],
            tags=tags,
            opts=child,
        )
        self.node_group = aws.eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args.cluster_name,
            version=args.kubernetes_version,
            node_role_arn=self.role.arn,
            subnet_ids=args.subnet_ids,
            ami_type=ami_type_for(args.instance_types),
            instance_types=list(args.instance_types),
            capacity_type=args.capacity_type,
            scaling_config={
                "min_size": args.min_size,
                "desired_size": args.desired_size,
                "max_size": args.max_size,
            },
            update_config={"max_unavailable": 1},
            labels=dict(args.labels),
            taints=[{"key": t.key, "value": t.value, "effect": t.effect} for t in args.taints],
            launch_template={
                "id": self.launch_template.id,
                "version": self.launch_template.latest_version.apply(str),
            },
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=attachments,
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
        self.register_outputs({})
