"""The whole program (`__main__.py`) under mocks: every shipped stack file builds a platform
(only what holds for any valid stack), and the fixture dev pins the exact parts."""

import json

import pytest
import yaml
from eksplatform.contract import CONTRACT_VERSION, OUTPUT_NAME, parse_contract

from stacks.config.reader import ConfigError
from tests.conftest import FIXTURES, STACKS, config_of, fixture
from tools.pulumi_mocks import PROJECT, Recorder
from tools.render import created_secret_names

NS = PROJECT
TAGGABLE_AWS = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/natGateway:NatGateway",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:cloudwatch/logGroup:LogGroup",
)


@pytest.fixture(scope="module")
def dev(stack_runs) -> Recorder:
    return stack_runs.run(fixture("dev"))


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_runs_and_builds_the_platform(run_stack, stack):
    rec = run_stack(stack)
    types = {r.type for r in rec.resources}
    # A stack on an existing cluster (existingClusterName) only reads its cluster.
    existing = "eksplatform:cluster:ExistingCluster" in types
    parts = () if existing else ("eks:index:Cluster", "aws:eks/nodeGroup:NodeGroup")
    for expected in (*parts, "pulumi:providers:kubernetes"):
        assert expected in types, f"{stack} registers no {expected}"
    assert rec.stack_outputs["clusterName"]
    created = {r.inputs.get("name") for r in rec.of_type("aws:secretsmanager/secret:Secret")}
    specs = yaml.safe_load(config_of(stack).get(f"{NS}:secrets") or "[]")
    listed = {s["name"] for s in specs if s.get("type", "secretsmanager") == "secretsmanager"}
    wanted = listed & set(created_secret_names(config_of(stack)))
    assert wanted <= created, f"{stack} does not create {sorted(wanted - created)}"


def test_dev_registers_the_core_parts(dev):
    counts = {
        t: len(dev.of_type(t)) for t in ("aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway")
    }
    assert counts == {"aws:ec2/subnet:Subnet": 4, "aws:ec2/natGateway:NatGateway": 1}
    assert len(dev.of_type("eks:index:Cluster")) == 1
    assert len(dev.of_type("aws:eks/nodeGroup:NodeGroup")) == 1
    assert len(dev.of_type("kubernetes:helm.sh/v3:Release")) >= 2
    assert dev.named("secrets-demo-secrets-class-spc")
    assert dev.named("secrets-demo-workload-deployment")


def test_nodes_run_in_the_private_subnets(dev):
    subnets = dev.of_type("aws:ec2/subnet:Subnet")
    private = sorted(r.id for r in subnets if "private" in r.name)
    assert len(private) == 2
    assert sorted(dev.named("nodes-ng").inputs["subnetIds"]) == private


def test_demo_policy_reads_exactly_its_secret(dev):
    secret_arn = dev.named("secret-demo-app-credentials-secret").outputs["arn"]
    policy = json.loads(dev.named("secrets-demo-secrets-read-policy").inputs["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "ReadListedSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [secret_arn],
        }
    ]


def test_demo_role_trusts_only_the_demo_service_account(dev):
    trust = json.loads(dev.named("secrets-demo-secrets-irsa-role").inputs["assumeRolePolicy"])
    statement = trust["Statement"][0]
    eks = dev.of_type("eks:index:Cluster")[0]
    assert statement["Principal"]["Federated"] == eks.outputs["oidcProviderArn"]
    issuer = eks.outputs["oidcProviderUrl"]
    assert statement["Condition"]["StringEquals"] == {
        f"{issuer}:sub": "system:serviceaccount:secrets-demo:nginx-secrets-reader",
        f"{issuer}:aud": "sts.amazonaws.com",
    }


def test_demo_pod_mounts_the_secret_read_only_with_no_credentials(dev):
    deployment = dev.named("secrets-demo-workload-deployment").inputs
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "nginx-secrets-reader"
    volume = next(v for v in pod["volumes"] if "csi" in v)
    assert volume["csi"] == {
        "driver": "secrets-store.csi.k8s.io",
        "readOnly": True,
        "volumeAttributes": {"secretProviderClass": "nginx-secrets-demo-aws"},
    }
    nginx = pod["containers"][0]
    mount = next(m for m in nginx["volumeMounts"] if m["name"] == volume["name"])
    assert mount == {"name": volume["name"], "mountPath": "/mnt/secrets-store", "readOnly": True}
    assert "env" not in nginx or all("AWS_" not in e["name"] for e in nginx["env"])
    assert nginx["securityContext"]["runAsNonRoot"] is True
    assert nginx["securityContext"]["allowPrivilegeEscalation"] is False
    assert nginx["resources"]["limits"] and nginx["resources"]["requests"]
    assert nginx["readinessProbe"] and nginx["livenessProbe"]


def test_service_account_carries_the_role_arn(dev):
    sa = dev.named("secrets-demo-secrets-irsa-sa").inputs
    role = dev.named("secrets-demo-secrets-irsa-role").outputs["arn"]
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role


def test_driver_dependent_objects_wait_for_both_releases(dev):
    driver = dev.named("secrets-store-driver")
    provider = dev.named("secrets-store-aws-provider")
    for name in ("secrets-demo-secrets-class-spc", "secrets-demo-workload-deployment"):
        assert dev.depends_on(dev.named(name), driver), name
        assert dev.depends_on(dev.named(name), provider), name
    for release in (driver, provider):
        assert dev.depends_on(release, dev.named("nodes-ng"))
    assert not dev.depends_on(provider, driver)


def test_every_kubernetes_object_uses_the_cluster_provider(dev):
    objects = [r for r in dev.resources if r.custom and r.type.startswith("kubernetes:")]
    assert objects
    assert all("cluster-k8s" in r.provider for r in objects), [
        r.name for r in objects if "cluster-k8s" not in r.provider
    ]


def test_every_aws_resource_is_tagged_for_leftover_hunting(dev):
    for resource in dev.resources:
        if resource.type in TAGGABLE_AWS:
            tags = resource.inputs.get("tags") or {}
            assert {k: tags.get(k) for k in ("project", "stack", "owner")} == {
                "project": PROJECT,
                "stack": "dev",
                "owner": "platform-team",
            }, resource.name


def test_outputs_include_the_verify_command_and_identifiers(dev):
    out = dev.stack_outputs
    assert out["clusterName"] == "eks-secrets-dev"
    assert json.loads(out["kubeconfig"])["kind"] == "Config"
    demo = out["apps"]["secrets-demo"]
    assert demo["roleArn"].startswith("arn:aws:iam::")
    assert set(out["secretArns"]) >= {"demo-app-credentials"}
    assert demo["namespace"] == "secrets-demo"
    assert demo["files"] == ["demo-app-credentials", "username", "password"]
    assert demo["verifyCommand"] == (
        "kubectl -n secrets-demo exec deploy/nginx-secrets-demo -c nginx -- "
        "cat /mnt/secrets-store/demo-app-credentials"
    )


def test_kubeconfig_output_is_a_secret(dev):
    provider = dev.named("cluster-k8s")
    wrapped = provider.secret_inputs["kubeconfig"]
    assert isinstance(wrapped, dict) and "value" in wrapped


def test_secret_value_reaches_secrets_manager_only_as_a_secret(dev):
    version = dev.named("secret-demo-app-credentials-value")
    assert json.loads(version.inputs["secretString"])["username"] == "demo"
    assert isinstance(version.secret_inputs["secretString"], dict)


def test_bad_config_fails_before_any_resource_is_registered():
    from tools.pulumi_mocks import run_program, stack_config

    recorder = Recorder()
    overrides = {"aws:region": "nowhere", f"{NS}:nodeDiskSizeGib": "1"}
    bad = stack_config("dev", overrides, directory=FIXTURES)
    with pytest.raises(ConfigError) as caught:
        run_program("dev", bad, recorder=recorder)
    assert len(caught.value.problems) == 3  # region, disk size, and the missing secret value
    assert recorder.resources == []


def test_coredns_addon_is_pinned_and_created_after_the_nodegroup(dev):
    from eksplatform.versions import EKS_ADDON_VERSIONS

    addon = dev.named("coredns-addon")
    assert addon.inputs["addonName"] == "coredns"
    version = dev.named("cluster-eks").inputs["version"]
    assert addon.inputs["addonVersion"] == EKS_ADDON_VERSIONS[version]["coredns"]
    assert dev.depends_on(addon, dev.named("nodes-ng"))


@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stack_exports_a_contract_a_team_stack_reads(stack_runs, stack: str) -> None:
    contract = parse_contract(stack_runs.run(stack).stack_outputs[OUTPUT_NAME])
    assert contract.version == CONTRACT_VERSION
    assert contract.cluster_name == stack_runs.run(stack).stack_outputs["clusterName"]
