"""WorkloadSecrets in each identity mode: one policy builder, the right identity, the right
SecretProviderClass parameters."""

import json

import pulumi
import pytest
from eksplatform.secret_provider_class import JmesPath, SecretObject
from eksplatform.workload_secrets import WorkloadSecrets, WorkloadSecretsArgs

SECRET = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:team-a-db-AbCdEf"
REPLICA = "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:team-a-db-AbCdEf"
PARAMETER = "arn:aws:ssm:ap-southeast-1:123456789012:parameter/team-a/db-url"
CLUSTER_ARN = "arn:aws:eks:ap-southeast-1:123456789012:cluster/eks-secrets-dev"
SHARED_ROLE = "arn:aws:iam::123456789012:role/secrets-abac"
OBJECTS = [SecretObject("team-a-db", jmes_path=[JmesPath("password", "password")])]


def _args(mode, **overrides):
    values = dict(
        namespace="team-a",
        service_account="reader",
        secret_provider_class="team-a-aws",
        objects=OBJECTS,
        secret_arns=[SECRET],
        region="ap-southeast-1",
        identity_mode=mode,
        oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.example/id/X",
        oidc_issuer="oidc.example/id/X",
        cluster_name="eks-secrets-dev",
        cluster_arn=CLUSTER_ARN,
        shared_role_arn=SHARED_ROLE if mode == "pod-identity-abac" else None,
    )
    values.update(overrides)
    return WorkloadSecretsArgs(**values)


def _spc_parameters(rec, name="w-class-spc"):
    return rec.named(name).inputs["spec"]["parameters"]


def test_irsa_mode_builds_the_irsa_role_and_no_pod_identity(build):
    rec = build(lambda: WorkloadSecrets("w", _args("irsa")))
    assert rec.named("w-irsa-role")
    assert not rec.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert "usePodIdentity" not in _spc_parameters(rec)
    sa = rec.named("w-irsa-sa").inputs
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam")


def test_pod_identity_mode_uses_the_same_policy_and_an_association(build):
    rec = build(lambda: WorkloadSecrets("w", _args("pod-identity")))
    policy = json.loads(rec.named("w-read-policy").inputs["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "ReadListedSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [SECRET],
        }
    ]
    role = rec.named("w-podid-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert (
        rec.named("w-podid-policy-0").inputs["policyArn"]
        == (rec.named("w-read-policy").outputs["arn"])
    )
    association = rec.named("w-podid-binding-association").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("team-a", "reader")
    assert association["roleArn"] == role.outputs["arn"]
    assert [r.name for r in rec.of_type("aws:iam/role:Role")] == ["w-podid-role"]
    assert _spc_parameters(rec)["usePodIdentity"] == "true"


def test_abac_mode_binds_to_the_shared_role_and_creates_no_policy(build):
    rec = build(lambda: WorkloadSecrets("w", _args("pod-identity-abac", secret_arns=[])))
    assert not rec.of_type("aws:iam/role:Role")
    assert not rec.of_type("aws:iam/policy:Policy")
    association = rec.named("w-abac-association").inputs
    assert association["roleArn"] == SHARED_ROLE
    assert association["namespace"] == "team-a"
    assert _spc_parameters(rec)["usePodIdentity"] == "true"


def test_failover_reaches_the_spc_and_the_policy_covers_the_replica_and_its_key(build):
    key = "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"
    replica_key = key.replace("ap-southeast-1", "ap-southeast-2")
    args = _args(
        "pod-identity",
        secret_arns=[SECRET, REPLICA],
        parameter_arns=[PARAMETER],
        kms_key_arns=[key, replica_key],
        failover_region="ap-southeast-2",
    )
    rec = build(lambda: WorkloadSecrets("w", args))
    assert _spc_parameters(rec)["failoverRegion"] == "ap-southeast-2"
    secrets, parameters, decrypt = json.loads(rec.named("w-read-policy").inputs["policy"])[
        "Statement"
    ]
    assert secrets["Resource"] == [SECRET, REPLICA]
    assert parameters["Resource"] == [PARAMETER]
    assert decrypt["Resource"] == [key, replica_key]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.ap-southeast-1.amazonaws.com",
        "secretsmanager.ap-southeast-2.amazonaws.com",
        "ssm.ap-southeast-1.amazonaws.com",
        "ssm.ap-southeast-2.amazonaws.com",
    ]


def test_pods_also_wait_for_the_identity_prerequisites(build):
    holder = {}

    def program():
        agent = pulumi.CustomResource("test:index:Agent", "agent", {})
        holder["access"] = WorkloadSecrets("w", _args("pod-identity", identity_wait_for=[agent]))
        holder["agent"] = agent

    build(program)
    assert holder["agent"] in holder["access"].ready


@pytest.mark.parametrize(
    ("mode", "missing", "message"),
    [
        ("irsa", {"oidc_issuer": None}, "identity_mode 'irsa' needs oidc_issuer"),
        ("pod-identity", {"cluster_name": None}, "identity_mode 'pod-identity' needs cluster_name"),
        (
            "pod-identity-abac",
            {"shared_role_arn": None},
            "identity_mode 'pod-identity-abac' needs shared_role_arn",
        ),
        ("kiam", {}, "'kiam' is not a valid IdentityMode"),
        (
            "pod-identity-abac",
            {"shared_role_arn": SHARED_ROLE, "parameter_arns": [PARAMETER]},
            "pod-identity-abac reads tagged Secrets Manager secrets only",
        ),
    ],
)
def test_each_mode_refuses_missing_inputs(mode, missing, message):
    with pytest.raises(ValueError, match=message):
        _args(mode, **missing)
