"""Config of identity modes and secret features: every mistake is named with key, value and
what is allowed, before any resource exists."""

import json
from datetime import date

import pytest
import yaml

import stacks.config
from stacks.config import ConfigError, load
from tools.pulumi_mocks import stack_config

NS = "eks-secrets-platform"
LAMBDA = "arn:aws:lambda:ap-southeast-1:123456789012:function:rotate-db"
DEV_SECRETS = yaml.safe_load(stack_config("dev")[f"{NS}:secrets"])


def _raw(extra_secrets=(), overrides=None, replace_secrets=None):
    """dev's config with more secrets (or a replaced list) and a value for each created one."""
    secrets = list(replace_secrets if replace_secrets is not None else DEV_SECRETS)
    secrets += list(extra_secrets)
    values = {s["name"]: "test-value" for s in secrets if not s.get("existingArn")}
    return stack_config(
        "dev",
        {
            f"{NS}:secrets": yaml.safe_dump(secrets),
            f"{NS}:secretValues": json.dumps(values),
            **(overrides or {}),
        },
    )


def _load(extra_secrets=(), overrides=None, **kwargs):
    raw = _raw(extra_secrets, overrides, **kwargs)
    return load(raw.get, stack="dev", today=date(2026, 11, 21))


def _problems(extra_secrets=(), overrides=None, **kwargs):
    with pytest.raises(ConfigError) as caught:
        _load(extra_secrets, overrides, **kwargs)
    return caught.value.problems


def _has(problems, message):
    assert any(message in p for p in problems), problems


def test_dev_shows_one_workload_on_irsa_and_one_on_pod_identity_each_with_its_secret():
    cfg = _load()
    reads = {w.key: w for w in cfg.workload_reads}
    assert reads["demoSecretNames"].identity_mode == "irsa"
    assert reads["demoSecretNames"].secret_names == ("demo-app-credentials",)
    assert reads["podIdentityDemoSecretNames"].identity_mode == "pod-identity"
    assert reads["podIdentityDemoSecretNames"].secret_names == ("demo-podid-credentials",)
    assert reads["podIdentityDemoSecretNames"].namespace == "secrets-demo-podid"
    assert cfg.uses_pod_identity
    assert cfg.secret("demo-podid-credentials").namespace == "secrets-demo-podid"
    assert (cfg.secrets_kms_key, cfg.failover_region) == ("none", "")
    assert cfg.secrets_store.install_method == "helm"


def test_every_feature_together_parses_into_typed_specs():
    extra = [
        {
            "name": "/team-a/db-url",
            "type": "ssmparameter",
            "objectAlias": "db-url",
        },
        {
            "name": "team-a-db",
            "namespace": "secrets-demo-podid",
            "replicaRegions": ["ap-southeast-2"],
            "rotationLambdaArn": LAMBDA,
            "rotationDays": 30,
            "jmesPath": [{"path": "password", "objectAlias": "db-password"}],
        },
    ]
    cfg = _load(
        extra,
        {
            f"{NS}:secretsKmsKey": "create",
            f"{NS}:podIdentityDemoSecretNames": '["team-a-db"]',
            f"{NS}:podIdentityDemoIdentityMode": "pod-identity-abac",
            f"{NS}:demoSecretNames": '["/team-a/db-url"]',
            f"{NS}:secretsStoreInstallMethod": "eks-addon",
        },
    )
    parameter, secret = cfg.secret("/team-a/db-url"), cfg.secret("team-a-db")
    assert (parameter.is_parameter, parameter.file_names) == (True, ["db-url"])
    assert secret.replica_regions == ("ap-southeast-2",)
    assert (secret.rotation_lambda_arn, secret.rotation_days) == (LAMBDA, 30)
    assert secret.file_names == ["team-a-db", "db-password"]
    assert cfg.pod_identity_demo.identity_mode == "pod-identity-abac"
    assert cfg.secrets_kms_key == "create"
    assert cfg.replica_regions == ("ap-southeast-2",)
    assert cfg.secrets_store.install_method == "eks-addon"


def test_pod_identity_below_its_minimum_version_is_refused(monkeypatch):
    monkeypatch.setitem(stacks.config.EKS_STANDARD_SUPPORT, "1.23", None)
    problems = _problems(overrides={f"{NS}:kubernetesVersion": "1.23"})
    assert (
        f"{NS}:kubernetesVersion = '1.23': is too old for EKS Pod Identity, which needs "
        "Kubernetes 1.24 or later; use IRSA or upgrade the cluster"
    ) in problems
    cfg = _load(
        overrides={f"{NS}:kubernetesVersion": "1.23", f"{NS}:enablePodIdentityDemo": "false"}
    )
    assert cfg.cluster.kubernetes_version == "1.23"  # IRSA alone is fine on 1.23


def test_pod_identity_is_refused_in_the_china_regions():
    problems = _problems(overrides={"aws:region": "cn-north-1"})
    assert (
        "aws:region = 'cn-north-1': EKS Pod Identity is not available in the China regions; "
        "use identity mode irsa"
    ) in problems


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {f"{NS}:podIdentityDemoSecretNames": '["nope"]'},
            "podIdentityDemoSecretNames[0] = 'nope': is not in the secrets list",
        ),
        (
            {f"{NS}:demoIdentityMode": "kiam"},
            "demoIdentityMode = 'kiam': must be one of irsa, pod-identity, pod-identity-abac",
        ),
        (
            {f"{NS}:podIdentityDemoIdentityMode": "irsa"},
            "podIdentityDemoIdentityMode = 'irsa': must be one of pod-identity, pod-identity-abac",
        ),
        (
            {f"{NS}:podIdentityDemoSecretNames": "[]"},
            "podIdentityDemoSecretNames = []: must name at least one secret",
        ),
        (
            {f"{NS}:podIdentityDemoNamespace": "secrets-demo"},
            "podIdentityDemoNamespace = 'secrets-demo': the demos need distinct namespaces",
        ),
        (
            {f"{NS}:failoverRegion": "ap-southeast-1"},
            "failoverRegion = 'ap-southeast-1': must differ from aws:region",
        ),
        (
            {f"{NS}:failoverRegion": "moon-1"},
            "failoverRegion = 'moon-1': must be an AWS region",
        ),
        (
            {f"{NS}:failoverRegion": "ap-southeast-2"},
            "failoverRegion = 'ap-southeast-2': secret 'demo-app-credentials' (read by "
            "demoSecretNames) is not replicated there; add ap-southeast-2 to its replicaRegions",
        ),
        (
            {f"{NS}:secretsKmsKey": "aws/secretsmanager"},
            "secretsKmsKey = 'aws/secretsmanager': must be none, create, or a KMS key ARN",
        ),
        (
            {
                f"{NS}:secretsKmsKey": (
                    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                )
            },
            "must be a key in the stack's region ap-southeast-1",
        ),
        (
            {f"{NS}:secretsStoreInstallMethod": "kustomize"},
            "secretsStoreInstallMethod = 'kustomize': must be one of helm, eks-addon",
        ),
    ],
)
def test_each_bad_identity_or_failover_value_is_named(overrides, message):
    _has(_problems(overrides=overrides), message)


def test_disabled_pod_identity_demo_does_not_check_its_secret_names():
    cfg = _load(
        overrides={
            f"{NS}:enablePodIdentityDemo": "false",
            f"{NS}:podIdentityDemoSecretNames": '["gone"]',
        }
    )
    assert not cfg.uses_pod_identity


def test_files_of_two_secrets_read_by_one_workload_must_not_collide():
    problems = _problems(
        overrides={f"{NS}:demoSecretNames": '["demo-app-credentials", "demo-podid-credentials"]'}
    )
    assert (
        f"{NS}:demoSecretNames = ['demo-app-credentials', 'demo-podid-credentials']: mounted "
        "file names collide: ['password', 'username']; give the secrets distinct objectAlias "
        "or jmesPath objectAlias values"
    ) in problems


def test_jmes_path_alias_may_not_reuse_the_secret_file_name():
    problems = _problems(
        [{"name": "x", "objectAlias": "f", "jmesPath": [{"path": "a", "objectAlias": "f"}]}]
    )
    _has(problems, "jmesPath[0].objectAlias = 'f': collides with another file name")


def test_failover_is_accepted_when_every_read_secret_is_replicated_there():
    secrets = [dict(s) for s in DEV_SECRETS]
    for spec in secrets:
        if spec["name"] in ("demo-app-credentials", "demo-podid-credentials", "redis-password"):
            spec["replicaRegions"] = ["ap-southeast-2"]
    cfg = _load(replace_secrets=secrets, overrides={f"{NS}:failoverRegion": "ap-southeast-2"})
    assert cfg.failover_region == "ap-southeast-2"


def test_failover_also_needs_the_redis_example_secret_replicated():
    secrets = [dict(s) for s in DEV_SECRETS]
    for spec in secrets:
        if spec["name"] in ("demo-app-credentials", "demo-podid-credentials"):
            spec["replicaRegions"] = ["ap-southeast-2"]
    with pytest.raises(ConfigError) as raised:
        _load(replace_secrets=secrets, overrides={f"{NS}:failoverRegion": "ap-southeast-2"})
    assert raised.value.problems == [
        f"{NS}:failoverRegion = 'ap-southeast-2': secret 'redis-password' (read by "
        "redisSecretName) is not replicated there; add ap-southeast-2 to its replicaRegions"
    ]


def test_failover_cannot_read_ssm_parameters_which_do_not_replicate():
    problems = _problems(
        [{"name": "/app/url", "type": "ssmparameter", "replicaRegions": ["ap-southeast-2"]}],
        {f"{NS}:failoverRegion": "ap-southeast-2", f"{NS}:demoSecretNames": '["/app/url"]'},
    )
    _has(problems, "replicaRegions = ['ap-southeast-2']: only Secrets Manager secrets replicate")
    _has(problems, "secret '/app/url' (read by demoSecretNames) is not replicated there")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"name": "x", "replicaRegions": ["ap-southeast-1"]},
            "replicaRegions[0] = 'ap-southeast-1': is the stack's own region",
        ),
        ({"name": "x", "replicaRegions": ["mars-1"]}, "replicaRegions[0] = 'mars-1': must be"),
        (
            {"name": "x", "replicaRegions": ["eu-west-1", "eu-west-1"]},
            "replicaRegions[1] = 'eu-west-1': is listed twice",
        ),
        (
            {
                "name": "x",
                "existingArn": "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:x-AbCdEf",
                "replicaRegions": ["eu-west-1"],
            },
            "a referenced secret is never changed; set import: true to replicate it",
        ),
        ({"name": "x", "type": "vault"}, "secrets[3].type = 'vault': must be one of"),
        ({"name": "team a", "type": "ssmparameter"}, "must be an SSM parameter name"),
        (
            {"name": "/p", "type": "ssmparameter", "existingArn": "arn:aws:secretsmanager:x"},
            "existingArn = 'arn:aws:secretsmanager:x': must be an SSM parameter ARN",
        ),
        ({"name": "x", "import": True}, "import = True: needs existingArn of a Secrets Manager"),
        (
            {
                "name": "x",
                "import": True,
                "existingArn": "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:y-AbCdEf",
            },
            "the secret in existingArn is not named 'x'",
        ),
        (
            {
                "name": "x",
                "namespace": "team-a",
                "existingArn": "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:x-AbCdEf",
            },
            "namespace = 'team-a': cannot tag a referenced secret",
        ),
        ({"name": "x", "namespace": "Team_A"}, "namespace = 'Team_A': must be a DNS-1123 label"),
        ({"name": "x", "objectAlias": "a/b"}, "objectAlias = 'a/b': must be a file name"),
        ({"name": "x", "ttl": 3}, "secrets[3] = ['ttl']: unknown field(s); allowed: name, type"),
    ],
)
def test_each_bad_secret_field_is_named(spec, message):
    _has(_problems([spec]), message)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "x", "rotationDays": 30}, "rotationLambdaArn = '': rotation needs the ARN"),
        (
            {"name": "x", "rotationLambdaArn": LAMBDA},
            "rotationDays = 0: give exactly one of rotationDays (1-1000) or rotationSchedule",
        ),
        (
            {"name": "x", "rotationLambdaArn": LAMBDA, "rotationDays": 2000},
            "rotationDays = 2000: must be a whole number of days between 1 and 1000",
        ),
        (
            {"name": "x", "rotationLambdaArn": LAMBDA, "rotationSchedule": "every day"},
            "rotationSchedule = 'every day': must be rate(N hours|days) or cron(...)",
        ),
        (
            {"name": "/p", "type": "ssmparameter", "rotationLambdaArn": LAMBDA, "rotationDays": 1},
            "only Secrets Manager secrets rotate",
        ),
    ],
)
def test_each_bad_rotation_setting_is_named(spec, message):
    _has(_problems([spec]), message)


def test_rotation_needs_the_driver_to_rotate_mounted_files():
    spec = {"name": "x", "rotationLambdaArn": LAMBDA, "rotationDays": 30}
    problems = _problems([spec], {f"{NS}:enableSecretRotation": "false"})
    assert (
        f"{NS}:enableSecretRotation = False: secret(s) ['x'] rotate; set enableSecretRotation: "
        "true so mounted files follow the new value"
    ) in problems


def test_poll_interval_must_be_shorter_than_the_rotation_period():
    spec = {"name": "x", "rotationLambdaArn": LAMBDA, "rotationSchedule": "rate(1 hour)"}
    problems = _problems([spec], {f"{NS}:rotationPollInterval": "2h"})
    _has(problems, "rotationPollInterval = '2h': must be shorter than the rotation period of")
    cfg = _load([spec])  # 2m default poll is well inside an hour
    assert cfg.secret("x").rotation_schedule == "rate(1 hour)"


def test_abac_workload_reads_only_secrets_tagged_with_its_namespace():
    problems = _problems(
        [{"name": "untagged"}, {"name": "/p", "type": "ssmparameter"}],
        {
            f"{NS}:podIdentityDemoIdentityMode": "pod-identity-abac",
            f"{NS}:podIdentityDemoSecretNames": '["untagged", "/p", "demo-podid-credentials"]',
        },
    )
    for name in ("untagged", "/p"):
        assert (
            f"{NS}:podIdentityDemoSecretNames = {name!r}: pod-identity-abac reads only Secrets "
            "Manager secrets this stack creates or imports, tagged with the workload's "
            f"namespace: set namespace: secrets-demo-podid on secret {name!r}"
        ) in problems
    assert not any("'demo-podid-credentials'" in p for p in problems)


def test_replicated_secrets_need_a_multi_region_key_when_a_key_is_given():
    single = "arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    spec = {"name": "x", "replicaRegions": ["ap-southeast-2"]}
    problems = _problems([spec], {f"{NS}:secretsKmsKey": single})
    _has(problems, "secrets with replicaRegions need a multi-Region key (key/mrk-...)")
    multi = "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"
    assert _load([spec], {f"{NS}:secretsKmsKey": multi}).secrets_kms_key == multi
