"""The whole program with identity modes and secret features: dev shows IRSA and Pod Identity
side by side, each workload reading only its own secret; overrides exercise ABAC, failover,
KMS, SSM parameters and the ASCP add-on."""

import json

import pytest
import yaml

from tests.conftest import FIXTURES, fixture, secret_values_for
from tests.stacks.configs import outside_prefix
from tools.pulumi_mocks import PROJECT, Recorder, run_program, stack_config

NS = PROJECT
DEV = fixture("dev")
DEV_SECRETS = yaml.safe_load(stack_config("dev", directory=FIXTURES)[f"{NS}:secrets"])
DEV_APPS = yaml.safe_load(stack_config("dev", directory=FIXTURES)[f"{NS}:apps"])


def _apps(**changes):
    """dev's apps with some fields changed, by app name: {"secrets-demo": {...}}."""
    return yaml.safe_dump([{**a, **changes.get(a["name"], {})} for a in DEV_APPS])


def _run(overrides=None, secrets=None) -> Recorder:
    values = dict(overrides or {})
    if secrets is None:
        values[f"{NS}:secretValues"] = json.dumps(secret_values_for(DEV))
    else:
        values[f"{NS}:secrets"] = yaml.safe_dump(secrets)
        values[f"{NS}:secretValues"] = json.dumps(
            {s["name"]: f"test-value-of-{s['name']}" for s in secrets if not s.get("existingArn")}
        )
    return run_program("dev", stack_config("dev", values, directory=FIXTURES))


@pytest.fixture(scope="module")
def dev(stack_runs) -> Recorder:
    return stack_runs.run(DEV)


def _policy(rec, name):
    return json.loads(rec.named(name).inputs["policy"])


def _secret_arn(rec, name):
    return rec.named(f"secret-{name}-secret").outputs["arn"]


def test_pod_identity_demo_role_is_trusted_by_pod_identity_only(dev):
    trust = json.loads(
        dev.named("secrets-demo-podid-secrets-podid-role").inputs["assumeRolePolicy"]
    )
    assert trust["Statement"] == [
        {
            "Sid": "AllowEksPodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/eks-cluster-arn": (
                        "arn:aws:eks:ap-southeast-1:123456789012:cluster/eks-secrets-dev"
                    ),
                    "aws:RequestTag/kubernetes-namespace": ["secrets-demo-podid"],
                    "aws:RequestTag/kubernetes-service-account": "nginx-podid-reader",
                }
            },
        }
    ]


def test_pod_identity_association_names_the_demo_namespace_and_service_account(dev):
    associations = dev.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert [a.name for a in associations] == [
        "secrets-demo-podid-secrets-podid-binding-association"
    ]
    association = associations[0].inputs
    assert association["namespace"] == "secrets-demo-podid"
    assert association["serviceAccount"] == "nginx-podid-reader"
    assert association["clusterName"] == "eks-secrets-dev"
    assert (
        association["roleArn"] == dev.named("secrets-demo-podid-secrets-podid-role").outputs["arn"]
    )
    sa = dev.named("secrets-demo-podid-secrets-podid-binding-sa").inputs["metadata"]
    assert (sa["namespace"], sa["name"]) == ("secrets-demo-podid", "nginx-podid-reader")
    assert "annotations" not in sa


def test_each_demo_policy_covers_only_its_own_secret(dev):
    irsa = _policy(dev, "secrets-demo-secrets-read-policy")["Statement"]
    podid = _policy(dev, "secrets-demo-podid-secrets-read-policy")["Statement"]
    assert [s["Resource"] for s in irsa] == [[_secret_arn(dev, "demo-app-credentials")]]
    assert [s["Resource"] for s in podid] == [[_secret_arn(dev, "demo-podid-credentials")]]


def test_irsa_demo_is_unchanged_and_pod_identity_demo_asks_ascp_for_pod_identity(dev):
    assert (
        "usePodIdentity"
        not in (dev.named("secrets-demo-secrets-class-spc").inputs["spec"]["parameters"])
    )
    spc = dev.named("secrets-demo-podid-secrets-class-spc").inputs
    assert spc["metadata"]["namespace"] == "secrets-demo-podid"
    assert spc["spec"]["parameters"]["usePodIdentity"] == "true"
    assert "demo-podid-credentials" in spc["spec"]["parameters"]["objects"]


def test_agent_addon_is_installed_after_the_nodes_and_before_the_pod_identity_pod(dev):
    addon = dev.named("pod-identity-agent-addon")
    assert addon.inputs["addonName"] == "eks-pod-identity-agent"
    assert addon.inputs["clusterName"] == "eks-secrets-dev"
    assert dev.depends_on(addon, dev.named("nodes-ng"))
    pod = dev.named("secrets-demo-podid-workload-deployment")
    assert dev.depends_on(pod, addon)
    assert pod.inputs["metadata"]["namespace"] == "secrets-demo-podid"
    spec = pod.inputs["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "nginx-podid-reader"


def test_secrets_carry_their_owning_namespace_tag(dev):
    tags = dev.named("secret-demo-podid-credentials-secret").inputs["tags"]
    assert tags["kubernetes-namespace"] == "secrets-demo-podid"
    assert dev.named("secret-demo-app-credentials-secret").inputs["tags"][
        "kubernetes-namespace"
    ] == ("secrets-demo")


def test_outputs_include_the_pod_identity_demo_verify_command(dev):
    out = dev.stack_outputs["apps"]["secrets-demo-podid"]
    assert out["namespace"] == "secrets-demo-podid"
    assert out["identity"] == "pod-identity"
    assert out["roleArn"] == dev.named("secrets-demo-podid-secrets-podid-role").outputs["arn"]
    assert out["verifyCommand"] == (
        "kubectl -n secrets-demo-podid exec deploy/nginx-secrets-demo -c nginx -- "
        "cat /mnt/secrets-store/demo-podid-credentials"
    )


def test_without_pod_identity_workloads_no_agent_is_installed():
    rec = _run({f"{NS}:apps": yaml.safe_dump(DEV_APPS[:1])})
    addons = [a.inputs["addonName"] for a in rec.of_type("aws:eks/addon:Addon")]
    assert addons == ["coredns"]
    assert not rec.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")


def test_abac_mode_binds_two_namespaces_to_one_shared_role():
    rec = _run(
        {
            f"{NS}:apps": _apps(
                **{
                    "secrets-demo": {"identity": "pod-identity-abac"},
                    "secrets-demo-podid": {"identity": "pod-identity-abac"},
                }
            )
        }
    )
    role = rec.named("secrets-abac-role")
    associations = rec.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert sorted((a.inputs["namespace"], a.inputs["roleArn"]) for a in associations) == [
        ("secrets-demo", role.outputs["arn"]),
        ("secrets-demo-podid", role.outputs["arn"]),
    ]
    assert len(rec.of_type("eksplatform:identity:SharedPodIdentityRole")) == 1
    policy = _policy(rec, "secrets-abac-policy")
    assert policy["Statement"][0]["Condition"] == {
        "StringEquals": {
            "secretsmanager:ResourceTag/kubernetes-namespace": (
                "${aws:PrincipalTag/kubernetes-namespace}"
            )
        }
    }
    assert not any("secrets-demo-secrets-read" in r.name for r in rec.resources)
    addons = [a.inputs["addonName"] for a in rec.of_type("aws:eks/addon:Addon")]
    assert sorted(addons) == ["coredns", "eks-pod-identity-agent"]


def test_failover_with_a_created_key_replicates_secrets_keys_and_policies():
    secrets = [dict(s) for s in DEV_SECRETS]
    for spec in secrets:
        spec["replicaRegions"] = ["ap-southeast-2"]
    rec = _run(
        {f"{NS}:failoverRegion": "ap-southeast-2", f"{NS}:secretsKmsKey": "create"},
        secrets=secrets,
    )
    key = rec.named("secrets-kms-key")
    replica_key = rec.named("secrets-kms-replica-ap-southeast-2")
    assert key.inputs["multiRegion"] is True
    secret = rec.named("secret-demo-podid-credentials-secret")
    assert secret.inputs["kmsKeyId"] == key.outputs["arn"]
    assert secret.inputs["replicas"] == [
        {"region": "ap-southeast-2", "kmsKeyId": replica_key.outputs["arn"]}
    ]
    arn = secret.outputs["arn"]
    read, decrypt = _policy(rec, "secrets-demo-podid-secrets-read-policy")["Statement"]
    assert read["Resource"] == sorted([arn, arn.replace("ap-southeast-1", "ap-southeast-2")])
    assert decrypt["Resource"] == sorted([key.outputs["arn"], replica_key.outputs["arn"]])
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.ap-southeast-1.amazonaws.com",
        "secretsmanager.ap-southeast-2.amazonaws.com",
    ]
    spcs = [r for r in rec.kubernetes_objects() if r.type.endswith(":SecretProviderClass")]
    assert len(spcs) == 4  # both demos, the sidecar and the redis examples
    for spc in spcs:
        assert spc.inputs["spec"]["parameters"]["failoverRegion"] == "ap-southeast-2", spc.name
    # The redis example reads a stack secret under the created key: replica and key granted.
    redis = rec.named("secret-redis-password-secret").outputs["arn"]
    read, decrypt = _policy(rec, "redis-secret-secrets-read-policy")["Statement"]
    assert read["Resource"] == sorted([redis, redis.replace("ap-southeast-1", "ap-southeast-2")])
    assert decrypt["Resource"] == sorted([key.outputs["arn"], replica_key.outputs["arn"]])


def test_ssm_parameter_is_created_and_read_with_ssm_actions_only():
    secrets = [*DEV_SECRETS, {"name": "/podid/api-url", "type": "ssmparameter"}]
    rec = _run(
        {
            f"{NS}:apps": _apps(
                **{"secrets-demo-podid": {"secrets": ["demo-podid-credentials", "/podid/api-url"]}}
            ),
            **outside_prefix("/podid/api-url"),
        },
        secrets=secrets,
    )
    parameter = rec.named("secret-podid-api-url-parameter")
    assert parameter.inputs["type"] == "SecureString"
    statements = _policy(rec, "secrets-demo-podid-secrets-read-policy")["Statement"]
    assert statements[1] == {
        "Sid": "ReadListedParameters",
        "Effect": "Allow",
        "Action": ["ssm:GetParameter", "ssm:GetParameters"],
        "Resource": [parameter.outputs["arn"]],
    }
    objects = yaml.safe_load(
        rec.named("secrets-demo-podid-secrets-class-spc").inputs["spec"]["parameters"]["objects"]
    )
    assert {"objectName": "/podid/api-url", "objectType": "ssmparameter"} in objects


def test_ascp_addon_replaces_the_helm_releases_and_workloads_wait_for_it():
    rec = _run({f"{NS}:secretsStoreInstallMethod": "eks-addon"})
    assert not [
        r for r in rec.of_type("kubernetes:helm.sh/v3:Release") if "secrets-store" in r.name
    ]
    addon = rec.named("secrets-store-addon")
    assert addon.inputs["addonName"] == "aws-secrets-store-csi-driver-provider"
    for name in (
        "secrets-demo-secrets-class-spc",
        "secrets-demo-podid-secrets-class-spc",
        "secrets-demo-workload-deployment",
    ):
        assert rec.depends_on(rec.named(name), addon), name
