"""EKS Pod Identity components: agent add-on, pinned role, association, plain ServiceAccount,
and the shared ABAC role."""

import json

import pytest
from eksplatform.pod_identity import (
    AGENT_ADDON,
    POD_IDENTITY_MIN_KUBERNETES_VERSION,
    PodIdentityAgent,
    PodIdentityAgentArgs,
    PodIdentityBindingArgs,
    PodIdentityRole,
    PodIdentityRoleArgs,
    SharedPodIdentityRole,
    SharedPodIdentityRoleArgs,
    check_pod_identity_version,
)
from eksplatform.versions import EKS_ADDON_VERSIONS

CLUSTER_ARN = "arn:aws:eks:ap-southeast-1:123456789012:cluster/eks-secrets-dev"
POLICY = "arn:aws:iam::123456789012:policy/read"
KEY = "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"


def _role(**overrides):
    values = dict(
        cluster_name="eks-secrets-dev",
        cluster_arn=CLUSTER_ARN,
        namespace="team-a",
        service_account="reader",
        policy_arns=[POLICY],
        tags={"project": "p"},
    )
    values.update(overrides)
    return PodIdentityRoleArgs(**values)


def test_pod_identity_needs_kubernetes_1_24():
    assert POD_IDENTITY_MIN_KUBERNETES_VERSION == "1.24"
    assert check_pod_identity_version("1.23") == (
        "is too old for EKS Pod Identity, which needs Kubernetes 1.24 or later; "
        "use IRSA or upgrade the cluster"
    )
    assert check_pod_identity_version("1.24") is None
    assert check_pod_identity_version("1.35") is None
    assert check_pod_identity_version("latest") == "is not a Kubernetes version like 1.24"


def test_role_is_trusted_by_pod_identity_pinned_to_cluster_namespace_and_service_account(build):
    rec = build(lambda: PodIdentityRole("app", _role()))
    trust = json.loads(rec.named("app-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Sid": "AllowEksPodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
                    "aws:RequestTag/kubernetes-namespace": ["team-a"],
                    "aws:RequestTag/kubernetes-service-account": "reader",
                }
            },
        }
    ]
    attachment = rec.named("app-policy-0").inputs
    assert attachment["policyArn"] == POLICY
    assert attachment["role"] == rec.named("app-role").outputs["name"]


def test_association_names_cluster_namespace_service_account_and_role(build):
    rec = build(lambda: PodIdentityRole("app", _role()))
    association = rec.named("app-binding-association")
    assert association.type == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
    assert association.inputs["clusterName"] == "eks-secrets-dev"
    assert association.inputs["namespace"] == "team-a"
    assert association.inputs["serviceAccount"] == "reader"
    assert association.inputs["roleArn"] == rec.named("app-role").outputs["arn"]
    assert "disableSessionTags" not in association.inputs  # trust and ABAC need the tags
    assert rec.depends_on(association, rec.named("app-policy-0"))


def test_service_account_carries_no_irsa_annotation(build):
    rec = build(lambda: PodIdentityRole("app", _role()))
    sa = rec.named("app-binding-sa").inputs
    assert sa["metadata"]["name"] == "reader"
    assert sa["metadata"]["namespace"] == "team-a"
    assert "annotations" not in sa["metadata"]
    assert sa["automountServiceAccountToken"] is False


def test_bad_names_are_refused_before_any_resource():
    with pytest.raises(ValueError, match="namespace 'Team_A'"):
        _role(namespace="Team_A")
    with pytest.raises(ValueError, match="service_account 'Reader!'"):
        PodIdentityBindingArgs(
            cluster_name="c", namespace="a", service_account="Reader!", role_arn="arn"
        )


def test_agent_addon_waits_for_the_nodes_and_is_pinned_for_the_cluster_version(build):
    def program():
        import pulumi

        nodes = pulumi.CustomResource("test:index:Nodes", "nodes", {})
        PodIdentityAgent(
            "agent",
            PodIdentityAgentArgs(
                cluster_name="eks-secrets-dev", kubernetes_version="1.35", wait_for=[nodes]
            ),
        )

    rec = build(program)
    addon = rec.named("agent-addon")
    assert addon.type == "aws:eks/addon:Addon"
    assert addon.inputs["addonName"] == AGENT_ADDON == "eks-pod-identity-agent"
    assert addon.inputs["clusterName"] == "eks-secrets-dev"
    assert addon.inputs["addonVersion"] == EKS_ADDON_VERSIONS["1.35"]["eks-pod-identity-agent"]
    assert rec.depends_on(addon, rec.named("nodes"))


def test_agent_build_can_be_given_for_a_version_without_a_pin():
    args = PodIdentityAgentArgs(
        cluster_name="c", kubernetes_version="1.33", addon_version="v1.3.10-eksbuild.3"
    )
    assert args.build() == "v1.3.10-eksbuild.3"
    with pytest.raises(
        ValueError,
        match=r"no pinned eks-pod-identity-agent add-on build for "
        r"Kubernetes 1\.33; components/versions.py EKS_ADDON_VERSIONS has 1\.34",
    ):
        PodIdentityAgentArgs(cluster_name="c", kubernetes_version="1.33")


def test_shared_abac_role_trusts_the_cluster_and_reads_by_namespace_tag(build):
    rec = build(
        lambda: SharedPodIdentityRole(
            "abac",
            SharedPodIdentityRoleArgs(
                cluster_arn=CLUSTER_ARN, failover_region="ap-southeast-2", kms_key_arns=[KEY]
            ),
        )
    )
    trust = json.loads(rec.named("abac-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:RequestTag/eks-cluster-arn": CLUSTER_ARN}
    }
    policy = json.loads(rec.named("abac-policy").inputs["policy"])
    read, decrypt = policy["Statement"]
    assert read["Resource"] == [
        "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:*",
        "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:*",
    ]
    assert read["Condition"] == {
        "StringEquals": {
            "secretsmanager:ResourceTag/kubernetes-namespace": (
                "${aws:PrincipalTag/kubernetes-namespace}"
            )
        }
    }
    assert decrypt["Resource"] == [KEY]
    attachment = rec.named("abac-policy-attachment").inputs
    assert attachment["policyArn"] == rec.named("abac-policy").outputs["arn"]
