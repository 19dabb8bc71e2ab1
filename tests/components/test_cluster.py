"""Cluster: the pulumi-eks inputs that make it secure, and the provider built from it."""

import json
import re

import pulumi
import pytest
from eksplatform.cluster import (
    CLUSTER_ADMIN_POLICY,
    OIDC_PROVIDER_TYPE,
    Cluster,
    ClusterArgs,
    CoreDns,
    CoreDnsArgs,
    oidc_provider_tags,
)
from eksplatform.versions import EKS_ADDON_VERSIONS

ADMIN = "arn:aws:iam::123456789012:role/PlatformAdmin"


def _args(**overrides):
    values = dict(
        cluster_name="eks-test",
        kubernetes_version="1.35",
        vpc_id="vpc-0123456789abcdef0",
        public_subnet_ids=["subnet-pub0", "subnet-pub1"],
        private_subnet_ids=["subnet-prv0", "subnet-prv1"],
        admin_principal_arns=[ADMIN],
        public_access_cidrs=["203.0.113.0/24"],
        tags={"project": "eks-secrets-platform"},
    )
    values.update(overrides)
    return ClusterArgs(**values)


@pytest.fixture
def recorded(build):
    return build(lambda: Cluster("cluster", _args()))


def test_eks_cluster_gets_an_explicit_name_and_pinned_version(recorded):
    eks = recorded.named("cluster-eks").inputs
    assert eks["name"] == "eks-test"
    assert eks["version"] == "1.35"


def test_api_auth_mode_with_admin_access_entries(recorded):
    eks = recorded.named("cluster-eks").inputs
    assert eks["authenticationMode"] == "API"
    entry = eks["accessEntries"]["admin-0"]
    assert entry["principalArn"] == ADMIN
    assert entry["accessPolicies"]["cluster-admin"]["policyArn"] == CLUSTER_ADMIN_POLICY
    assert entry["accessPolicies"]["cluster-admin"]["accessScope"] == {"type": "cluster"}


def test_oidc_provider_on_and_default_node_group_skipped(recorded):
    eks = recorded.named("cluster-eks").inputs
    assert eks["createOidcProvider"] is True
    assert eks["skipDefaultNodeGroup"] is True


def test_control_plane_logs_go_to_a_log_group_with_retention(recorded):
    eks = recorded.named("cluster-eks")
    assert eks.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    logs = recorded.named("cluster-logs")
    assert logs.inputs["name"] == "/aws/eks/eks-test/cluster"
    assert logs.inputs["retentionInDays"] == 30
    assert recorded.depends_on(eks, logs)


def test_secrets_are_envelope_encrypted_with_a_rotating_stack_key(recorded):
    key = recorded.named("cluster-secrets-key")
    assert key.inputs["enableKeyRotation"] is True
    assert recorded.named("cluster-eks").inputs["encryptionConfigKeyArn"] == key.outputs["arn"]
    policy = json.loads(key.inputs["policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_endpoint_private_and_public_only_for_listed_cidrs(recorded):
    eks = recorded.named("cluster-eks").inputs
    assert eks["endpointPrivateAccess"] is True
    assert eks["endpointPublicAccess"] is True
    assert eks["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_no_public_cidrs_means_a_private_only_endpoint(build):
    rec = build(lambda: Cluster("cluster", _args(public_access_cidrs=[])))
    eks = rec.named("cluster-eks").inputs
    assert eks["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in eks


def test_network_policy_enforcement_is_on_in_the_vpc_cni(recorded):
    eks = recorded.named("cluster-eks").inputs
    assert eks["vpcCniOptions"]["enableNetworkPolicy"] is True


def test_kubernetes_provider_uses_the_cluster_kubeconfig(recorded):
    provider = recorded.named("cluster-k8s")
    assert provider.type == "pulumi:providers:kubernetes"
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    assert kubeconfig["current-context"] == "eks-test"


def test_open_world_endpoint_is_refused():
    with pytest.raises(ValueError, match="must not open the API endpoint to everyone"):
        _args(public_access_cidrs=["0.0.0.0/0"])


def test_bad_cidr_is_refused():
    with pytest.raises(ValueError, match=re.escape("'10.0.0.1/8' must be an IPv4 or IPv6 CIDR")):
        _args(public_access_cidrs=["10.0.0.1/8"])


def test_control_plane_role_may_use_only_its_own_key(recorded):
    role = recorded.named("cluster-service-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "eks.amazonaws.com"}
    kms = json.loads(recorded.named("cluster-service-role-kms").inputs["policy"])
    key_arn = recorded.named("cluster-secrets-key").outputs["arn"]
    assert [s["Resource"] for s in kms["Statement"]] == [key_arn]
    assert "kms:*" not in kms["Statement"][0]["Action"]
    eks = recorded.named("cluster-eks")
    assert recorded.depends_on(eks, recorded.named("cluster-service-role-kms"))


# --- what pulumi-eks creates from our inputs (nodejs/eks/cluster/cluster.ts) ----------------


def test_vpc_cni_and_kube_proxy_builds_are_pinned_for_the_cluster_version(recorded):
    eks = recorded.named("cluster-eks").inputs
    pins = EKS_ADDON_VERSIONS["1.35"]
    assert eks["vpcCniOptions"]["addonVersion"] == pins["vpc-cni"]
    assert eks["vpcCniOptions"]["enableNetworkPolicy"] is True
    assert eks["kubeProxyAddonOptions"]["version"] == pins["kube-proxy"]


def test_pulumi_eks_never_manages_coredns(recorded):
    options = recorded.named("cluster-eks").inputs["corednsAddonOptions"]
    assert options["enabled"] is False
    assert "configurationValues" not in options, "configuration values would enable it anyway"


def test_pulumi_eks_security_groups_are_skipped(recorded):
    eks = recorded.named("cluster-eks")
    assert eks.inputs["skipDefaultSecurityGroups"] is True
    assert "clusterSecurityGroup" not in eks.inputs


@pulumi.runtime.test
def test_cluster_security_group_id_is_pulumi_eks_cluster_security_group_output(pulumi_mocks):
    cluster = Cluster("cluster", _args())

    def check(values):
        security_group, recorded_id = values
        assert security_group == recorded_id
        assert security_group.startswith("sg-")

    eks_output = cluster.eks.cluster_security_group_id
    return pulumi.Output.all(cluster.cluster_security_group_id, eks_output).apply(check)


def test_access_entries_carry_the_stack_tags(recorded):
    entry = recorded.named("cluster-eks").inputs["accessEntries"]["admin-0"]
    assert entry["tags"] == {"project": "eks-secrets-platform"}


def test_a_cluster_version_without_addon_pins_is_refused():
    with pytest.raises(ValueError, match=r"no pinned vpc-cni add-on build for Kubernetes 1\.29"):
        _args(kubernetes_version="1.29")


def _transform_args(type_: str, props: dict) -> pulumi.ResourceTransformArgs:
    return pulumi.ResourceTransformArgs(
        custom=True, type_=type_, name="x", props=props, opts=pulumi.ResourceOptions()
    )


def test_oidc_provider_transform_adds_the_tags_and_leaves_others_alone():
    transform = oidc_provider_tags({"project": "p", "env": "dev"})
    result = transform(_transform_args(OIDC_PROVIDER_TYPE, {"url": "https://oidc"}))
    assert result is not None
    assert result.props == {"url": "https://oidc", "tags": {"project": "p", "env": "dev"}}
    assert transform(_transform_args("aws:eks/cluster:Cluster", {"tags": {}})) is None
    assert oidc_provider_tags({})(_transform_args(OIDC_PROVIDER_TYPE, {})) is None


def test_coredns_is_a_pinned_addon_after_the_nodegroup(build):
    def program():
        nodes = pulumi.CustomResource("test:index:NodeGroup", "nodes")
        CoreDns(
            "coredns",
            CoreDnsArgs(
                cluster_name="eks-test",
                kubernetes_version="1.34",
                tags={"project": "p"},
                wait_for=[nodes],
            ),
        )

    rec = build(program)
    addon = rec.named("coredns-addon")
    assert addon.type == "aws:eks/addon:Addon"
    assert addon.inputs["addonName"] == "coredns"
    assert addon.inputs["addonVersion"] == EKS_ADDON_VERSIONS["1.34"]["coredns"]
    assert addon.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
    assert addon.inputs["preserve"] is True
    assert addon.inputs["tags"] == {"project": "p"}
    assert rec.depends_on(addon, rec.named("nodes"))
