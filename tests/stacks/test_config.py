"""Stack config: parsed once into typed settings, every default from Pulumi.yaml, every
problem reported together before any resource exists."""

import dataclasses
import json
from datetime import date

import pytest
from eksplatform.modes import IdentityMode, InstallMethod, SecretType

import stacks.config.infrastructure
from stacks.config import model, schema
from stacks.config.reader import ConfigError
from stacks.load import load
from tests.conftest import fixture
from tests.stacks.configs import (
    LAMBDA,
    NS,
    fixture_config,
    has,
    key,
    load_all_default,
    load_config,
    outside_prefix,
    problems,
    raw_config,
    stack_apps,
    stack_secrets,
)


def test_dev_stack_file_parses_with_its_documented_choices():
    cfg = load_config()
    assert cfg.region == "ap-southeast-1"
    assert cfg.cluster_name == "eks-secrets-dev"
    assert cfg.kubernetes_version == "1.35"
    assert cfg.network is not None and cfg.nodegroup is not None
    assert cfg.network.single_nat_gateway is True
    assert cfg.nodegroup.capacity_type == "SPOT"
    assert cfg.nodegroup.disk_size_gib == 20
    assert cfg.secrets[0].name == "demo-app-credentials"
    assert [j.object_alias for j in cfg.secrets[0].jmes_path] == ["username", "password"]
    assert [(a.name, a.namespace, a.identity) for a in cfg.apps] == [
        ("secrets-demo", "secrets-demo", IdentityMode.IRSA),
        ("secrets-demo-podid", "secrets-demo-podid", IdentityMode.POD_IDENTITY),
    ]
    assert cfg.uses_pod_identity
    assert cfg.secrets_store.install_method is InstallMethod.HELM


def test_config_settings_have_no_defaults_of_their_own():
    """A default lives in Pulumi.yaml alone: the stack's own dataclasses declare none (the
    components' Args keep theirs for reuse; test_layers keeps those equal to Pulumi.yaml's)."""
    for cls in (
        model.StackBase,
        model.CiRunner,
        model.SecretSpec,
        model.SecretFence,
        model.AppSettings,
        model.StackConfig,
    ):
        with_default = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        ]
        assert with_default == [], (cls.__name__, with_default)


def test_an_empty_stack_gets_exactly_the_pulumi_yaml_defaults():
    """Only aws:region, the secret value and the default secret kept outside the default
    secretNamePrefix (`eks-secrets-x/`) given: everything else is Pulumi.yaml's."""
    cfg = load_all_default()
    assert cfg.network is not None and cfg.nodegroup is not None
    assert cfg.network.vpc_cidr == schema.default("vpcCidr")
    assert cfg.nodegroup.instance_types == tuple(schema.default("nodeInstanceTypes"))
    assert cfg.secrets_store.rotation_poll_interval == schema.default("rotationPollInterval")
    assert [a.name for a in cfg.apps] == ["secrets-demo"]
    assert cfg.apps[0].secret_names == ("demo-app-credentials",)


def test_every_key_read_is_declared_and_every_declared_key_is_read():
    read: set[str] = set()
    raw = raw_config()

    def spy(name):
        read.add(name.split(":", 1)[1] if name.startswith(f"{NS}:") else name)
        return raw.get(name)

    load(spy, stack="dev", keys=list(raw), today=date(2026, 11, 21))
    declared = set(schema.declarations())
    assert read - {"aws:region"} == declared


def test_undeclared_keys_are_refused_by_the_program_with_the_closest_key():
    found = problems({key("clusterVersion"): "1.35", key("demoNamespace"): "x"})
    assert (
        f"{NS}:clusterVersion is not a key of this project (Pulumi.yaml declares none); "
        f"did you mean {NS}:kubernetesVersion?"
    ) in found
    has(found, f"{NS}:demoNamespace is not a key of this project")


def test_keys_of_other_namespaces_are_not_ours_to_refuse():
    assert load_config({"aws:profile": "dev", "kubernetes:context": "x"}).stack == "dev"


def test_all_problems_are_reported_together():
    found = problems({"aws:region": "nowhere", key("nodeMaxSize"): "0", key("vpcCidr"): "bad"})
    assert len(found) >= 3
    with pytest.raises(ConfigError, match=r"invalid stack configuration \(\d+ problem\(s\)\)"):
        load_config({"aws:region": "nowhere"})


def test_version_past_standard_support_is_refused_after_its_end_date():
    found = problems({key("kubernetesVersion"): "1.34"}, today=date(2026, 12, 3))
    has(found, "left EKS standard support on 2026-12-02")
    assert load_config({key("kubernetesVersion"): "1.34"}).kubernetes_version == "1.34"


def test_missing_secret_value_fails_without_revealing_values():
    raw = fixture_config("dev")
    raw.pop(key("secretValues"), None)
    with pytest.raises(ConfigError, match="secretValues is not set"):
        load(raw.get, stack="dev", keys=list(raw), today=date(2026, 11, 21))
    leaky = json.dumps({"other": "hunter2-do-not-print"})
    text = "\n".join(problems({key("secretValues"): leaky}))
    assert "has no value for secret 'demo-app-credentials'" in text
    assert "hunter2-do-not-print" not in text


def test_existing_secret_needs_no_value():
    arn = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:shared-AbCdEf"
    raw = raw_config(
        {
            key("enableRedisSecretExample"): "false",
            key("secretNamesOutsidePrefix"): '["eks-secrets-dev-sidecar-example-tls"]',
        },
        secrets=[{"name": "shared", "existingArn": arn}],
        apps=[{"name": "team", "secrets": ["shared"]}],
    )
    raw.pop(key("secretValues"))
    cfg = load(raw.get, stack="dev", keys=list(raw), today=date(2026, 11, 21))
    assert cfg.secrets[0].existing_arn == arn
    assert cfg.secrets[0].file_names == ["shared"]


def test_prod_named_stacks_are_protected_whatever_the_flag():
    cfg = load_config({key("enableResourceProtection"): "false"}, stack="prod")
    assert cfg.protection.protect is True
    assert cfg.protection.secret_recovery_window_days == 30


def test_every_feature_together_parses_into_typed_specs():
    extra = [
        {"name": "/team-a/db-url", "type": "ssmparameter", "objectAlias": "db-url"},
        {
            "name": "team-a-db",
            "namespace": "team-a",
            "replicaRegions": ["ap-southeast-2"],
            "rotationLambdaArn": LAMBDA,
            "rotationDays": 30,
            "jmesPath": [{"path": "password", "objectAlias": "db-password"}],
        },
    ]
    cfg = load_config(
        {
            key("secretsKmsKey"): "create",
            key("secretsStoreInstallMethod"): "eks-addon",
            **outside_prefix("/team-a/db-url", "team-a-db"),
        },
        secrets=[*stack_secrets(), *extra],
        apps=[
            {
                "name": "team-a",
                "identity": "pod-identity-abac",
                "secrets": ["team-a-db"],
            },
            {"name": "team-b", "secrets": ["/team-a/db-url"]},
        ],
    )
    parameter, secret = cfg.secret("/team-a/db-url"), cfg.secret("team-a-db")
    assert (parameter.type, parameter.file_names) == (SecretType.SSM_PARAMETER, ["db-url"])
    assert secret.replica_regions == ("ap-southeast-2",)
    assert (secret.rotation_lambda_arn, secret.rotation_days) == (LAMBDA, 30)
    assert secret.file_names == ["team-a-db", "db-password"]
    assert cfg.apps[0].identity is IdentityMode.POD_IDENTITY_ABAC
    assert cfg.secrets_kms_key == "create"
    assert cfg.replica_regions == ("ap-southeast-2",)
    assert cfg.secrets_store.install_method is InstallMethod.EKS_ADDON


def test_pod_identity_below_its_minimum_version_is_refused(monkeypatch):
    monkeypatch.setitem(stacks.config.infrastructure.EKS_STANDARD_SUPPORT, "1.23", None)
    pins = stacks.config.infrastructure.EKS_ADDON_VERSIONS
    monkeypatch.setitem(pins, "1.23", pins["1.35"])
    found = problems({key("kubernetesVersion"): "1.23"})
    assert (
        f"{NS}:kubernetesVersion = '1.23': is too old for EKS Pod Identity, which needs "
        "Kubernetes 1.24 or later; use IRSA or upgrade the cluster"
    ) in found
    irsa_only = [a for a in stack_apps() if a.get("identity", "irsa") == "irsa"]
    cfg = load_config({key("kubernetesVersion"): "1.23"}, apps=irsa_only)
    assert cfg.kubernetes_version == "1.23"  # IRSA alone is fine on 1.23


def test_a_version_without_pinned_addon_builds_is_refused_in_config(monkeypatch):
    """EKS would install its default build of each add-on, which changes under a running
    stack: a version in standard support but without a row of pins is refused by key."""
    monkeypatch.setitem(stacks.config.infrastructure.EKS_STANDARD_SUPPORT, "1.37", None)
    found = problems({key("kubernetesVersion"): "1.37"})
    assert found == [
        f"{NS}:kubernetesVersion = '1.37': has no pinned EKS add-on builds in "
        "components/versions.py EKS_ADDON_VERSIONS (1.34, 1.35, 1.36); add its row with "
        "evidence first"
    ]


def test_failover_is_accepted_when_every_read_secret_is_replicated_there():
    secrets = [dict(s, replicaRegions=["ap-southeast-2"]) for s in stack_secrets()]
    cfg = load_config({key("failoverRegion"): "ap-southeast-2"}, secrets=secrets)
    assert cfg.failover_region == "ap-southeast-2"


def test_failover_also_needs_the_redis_example_secret_replicated():
    secrets = [
        dict(s, replicaRegions=["ap-southeast-2"]) if s["name"] != "redis-password" else s
        for s in stack_secrets()
    ]
    found = problems({key("failoverRegion"): "ap-southeast-2"}, secrets=secrets)
    assert found == [
        f"{NS}:failoverRegion = 'ap-southeast-2': secret 'redis-password' (read by "
        "redisSecretName) is not replicated there; add ap-southeast-2 to its replicaRegions"
    ]


def test_poll_interval_shorter_than_the_rotation_period_is_accepted():
    spec = {"name": "x", "rotationLambdaArn": LAMBDA, "rotationSchedule": "rate(1 hour)"}
    cfg = load_config(outside_prefix("x"), secrets=[*stack_secrets(), spec])
    assert cfg.secret("x").rotation_schedule == "rate(1 hour)"


def test_a_multi_region_key_is_accepted_for_replicated_secrets():
    multi = "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"
    spec = {"name": "eks-secrets-dev/x", "replicaRegions": ["ap-southeast-2"]}
    cfg = load_config({key("secretsKmsKey"): multi}, secrets=[*stack_secrets(), spec])
    assert cfg.secrets_kms_key == multi


def test_node_taints_reach_the_nodegroup_and_the_driver_tolerates_them_all(run_stack):
    rec = run_stack(fixture("dev"), {key("nodeTaints"): '["dedicated=apps:NoSchedule"]'})
    assert rec.named("nodes-ng").inputs["taints"] == [
        {"key": "dedicated", "value": "apps", "effect": "NO_SCHEDULE"}
    ]
    driver = rec.named("secrets-store-driver").inputs["values"]
    assert driver["linux"]["tolerations"] == [{"operator": "Exists"}]


def test_args_that_refuse_a_value_config_let_through_stop_the_stack_with_a_problem(monkeypatch):
    """A rule missing in the config layer (here: vpcCidr's, switched off) still ends in one
    ConfigError naming the Args and its reason, with the problems found so far: no traceback
    from inside a component."""
    monkeypatch.setattr(stacks.config.infrastructure.rules, "vpc_cidr", lambda value: None)
    found = problems({key("vpcCidr"): "10.0.0.0/26", key("owner"): "team|a"})
    assert found == [
        f"{NS}:owner = 'team|a': must be a valid AWS tag value",
        "NetworkArgs refused the config: vpc_cidr '10.0.0.0/26' must be an IPv4 block from /16 "
        "to /24 (AWS allows /16-/28 per VPC and subnet; the public subnets are 4 bits smaller "
        "than the VPC)",
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"nodeMinSize": "5", "nodeDesiredSize": "5", "nodeMaxSize": "0"},
            [f"{NS}:nodeMaxSize = 0: must be between 1 and 450"],
        ),
        (
            {
                "existingVpcId": "vpc-XYZ",
                "existingPrivateSubnetIds": '["subnet-0abc1234", "subnet-0abc1235"]',
            },
            [f"{NS}:existingVpcId = 'vpc-XYZ': must be a VPC id like vpc-0abc1234"],
        ),
    ],
    ids=["node sizes", "existing VPC"],
)
def test_a_refused_value_does_not_set_off_a_cross_check_about_a_value_never_written(
    overrides, expected
):
    """A refused value reads as its Pulumi.yaml default afterwards; a check across keys that
    saw the default would report `nodeMaxSize (2)` or `existingVpcId = ''`, which the user
    never wrote."""
    assert problems({key(k): v for k, v in overrides.items()}) == expected


JUNK = ["", " ", "x", "-1", "0", "99999", "true", "[]", '["x"]', "{}", "a" * 300, "UPPER", "1.0"]


@pytest.mark.parametrize("name", sorted(set(schema.declarations()) - {"secretValues"}))
def test_no_value_of_any_key_ends_in_anything_but_a_config_error_or_a_config(name):
    """Whatever a user types for any key, the config layer answers with its problems (key,
    value, what is allowed) or a config: never another exception (an empty
    rotationPollInterval used to end in an AssertionError)."""
    for value in JUNK:
        try:
            load_config({key(name): value})
        except ConfigError as error:
            assert error.problems and all(p.strip() for p in error.problems), (name, value)


def test_an_existing_cluster_in_extended_support_is_taken_as_it_is():
    """A cluster the stack creates starts in standard support; one it finds may already be in
    extended support (1.34 left standard support on 2026-12-02) and still gets the platform,
    as long as its add-on builds are pinned."""
    after = date(2026, 12, 3)
    created = problems({key("kubernetesVersion"): "1.34"}, today=after)
    has(created, "left EKS standard support on 2026-12-02")
    existing = load_config({key("kubernetesVersion"): "1.34"}, stack="existing", today=after)
    assert existing.existing_cluster and existing.kubernetes_version == "1.34"
    older = problems({key("kubernetesVersion"): "1.33"}, stack="existing", today=after)
    assert older == [
        f"{NS}:kubernetesVersion = '1.33': must be the existing cluster's version, one with "
        "pinned EKS add-on builds in components/versions.py EKS_ADDON_VERSIONS (1.34, 1.35, "
        "1.36); add its row with evidence, or upgrade the cluster"
    ]
