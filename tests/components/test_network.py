"""Network: subnets tagged for load balancers, NAT per AZ or single, or an existing VPC."""

import pytest
from eksplatform.network import Network, NetworkArgs, plan_subnets


def test_subnet_plan_gives_large_private_and_small_public_subnets():
    public, private = plan_subnets("10.40.0.0/16", 3)
    assert private == ["10.40.0.0/18", "10.40.64.0/18", "10.40.128.0/18"]
    assert public == ["10.40.192.0/20", "10.40.208.0/20", "10.40.224.0/20"]


def test_subnet_plan_refuses_one_az():
    with pytest.raises(ValueError, match="az_count 1 must be 2 or 3"):
        plan_subnets("10.0.0.0/16", 1)


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.0.0.0/25", "10.0.0.0/30", "fd00::/56"])
def test_subnet_plan_refuses_a_vpc_whose_subnets_aws_would_refuse(cidr):
    """AWS takes /16 to /28 blocks for a VPC and for a subnet; the public subnets are 4 bits
    smaller than the VPC."""
    with pytest.raises(ValueError, match=r"must be an IPv4 block from /16 to /24"):
        NetworkArgs(cluster_name="eks-x", vpc_cidr=cidr)


def test_the_smallest_vpc_gives_subnets_aws_accepts():
    public, private = plan_subnets("10.0.0.0/24", 2)
    assert public == ["10.0.0.192/28", "10.0.0.208/28"]
    assert private == ["10.0.0.0/26", "10.0.0.64/26"]


def test_subnets_are_tagged_for_public_and_internal_load_balancers(build):
    rec = build(lambda: Network("net", NetworkArgs(cluster_name="eks-x")))
    subnets = {s.name: s.inputs for s in rec.of_type("aws:ec2/subnet:Subnet")}
    assert subnets["net-public-0"]["tags"]["kubernetes.io/role/elb"] == "1"
    assert subnets["net-private-1"]["tags"]["kubernetes.io/role/internal-elb"] == "1"
    assert subnets["net-private-1"]["tags"]["kubernetes.io/cluster/eks-x"] == "shared"
    assert subnets["net-public-0"]["availabilityZone"] == "ap-southeast-1a"
    assert subnets["net-public-1"]["availabilityZone"] == "ap-southeast-1b"
    assert subnets["net-public-0"]["mapPublicIpOnLaunch"] is False


def test_single_nat_gateway_serves_every_private_subnet(build):
    rec = build(
        lambda: Network(
            "net", NetworkArgs(cluster_name="x", availability_zone_count=3, single_nat_gateway=True)
        )
    )
    assert len(rec.of_type("aws:ec2/natGateway:NatGateway")) == 1
    private_routes = [
        r for r in rec.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name
    ]
    assert len(private_routes) == 3


def test_one_nat_gateway_per_az_by_default(build):
    rec = build(lambda: Network("net", NetworkArgs(cluster_name="x", availability_zone_count=3)))
    assert len(rec.of_type("aws:ec2/natGateway:NatGateway")) == 3


def test_existing_vpc_creates_nothing(build):
    args = NetworkArgs(
        cluster_name="x",
        existing_vpc_id="vpc-0abc12345",
        existing_public_subnet_ids=["subnet-0aaa11111"],
        existing_private_subnet_ids=["subnet-0bbb22222", "subnet-0ccc33333"],
    )
    rec = build(lambda: Network("net", args))
    assert [r.type for r in rec.resources] == ["eksplatform:network:Network"]


def test_zones_come_from_the_provider_the_network_is_given(build):
    """The AZ lookup goes to the component's provider: another region's VPC gets that
    region's zones, not the default provider's."""
    import pulumi
    import pulumi_aws as aws

    def program():
        ireland = aws.Provider("ireland", region="eu-west-1")
        Network("net", NetworkArgs(cluster_name="x"), pulumi.ResourceOptions(providers=[ireland]))

    rec = build(program)
    (zones,) = [i for i in rec.invokes if i.token.endswith("getAvailabilityZones")]
    assert "::ireland::" in zones.provider
    subnets = {s.name: s.inputs for s in rec.of_type("aws:ec2/subnet:Subnet")}
    assert subnets["net-private-0"]["availabilityZone"] == "eu-west-1a"
    assert subnets["net-public-1"]["availabilityZone"] == "eu-west-1b"
