"""What every stack has, parsed straight into the components' Args: the cluster (created, or
an existing one), its network and nodes, and how CI reaches it (the CSI driver's Args are the
secrets_store add-on's, stacks/addons)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import NamedTuple

from eksplatform.cluster import ClusterArgs
from eksplatform.existing_cluster import ExistingClusterArgs
from eksplatform.modes import CapacityType, NatGatewayMode, OidcProviderMode
from eksplatform.network import NetworkArgs
from eksplatform.nodegroup import NodeGroupArgs, NodeTaint
from eksplatform.validation import check_one_architecture
from eksplatform.versions import EKS_ADDON_VERSIONS, EKS_STANDARD_SUPPORT

from stacks.config import rules, schema
from stacks.config.model import CiRunner, ClusterConfig
from stacks.config.reader import ConfigReader
from stacks.protection import Protection, protection_for


def parse_region(r: ConfigReader, raw_region: str | None) -> str:
    region = raw_region or ""
    if problem := rules.region(region):
        r.problems.append(
            f"aws:region = {region!r}: {problem} (pulumi config set aws:region ap-southeast-1)"
        )
    return region


def parse_network(r: ConfigReader, cluster_name: str, tags: Mapping[str, str]) -> NetworkArgs:
    existing_vpc_id = r.string(
        "existingVpcId", check=rules.matches(rules.VPC_ID, "must be a VPC id like vpc-0abc1234")
    )
    public_subnets = r.string_list(
        "existingPublicSubnetIds",
        check=rules.matches(rules.SUBNET_ID, "must be a subnet id like subnet-0abc1234"),
    )
    private_subnets = r.string_list(
        "existingPrivateSubnetIds",
        check=rules.matches(rules.SUBNET_ID, "must be a subnet id like subnet-0abc1234"),
    )
    # A refused value reads as its default from here on: check them together only when all three
    # passed their own rules, or the message would name a value the user never wrote.
    all_valid = not (
        r.problems_for("existingVpcId")
        or r.problems_for("existingPublicSubnetIds")
        or r.problems_for("existingPrivateSubnetIds")
    )
    if all_valid and existing_vpc_id and len(private_subnets) < 2:
        r.fail(
            "existingPrivateSubnetIds",
            list(private_subnets),
            "needs at least two private subnets in different AZs when existingVpcId is set",
        )
    elif all_valid and not existing_vpc_id and (public_subnets or private_subnets):
        r.fail(
            "existingVpcId",
            "",
            "must be set when existingPublicSubnetIds or existingPrivateSubnetIds are given",
        )
    return r.build(
        NetworkArgs,
        cluster_name=cluster_name,
        vpc_cidr=r.string("vpcCidr", check=rules.vpc_cidr),
        availability_zone_count=r.integer("availabilityZoneCount", minimum=2, maximum=3),
        single_nat_gateway=r.choice("natGatewayMode", NatGatewayMode) == NatGatewayMode.SINGLE,
        existing_vpc_id=existing_vpc_id if len(private_subnets) >= 2 else "",
        existing_public_subnet_ids=public_subnets,
        existing_private_subnet_ids=private_subnets,
        tags=tags,
    )


def _kubernetes_version(r: ConfigReader, today: date, *, existing: bool) -> str:
    """The version; when refused, a valid stand-in so the Args built from it hold (the stack
    fails on the problem anyway): the version itself when it has a row of add-on pins (every
    version in EKS_STANDARD_SUPPORT has a full row: a test in test_secrets_store.py), else
    Pulumi.yaml's.

    A cluster this stack creates starts in standard support. An existing cluster is taken as
    it is, in extended support too (EKS keeps running it; most teams' clusters are there for a
    while): it needs only pinned builds of the add-ons the stack may install on it."""
    version = r.string("kubernetesVersion")
    supported = [v for v, end in EKS_STANDARD_SUPPORT.items() if end is None or end > today]
    end = EKS_STANDARD_SUPPORT.get(version)
    pinned = ", ".join(sorted(EKS_ADDON_VERSIONS))
    if existing:
        if version not in EKS_ADDON_VERSIONS:
            r.fail(
                "kubernetesVersion",
                version,
                "must be the existing cluster's version, one with pinned EKS add-on builds in "
                f"components/versions.py EKS_ADDON_VERSIONS ({pinned}); add its row with "
                "evidence, or upgrade the cluster",
            )
    elif version not in EKS_STANDARD_SUPPORT:
        r.fail(
            "kubernetesVersion",
            version,
            f"must be an EKS version in standard support: {', '.join(supported)}",
        )
    elif end is not None and end <= today:
        r.fail(
            "kubernetesVersion",
            version,
            f"left EKS standard support on {end.isoformat()}; choose {', '.join(supported)}",
        )
    elif version not in EKS_ADDON_VERSIONS:
        # Every EKS add-on the stack installs is pinned per version (components/versions.py):
        # EKS's default build would change under a running stack.
        r.fail(
            "kubernetesVersion",
            version,
            "has no pinned EKS add-on builds in components/versions.py EKS_ADDON_VERSIONS "
            f"({pinned}); add its row with evidence first",
        )
    if version in EKS_ADDON_VERSIONS:
        return version
    return str(schema.default("kubernetesVersion"))


def _admins(r: ConfigReader) -> tuple[str, ...]:
    arns = r.string_list("adminPrincipalArns", check=rules.principal_arn)
    seen: set[str] = set()
    for arn in arns:
        if arn in seen:
            r.fail("adminPrincipalArns", arn, "is listed twice; EKS refuses a second access entry")
        seen.add(arn)
    return tuple(dict.fromkeys(arns))


def _ci_runner(r: ConfigReader, admins: tuple[str, ...]) -> CiRunner:
    cidrs = r.string_list("ciRunnerCidrs", check=rules.ci_runner_cidr)
    label = r.string(
        "ciRunnerLabel",
        check=rules.matches(
            rules.CI_RUNNER_LABEL, "must be a runner label: letters, digits, '.', '_' or '-'"
        ),
    )
    if (
        bool(cidrs) != bool(label)
        and not r.problems_for("ciRunnerCidrs")
        and not r.problems_for("ciRunnerLabel")
    ):
        r.fail(
            "ciRunnerLabel",
            label,
            "ciRunnerLabel and ciRunnerCidrs go together: set both (the runner and its static "
            "egress ranges) or neither",
        )
    role = r.string("ciDeployRoleArn", check=rules.role_arn)
    if label and not role and not r.problems_for("ciDeployRoleArn"):
        r.fail(
            "ciDeployRoleArn",
            role,
            "ciRunnerLabel is set, so CI deploys this stack: name the stack's CI deploy role "
            "(ci/iam/README.md); the cluster's creator is the permissions administrator, and "
            "without an access entry CI cannot reach the Kubernetes API",
        )
    elif role and not label and not r.problems_for("ciRunnerLabel"):
        r.fail(
            "ciDeployRoleArn",
            role,
            "is set but ciRunnerLabel is not: CI deploys a stack only from its runner; set "
            "ciRunnerLabel and ciRunnerCidrs too, or leave ciDeployRoleArn empty",
        )
    if role and role in admins:
        r.fail(
            "ciDeployRoleArn",
            role,
            "is also in adminPrincipalArns; EKS refuses a second access entry for one "
            "principal: list it only here",
        )
    return CiRunner(label=label, cidrs=cidrs, deploy_role_arn=role)


def _endpoint_cidrs(r: ConfigReader, ci: CiRunner) -> tuple[str, ...]:
    """publicAccessCidrs then ciRunnerCidrs, without duplicates. EKS takes at most 40 (the
    quota `rules.EKS_PUBLIC_ACCESS_CIDRS_MAX`, not adjustable)."""
    public = r.string_list("publicAccessCidrs", check=rules.public_access_cidr)
    merged = tuple(dict.fromkeys((*public, *ci.cidrs)))
    if len(merged) > rules.EKS_PUBLIC_ACCESS_CIDRS_MAX:
        r.fail(
            "publicAccessCidrs",
            list(public),
            f"with ciRunnerCidrs ({len(ci.cidrs)}) makes {len(merged)} distinct "
            f"public endpoint CIDRs; EKS allows at most {rules.EKS_PUBLIC_ACCESS_CIDRS_MAX} per "
            "cluster (quota not adjustable): merge ranges into wider blocks",
        )
    return merged


CREATED_CLUSTER_ONLY = (
    "vpcCidr",
    "availabilityZoneCount",
    "natGatewayMode",
    "existingVpcId",
    "existingPublicSubnetIds",
    "existingPrivateSubnetIds",
    "clusterName",
    "adminPrincipalArns",
    "publicAccessCidrs",
    "ciRunnerCidrs",
    "ciRunnerLabel",
    "ciDeployRoleArn",
    "enableClusterDeletionProtection",
    "enableNetworkPolicy",
    "nodeInstanceTypes",
    "nodeMinSize",
    "nodeDesiredSize",
    "nodeMaxSize",
    "nodeDiskSizeGib",
    "nodeCapacityType",
    "nodeLabels",
    "nodeTaints",
    "nodeSshKeyName",
)
"""Keys that shape what the stack creates (network, cluster, endpoint, access entries,
nodegroup): on an existing cluster they would change nothing, so they must keep their
defaults there."""

EXISTING_CLUSTER_ONLY = ("existingClusterOidcProvider", "existingClusterRunsPodIdentityAgent")


def _existing_cluster(r: ConfigReader, region: str) -> str:
    """The existing cluster's name from existingClusterName (a name or an EKS cluster ARN in
    aws:region); empty when the stack creates its cluster."""
    value = r.string("existingClusterName")
    if not value:
        for key in EXISTING_CLUSTER_ONLY:
            if not r.is_default(key):
                r.fail(key, r.raw(key), "applies only with existingClusterName; leave it unset")
        return ""
    if arn := rules.EKS_CLUSTER_ARN.fullmatch(value):
        if region and arn.group(2) != region:
            # The program's AWS provider, its invokes and the secrets are all in aws:region.
            r.fail(
                "existingClusterName",
                value,
                f"is a cluster in {arn.group(2)}, but this stack deploys to aws:region "
                f"{region}; set aws:region to {arn.group(2)} or name a cluster in {region}",
            )
        name = arn.group(4)
    elif rules.EXISTING_CLUSTER_NAME.fullmatch(value):
        name = value
    else:
        r.fail(
            "existingClusterName",
            value,
            "must be an EKS cluster name (1-100 letters, digits, '-' or '_', starting with a "
            "letter or digit) or a cluster ARN like "
            "arn:aws:eks:ap-southeast-1:123456789012:cluster/my-cluster",
        )
        return value
    for key in CREATED_CLUSTER_ONLY:
        if not r.is_default(key):
            r.fail(
                key,
                r.raw(key),
                "configures a cluster this stack creates; with existingClusterName the "
                "cluster is not this stack's: leave it unset",
            )
    return name


class Infrastructure(NamedTuple):
    """The cluster's, network's and nodegroup's Args, and how CI reaches the cluster."""

    cluster: ClusterConfig
    network: NetworkArgs | None
    """None on an existing cluster, like `nodegroup`."""
    nodegroup: NodeGroupArgs | None
    ci: CiRunner


def parse_infrastructure(
    r: ConfigReader,
    *,
    stack: str,
    today: date,
    region: str,
    protection: Protection,
    tags: Mapping[str, str],
) -> Infrastructure:
    admins = _admins(r)
    ci = _ci_runner(r, admins)
    existing = _existing_cluster(r, region)
    version = _kubernetes_version(r, today, existing=bool(existing))
    if existing:
        cluster = r.build(
            ExistingClusterArgs,
            cluster_name=existing,
            kubernetes_version=version,
            oidc_provider=r.choice("existingClusterOidcProvider", OidcProviderMode),
            tags=tags,
        )
        return Infrastructure(cluster, None, None, ci)
    name = (
        r.string(
            "clusterName",
            check=rules.matches(
                rules.CLUSTER_NAME,
                "must start with a letter and hold at most 100 letters, digits or '-'",
            ),
        )
        or f"eks-secrets-{stack}"
    )
    public_access_cidrs = _endpoint_cidrs(r, ci)
    network = parse_network(r, name, tags)
    created = r.build(
        ClusterArgs,
        cluster_name=name,
        kubernetes_version=version,
        # What config knows of the VPC; the program wires in the network's outputs.
        vpc_id=network.existing_vpc_id,
        public_subnet_ids=network.existing_public_subnet_ids,
        private_subnet_ids=network.existing_private_subnet_ids,
        # CI's deploy role last, so adding it keeps the entries already there.
        admin_principal_arns=(*admins, *filter(None, [ci.deploy_role_arn])),
        public_access_cidrs=public_access_cidrs,
        enable_network_policy=r.boolean("enableNetworkPolicy"),
        enable_deletion_protection=protection.cluster_deletion_protection,
        kms_deletion_window_days=protection.kms_deletion_window_days,
        tags=tags,
    )
    nodegroup = parse_nodegroup(r, created, network)
    return Infrastructure(created, network, nodegroup, ci)


def taint(text: str) -> NodeTaint:
    match = rules.TAINT.fullmatch(text)
    assert match, text
    return NodeTaint(match.group(1), match.group(2) or "", rules.TAINT_EFFECTS[match.group(3)])


def parse_nodegroup(r: ConfigReader, cluster: ClusterArgs, network: NetworkArgs) -> NodeGroupArgs:
    sizes = ("nodeMinSize", "nodeDesiredSize", "nodeMaxSize")
    min_size = r.integer("nodeMinSize", minimum=0, maximum=450)
    desired = r.integer("nodeDesiredSize", minimum=0, maximum=450)
    max_size = r.integer("nodeMaxSize", minimum=1, maximum=450)
    # The order is checked once all three passed their own rules: a refused one reads as its
    # default. Any refusal, the order's included, leaves the three defaults for the Args.
    if not any(r.problems_for(k) for k in sizes) and not min_size <= desired <= max_size:
        r.fail(
            "nodeDesiredSize",
            desired,
            f"must satisfy nodeMinSize ({min_size}) <= nodeDesiredSize <= nodeMaxSize ({max_size})",
        )
    if any(r.problems_for(k) for k in sizes):
        min_size, desired, max_size = (int(schema.default(k)) for k in sizes)
    instance_types = r.string_list("nodeInstanceTypes", check=rules.instance_type)
    if not instance_types and not r.problems_for("nodeInstanceTypes"):
        r.fail("nodeInstanceTypes", [], "must list at least one instance type")
    elif problem := check_one_architecture(instance_types):
        r.fail("nodeInstanceTypes", list(instance_types), problem)
        instance_types = ()
    return r.build(
        NodeGroupArgs,
        cluster_name=cluster.cluster_name,
        kubernetes_version=cluster.kubernetes_version,
        # The program wires in the created network's private subnets.
        subnet_ids=network.existing_private_subnet_ids,
        instance_types=instance_types or tuple(schema.default("nodeInstanceTypes")),
        min_size=min_size,
        desired_size=desired,
        max_size=max_size,
        disk_size_gib=r.integer("nodeDiskSizeGib", minimum=20, maximum=16384),
        capacity_type=r.choice("nodeCapacityType", CapacityType).value,
        labels={
            key: value
            for key, _, value in (
                item.partition("=")
                for item in r.string_list("nodeLabels", check=rules.eks_node_label)
            )
        },
        taints=tuple(taint(t) for t in r.string_list("nodeTaints", check=rules.eks_node_taint)),
        ssh_key_name=r.string(
            "nodeSshKeyName",
            check=rules.matches(rules.SSH_KEY_NAME, "must be an EC2 key pair name"),
        ),
        tags=cluster.tags,
    )


def parse_protection(r: ConfigReader, stack: str) -> Protection:
    recovery_days = r.integer("secretRecoveryWindowDays", minimum=0, maximum=30)
    if 0 < recovery_days < 7:
        r.fail("secretRecoveryWindowDays", recovery_days, "must be 0 (delete at once) or 7-30")
        recovery_days = 7
    return protection_for(
        stack,
        enable_resource_protection=r.boolean("enableResourceProtection"),
        enable_cluster_deletion_protection=r.boolean("enableClusterDeletionProtection"),
        secret_recovery_window_days=recovery_days,
    )


def parse_owner(r: ConfigReader) -> str:
    return r.string("owner", check=rules.matches(rules.TAG_VALUE, "must be a valid AWS tag value"))
