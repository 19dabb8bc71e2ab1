"""NodeGroup: AL2023, IMDSv2 with one hop, private subnets, configurable shape."""

import pytest
from eksplatform.nodegroup import NodeGroup, NodeGroupArgs, NodeTaint, ami_type_for


def _args(**overrides):
    values = dict(
        cluster_name="eks-test",
        kubernetes_version="1.35",
        subnet_ids=["subnet-prv0", "subnet-prv1"],
        instance_types=["t3.medium"],
        min_size=1,
        desired_size=2,
        max_size=3,
        capacity_type="SPOT",
        labels={"role": "apps"},
        taints=[NodeTaint("dedicated", "apps", "NO_SCHEDULE")],
        tags={"project": "p"},
    )
    values.update(overrides)
    return NodeGroupArgs(**values)


@pytest.fixture
def recorded(build):
    return build(lambda: NodeGroup("nodes", _args()))


def test_launch_template_requires_imdsv2_with_hop_limit_one(recorded):
    metadata = recorded.named("nodes-lt").inputs["metadataOptions"]
    assert metadata["httpTokens"] == "required"
    assert metadata["httpPutResponseHopLimit"] == 1


def test_root_volume_is_encrypted_gp3_of_configured_size(build):
    rec = build(lambda: NodeGroup("nodes", _args(disk_size_gib=50)))
    ebs = rec.named("nodes-lt").inputs["blockDeviceMappings"][0]["ebs"]
    assert ebs == {
        "volumeSize": 50,
        "volumeType": "gp3",
        "encrypted": "true",
        "deleteOnTermination": "true",
    }


def test_nodegroup_runs_al2023_in_private_subnets_with_configured_shape(recorded):
    ng = recorded.named("nodes-ng").inputs
    assert ng["amiType"] == "AL2023_x86_64_STANDARD"
    assert ng["subnetIds"] == ["subnet-prv0", "subnet-prv1"]
    assert ng["scalingConfig"] == {"minSize": 1, "desiredSize": 2, "maxSize": 3}
    assert ng["capacityType"] == "SPOT"
    assert ng["labels"] == {"role": "apps"}
    assert ng["taints"] == [{"key": "dedicated", "value": "apps", "effect": "NO_SCHEDULE"}]
    assert ng["launchTemplate"]["id"].startswith("lt-")


def test_ssh_is_off_unless_a_key_is_named(recorded, build):
    assert "keyName" not in recorded.named("nodes-lt").inputs
    rec = build(lambda: NodeGroup("nodes", _args(ssh_key_name="ops")))
    assert rec.named("nodes-lt").inputs["keyName"] == "ops"


def test_node_role_has_worker_policies_before_the_group_starts(recorded):
    attachments = recorded.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert sorted(a.inputs["policyArn"].rsplit("/", 1)[1] for a in attachments) == [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
    ]
    group = recorded.named("nodes-ng")
    assert all(recorded.depends_on(group, a) for a in attachments)


def test_graviton_types_get_the_arm_ami():
    assert ami_type_for(["m7g.large", "c7g.large"]) == "AL2023_ARM_64_STANDARD"
    with pytest.raises(ValueError, match="mixes CPU architectures"):
        ami_type_for(["m7g.large", "m7i.large"])


def test_sizes_out_of_order_are_refused():
    with pytest.raises(ValueError, match="min_size 3 <= desired_size 1 <= max_size 2"):
        _args(min_size=3, desired_size=1, max_size=2)
