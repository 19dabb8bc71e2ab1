"""The VPC the cluster runs in: public subnets for load balancers, private ones for nodes."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

PUBLIC_ELB_TAG = {"kubernetes.io/role/elb": "1"}
INTERNAL_ELB_TAG = {"kubernetes.io/role/internal-elb": "1"}
VPC_PREFIX_MIN, VPC_PREFIX_MAX = 16, 24


def plan_subnets(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Carves (public, private) CIDRs out of the VPC: a large private subnet per AZ for
    pod IPs (the VPC CNI gives pods VPC addresses) and a small public one for load balancers."""
    if not 2 <= az_count <= 3:
        raise ValueError(f"az_count {az_count} must be 2 or 3")
    network = ipaddress.ip_network(vpc_cidr)
    # Amazon VPC User Guide, "VPC CIDR blocks" and "Subnet CIDR blocks": an IPv4 block is
    # /16 to /28, a VPC's and a subnet's alike. The public subnets here are 4 bits smaller
    # than the VPC, so the VPC must be /24 or larger.
    if network.version != 4 or not VPC_PREFIX_MIN <= network.prefixlen <= VPC_PREFIX_MAX:
        raise ValueError(
            f"vpc_cidr {vpc_cidr!r} must be an IPv4 block from /{VPC_PREFIX_MIN} to "
            f"/{VPC_PREFIX_MAX} (AWS allows /16-/28 per VPC and subnet; the public subnets "
            "are 4 bits smaller than the VPC)"
        )
    quarters = list(network.subnets(prefixlen_diff=2))
    private = [str(q) for q in quarters[:az_count]]
    public = [str(s) for s in list(quarters[3].subnets(prefixlen_diff=2))[:az_count]]
    return public, private


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of Network. Either a VPC to create or an existing one to use."""

    cluster_name: str
    """The EKS cluster's name, for the subnets' `kubernetes.io/cluster/<name>` tag. Required."""
    vpc_cidr: str = "10.0.0.0/16"
    """IPv4 CIDR block of the VPC to create, /16 to /24. Default: `10.0.0.0/16`."""
    availability_zone_count: int = 2
    """Availability zones to spread the subnets over (count, 2 or 3). Default: 2."""
    single_nat_gateway: bool = False
    """One NAT gateway for all AZs: cheaper, but an AZ outage cuts egress everywhere. Default:
    False (one per AZ)."""
    existing_vpc_id: str = ""
    """Use this VPC (`vpc-...`) instead of creating one; nothing is created. Default: empty, create
    one."""
    existing_public_subnet_ids: Sequence[str] = ()
    """Public subnet ids of the existing VPC, for internet-facing load balancers. Default: none."""
    existing_private_subnet_ids: Sequence[str] = ()
    """Private subnet ids of the existing VPC, for nodes; required with `existing_vpc_id`. Default:
    none."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""

    def __post_init__(self) -> None:
        plan_subnets(self.vpc_cidr, self.availability_zone_count)
        if self.existing_vpc_id and not self.existing_private_subnet_ids:
            raise ValueError("an existing VPC needs existing_private_subnet_ids")


class Network(pulumi.ComponentResource):
    """Exposes `vpc_id`, `public_subnet_ids` and `private_subnet_ids` either way."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:network:Network", name, None, opts)
        if args.existing_vpc_id:
            self.vpc_id = pulumi.Output.from_input(args.existing_vpc_id)
            self.public_subnet_ids = pulumi.Output.from_input(list(args.existing_public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(
                list(args.existing_private_subnet_ids)
            )
            self.nat_gateways: list[aws.ec2.NatGateway] = []
        else:
            self._create(name, args)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )

    def _create(self, name: str, args: NetworkArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        # parent=self: the invoke asks the provider this component was given, not the default.
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        public_cidrs, private_cidrs = plan_subnets(args.vpc_cidr, args.availability_zone_count)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        # A VPC's default security group allows all traffic between its members; empty it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.id, tags=tags, opts=child
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=child
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags={**tags, "Name": f"{name}-public"},
            opts=child,
        )
        public, private = [], []
        self.nat_gateways = []
        for index in range(args.availability_zone_count):
            zone = zones.names.apply(lambda names, i=index: names[i])
            subnet = aws.ec2.Subnet(
                f"{name}-public-{index}",
                vpc_id=self.vpc.id,
                cidr_block=public_cidrs[index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tags, **cluster_tag, **PUBLIC_ELB_TAG, "Name": f"{name}-public-{index}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=child,
            )
            public.append(subnet)
            if index == 0 or not args.single_nat_gateway:
                eip = aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc", tags=tags, opts=child)
                self.nat_gateways.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{index}",
                        allocation_id=eip.id,
                        subnet_id=subnet.id,
                        tags={**tags, "Name": f"{name}-nat-{index}"},
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
        for index in range(args.availability_zone_count):
            zone = zones.names.apply(lambda names, i=index: names[i])
            subnet = aws.ec2.Subnet(
                f"{name}-private-{index}",
                vpc_id=self.vpc.id,
                cidr_block=private_cidrs[index],
                availability_zone=zone,
                tags={**tags, **cluster_tag, **INTERNAL_ELB_TAG, "Name": f"{name}-private-{index}"},
                opts=child,
            )
            nat = self.nat_gateways[min(index, len(self.nat_gateways) - 1)]
            route_table = aws.ec2.RouteTable(
                f"{name}-private-rt-{index}",
                vpc_id=self.vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
                tags={**tags, "Name": f"{name}-private-{index}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}",
                subnet_id=subnet.id,
                route_table_id=route_table.id,
                opts=child,
            )
            private.append(subnet)
        self.vpc_id = self.vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])
