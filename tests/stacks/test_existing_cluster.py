"""A stack on an EKS cluster it did not create (existingClusterName): the fixture stack
`existing` (tests/fixtures/stacks/Pulumi.existing.yaml) run under the mocks. It must read the
cluster, never own it, so that `pulumi destroy` removes only what the stack added, in a safe
order."""

from __future__ import annotations

import json

import pytest
from eksplatform.existing_cluster import cluster_version_problem
from eksplatform.k8s import exec_kubeconfig

from tests.conftest import config_of, fixture, secret_config_for
from tools.pulumi_mocks import ACCOUNT, Recorder, run_program

EXISTING = fixture("existing")
CLUSTER = "shared-apps"
GET_CLUSTER = "aws:eks/getCluster:getCluster"
GET_OIDC = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"
NS = "eks-secrets-platform"
ADDED_AWS_TYPES = {
    "aws:secretsmanager/secret:Secret",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:iam/policy:Policy",
    "aws:iam/role:Role",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    "aws:eks/addon:Addon",
}
"""Every AWS resource type the fixture may own: its secrets, identities and the Pod Identity
agent add-on; nothing of the cluster."""


@pytest.fixture(scope="module")
def existing(stack_runs) -> Recorder:
    return stack_runs.run(EXISTING)


def run_existing(overrides: dict[str, str]) -> Recorder:
    given = {f"{NS}:{k}": v for k, v in overrides.items()}
    return run_program("existing", config_of(EXISTING, {**secret_config_for(EXISTING), **given}))


def test_no_network_cluster_nodegroup_or_coredns_is_created(existing):
    types = {r.type for r in existing.resources}
    assert not [t for t in types if t.startswith("aws:ec2/")]
    assert not types & {
        "eks:index:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "eksplatform:cluster:Cluster",
        "eksplatform:cluster:CoreDns",
        "eksplatform:network:Network",
    }
    addons = [r.inputs["addonName"] for r in existing.of_type("aws:eks/addon:Addon")]
    assert addons == ["eks-pod-identity-agent"]
    aws_types = {r.type for r in existing.resources if r.custom and r.type.startswith("aws:")}
    assert aws_types <= ADDED_AWS_TYPES, aws_types - ADDED_AWS_TYPES


def test_the_cluster_is_read_by_name_taken_from_its_arn(existing):
    lookups = [i for i in existing.invokes if i.token == GET_CLUSTER]
    assert [i.args for i in lookups] == [{"name": CLUSTER}]
    assert existing.stack_outputs["clusterName"] == CLUSTER


def test_names_derived_from_the_secret_kubeconfig_stay_plain(existing):
    """The cluster name waits for the (secret) kubeconfig, but is no secret: a trust policy
    or output built from it must not be redacted or hidden."""
    (association,) = existing.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.secret_inputs["clusterName"] == CLUSTER
    trust = existing.named("billing-secrets-podid-role").secret_inputs["assumeRolePolicy"]
    assert isinstance(trust, str) and f"cluster/{CLUSTER}" in trust


def test_the_oidc_provider_is_found_by_the_clusters_issuer(existing):
    (lookup,) = [i for i in existing.invokes if i.token == GET_OIDC]
    issuer = lookup.args["url"]
    assert issuer.startswith("https://oidc.eks.ap-southeast-1.amazonaws.com/id/")
    assert not existing.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    provider_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer.removeprefix('https://')}"
    assert existing.stack_outputs["oidcProviderArn"] == provider_arn
    trust = json.loads(existing.named("orders-secrets-irsa-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"]["Federated"] == provider_arn


def test_the_kubernetes_provider_runs_aws_eks_get_token_against_the_looked_up_endpoint(existing):
    (provider,) = existing.of_type("pulumi:providers:kubernetes")
    config = json.loads(provider.inputs["kubeconfig"])
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"].endswith(".gr7.ap-southeast-1.eks.amazonaws.com")
    assert cluster["certificate-authority-data"]
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        CLUSTER,
        "--region",
        "ap-southeast-1",
    ]
    assert set(config["users"][0]["user"]) == {"exec"}, "no stored token or certificate"


def test_every_kubernetes_object_and_release_goes_through_the_one_provider(existing):
    """The engine deletes a resource before the provider it uses, so a destroy removes every
    object while the cluster is still reachable."""
    (provider,) = existing.of_type("pulumi:providers:kubernetes")
    k8s = [r for r in existing.resources if r.custom and r.type.startswith("kubernetes:")]
    assert len(k8s) > 20
    assert {r.provider.rpartition("::")[0] for r in k8s} == {provider.urn}


def test_workloads_wait_for_both_csi_releases(existing):
    releases = existing.of_type("kubernetes:helm.sh/v3:Release")
    assert len(releases) == 2
    deployments = existing.of_type("kubernetes:apps/v1:Deployment")
    classes = existing.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
    assert deployments and classes
    for resource in [*deployments, *classes]:
        for release in releases:
            assert existing.depends_on(resource, release), (resource.name, release.name)


def test_pod_identity_pods_wait_for_the_agent_the_stack_installs(existing):
    (agent,) = existing.of_type("aws:eks/addon:Addon")
    assert agent.inputs["clusterName"] == CLUSTER
    (association,) = existing.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["clusterName"] == CLUSTER
    (pods,) = [
        r
        for r in existing.of_type("kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["namespace"] == "billing"
    ]
    assert existing.depends_on(pods, agent)


def test_a_cluster_that_already_runs_the_agent_gets_no_second_one():
    rec = run_existing({"existingClusterRunsPodIdentityAgent": "true"})
    assert rec.of_type("aws:eks/addon:Addon") == []
    assert len(rec.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")) == 1
    # Team stacks may use Pod Identity there too: the contract says the agent runs.
    assert rec.stack_outputs["platform"]["podIdentityAgent"] is True


def test_install_method_none_installs_no_driver_and_workloads_still_run():
    rec = run_existing({"secretsStoreInstallMethod": "none"})
    assert rec.of_type("kubernetes:helm.sh/v3:Release") == []
    assert [r.inputs["addonName"] for r in rec.of_type("aws:eks/addon:Addon")] == [
        "eks-pod-identity-agent"
    ]
    assert rec.of_type("kubernetes:apps/v1:Deployment")


def test_oidc_provider_create_makes_one_for_the_clusters_issuer_and_trusts_it():
    rec = run_existing({"existingClusterOidcProvider": "create"})
    assert not [i for i in rec.invokes if i.token == GET_OIDC]
    (oidc,) = rec.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["url"].startswith("https://oidc.eks.ap-southeast-1.amazonaws.com/id/")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc.inputs["tags"]["stack"] == "existing"
    trust = json.loads(rec.named("orders-secrets-irsa-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"]["Federated"] == oidc.outputs["arn"]


def test_a_stated_version_other_than_the_clusters_fails_the_run_before_any_resource():
    """Not even the stack's secrets or key: nothing is created for a stack that cannot run."""
    recorder = Recorder()
    with pytest.raises(Exception, match=r"runs '1\.35'.*set kubernetesVersion to '1\.35'"):
        run_program(
            "existing",
            config_of(EXISTING, {**secret_config_for(EXISTING), f"{NS}:kubernetesVersion": "1.36"}),
            recorder=recorder,
        )
    assert [r.type for r in recorder.resources if r.custom] == []


def test_version_problem_names_both_versions():
    assert cluster_version_problem("1.35", "1.35") is None
    assert cluster_version_problem("1.36", "1.34") == (
        "kubernetesVersion is '1.36' but the existing cluster runs '1.34': add-on builds are "
        "pinned per version, so set kubernetesVersion to '1.34'"
    )


def test_kubeconfig_names_one_cluster_context_and_user():
    config = exec_kubeconfig("c1", "https://x.example", "Q0E=", "eu-west-1")
    assert config["current-context"] == "c1"
    assert config["contexts"] == [{"name": "c1", "context": {"cluster": "c1", "user": "c1"}}]
    assert config["users"][0]["user"]["exec"]["args"][-2:] == ["--region", "eu-west-1"]
