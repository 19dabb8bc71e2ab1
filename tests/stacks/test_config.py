"""Stack config: every bad value is reported together, before any resource exists."""

import json
from datetime import date

import pytest
import yaml

from stacks.config import DEFAULT_SECRETS_YAML, ConfigError, load
from tests.conftest import STACKS, secret_values_for
from tools.pulumi_mocks import ROOT, _as_config_string, stack_config

NS = "eks-secrets-platform"
VALUES = json.dumps({"demo-app-credentials": {"username": "u", "password": "p"}})
# A value for every secret Pulumi.dev.yaml creates (the demos' and the examples').
DEV_VALUES = json.dumps(secret_values_for("dev"))


def _load(overrides=None, *, stack="dev", today=date(2026, 11, 21)):
    values = json.dumps(secret_values_for(stack)) if stack in STACKS else VALUES
    raw = stack_config(stack, {f"{NS}:secretValues": values, **(overrides or {})})
    return load(raw.get, stack=stack, today=today)


def _problems(overrides, **kwargs):
    with pytest.raises(ConfigError) as caught:
        _load(overrides, **kwargs)
    return caught.value.problems


def test_dev_stack_file_parses_with_its_documented_choices():
    cfg = _load()
    assert cfg.region == "ap-southeast-1"
    assert cfg.cluster.name == "eks-secrets-dev"
    assert cfg.cluster.kubernetes_version == "1.35"
    assert cfg.network.nat_gateway_mode == "single"
    assert cfg.nodegroup.capacity_type == "SPOT"
    assert cfg.nodegroup.disk_size_gib == 20
    assert cfg.secrets[0].name == "demo-app-credentials"
    assert [j.object_alias for j in cfg.secrets[0].jmes_path] == ["username", "password"]


def test_pulumi_yaml_defaults_match_the_parser_defaults():
    """The CLI passes Pulumi.yaml defaults; the code's own defaults must agree with them."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    declared = {
        f"{NS}:{key}": _as_config_string(decl["default"])
        for key, decl in project.items()
        if "default" in decl
    }
    base = {"aws:region": "eu-west-1", f"{NS}:secretValues": VALUES}
    with_defaults = load({**declared, **base}.get, stack="x", today=date(2026, 11, 21))
    without = load(base.get, stack="x", today=date(2026, 11, 21))
    assert with_defaults == without
    assert yaml.safe_load(project["secrets"]["default"]) == yaml.safe_load(DEFAULT_SECRETS_YAML)


def test_every_key_read_is_declared_in_pulumi_yaml():
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    read: set[str] = set()
    raw = stack_config("dev", {f"{NS}:secretValues": DEV_VALUES})

    def spy(key):
        read.add(key.split(":", 1)[1] if key.startswith(f"{NS}:") else key)
        return raw.get(key)

    load(spy, stack="dev", today=date(2026, 11, 21))
    assert read - {"aws:region"} - declared == set()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("aws:region", "mars-north-1", "aws:region = 'mars-north-1': must be an AWS region"),
        (
            f"{NS}:kubernetesVersion",
            "1.29",
            "kubernetesVersion = '1.29': must be an EKS version in standard support: 1.34, 1.35, 1.36",
        ),
        (
            f"{NS}:nodeInstanceTypes",
            '["t3medium"]',
            "nodeInstanceTypes[0] = 't3medium': must be an EC2 instance type like t3.medium",
        ),
        (
            f"{NS}:publicAccessCidrs",
            '["10.0.0.1/8"]',
            "publicAccessCidrs[0] = '10.0.0.1/8': must be an IPv4 or IPv6 CIDR block",
        ),
        (f"{NS}:vpcCidr", "10.0.0.0/33", "vpcCidr = '10.0.0.0/33': must be an IPv4 CIDR block"),
        (
            f"{NS}:demoNamespace",
            "Secrets_Demo",
            "demoNamespace = 'Secrets_Demo': must be a DNS-1123 label",
        ),
        (
            f"{NS}:demoServiceAccount",
            "Reader!",
            "demoServiceAccount = 'Reader!': must be a DNS-1123 subdomain",
        ),
        (
            f"{NS}:nodeCapacityType",
            "RESERVED",
            "nodeCapacityType = 'RESERVED': must be one of ON_DEMAND, SPOT",
        ),
        (f"{NS}:nodeDiskSizeGib", "8", "nodeDiskSizeGib = 8: must be between 20 and 16384"),
        (f"{NS}:availabilityZoneCount", "4", "availabilityZoneCount = 4: must be between 2 and 3"),
        (
            f"{NS}:nodeTaints",
            '["dedicated=apps:Sometimes"]',
            "nodeTaints[0] = 'dedicated=apps:Sometimes': effect must be one of NoSchedule",
        ),
        (
            f"{NS}:nodeLabels",
            '["no-equals-sign"]',
            "nodeLabels[0] = 'no-equals-sign': must look like key=value",
        ),
        (
            f"{NS}:rotationPollInterval",
            "soon",
            "rotationPollInterval = 'soon': must be a duration like 30s",
        ),
        (f"{NS}:enableDemo", "yes", "enableDemo = 'yes': must be true or false"),
        (
            f"{NS}:demoSecretNames",
            '["nope"]',
            "demoSecretNames[0] = 'nope': is not in the secrets list",
        ),
        (
            f"{NS}:adminPrincipalArns",
            '["admin"]',
            "adminPrincipalArns[0] = 'admin': must be an IAM role or user ARN",
        ),
        (
            f"{NS}:existingPrivateSubnetIds",
            '["subnet-0abc12345"]',
            "existingVpcId = '': must be set when",
        ),
    ],
)
def test_each_bad_value_names_key_value_and_what_is_allowed(key, value, message):
    problems = _problems({key: value})
    assert any(message in p for p in problems), problems


def test_node_sizes_must_be_ordered():
    problems = _problems(
        {f"{NS}:nodeMinSize": "3", f"{NS}:nodeDesiredSize": "2", f"{NS}:nodeMaxSize": "4"}
    )
    assert any("nodeMinSize (3) <= nodeDesiredSize <= nodeMaxSize (4)" in p for p in problems)


def test_all_problems_are_reported_together():
    problems = _problems(
        {"aws:region": "nowhere", f"{NS}:nodeMaxSize": "0", f"{NS}:vpcCidr": "bad"}
    )
    assert len(problems) >= 3
    with pytest.raises(ConfigError, match=r"invalid stack configuration \(\d+ problem\(s\)\)"):
        _load({"aws:region": "nowhere", f"{NS}:vpcCidr": "bad"})


def test_version_past_standard_support_is_refused_after_its_end_date():
    problems = _problems({f"{NS}:kubernetesVersion": "1.34"}, today=date(2026, 12, 3))
    assert any("left EKS standard support on 2026-12-02" in p for p in problems)
    assert _load({f"{NS}:kubernetesVersion": "1.34"}).cluster.kubernetes_version == "1.34"


def test_missing_secret_value_fails_without_revealing_values():
    raw = stack_config("dev")
    raw.pop(f"{NS}:secretValues", None)
    with pytest.raises(ConfigError, match="secretValues is not set"):
        load(raw.get, stack="dev", today=date(2026, 11, 21))
    leaky = json.dumps({"other": "hunter2-do-not-print"})
    problems = _problems({f"{NS}:secretValues": leaky})
    text = "\n".join(problems)
    assert "has no value for secret 'demo-app-credentials'" in text
    assert "hunter2-do-not-print" not in text


def test_secret_values_must_be_json():
    problems = _problems({f"{NS}:secretValues": "not json at all"})
    assert problems == [
        f"{NS}:secretValues (value hidden) is not a JSON object; run: pulumi config set --secret "
        'secretValues \'{"<secret name>": {"username": "...", "password": "..."}}\''
    ]


def test_duplicate_secret_names_and_alias_collisions_are_refused():
    secrets = """
- name: a
  jmesPath: [{path: x, objectAlias: f}, {path: y, objectAlias: f}]
- name: a
"""
    problems = _problems({f"{NS}:secrets": secrets, f"{NS}:demoSecretNames": '["a"]'})
    assert any("secrets[0].jmesPath[1].objectAlias = 'f': collides" in p for p in problems)
    assert any("secrets[1].name = 'a': is listed twice" in p for p in problems)


def test_existing_secret_needs_no_value_and_must_be_an_arn():
    secrets = "- name: shared\n  existingArn: arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:shared-AbCdEf\n"
    raw = stack_config(
        "dev",
        {
            f"{NS}:secrets": secrets,
            f"{NS}:demoSecretNames": '["shared"]',
            f"{NS}:enableRedisSecretExample": "false",
            f"{NS}:enablePodIdentityDemo": "false",
        },
    )
    raw.pop(f"{NS}:secretValues", None)
    cfg = load(raw.get, stack="dev", today=date(2026, 11, 21))
    assert cfg.secrets[0].existing_arn.endswith("shared-AbCdEf")
    problems = _problems({f"{NS}:secrets": "- name: s\n  existingArn: not-an-arn\n"})
    assert any(
        "existingArn = 'not-an-arn': must be a Secrets Manager secret ARN" in p for p in problems
    )


def test_recovery_window_must_be_zero_or_seven_to_thirty():
    problems = _problems({f"{NS}:secretRecoveryWindowDays": "3"})
    assert (
        "eks-secrets-platform:secretRecoveryWindowDays = 3: must be 0 (delete at once) or 7-30"
        in problems
    )


def test_prod_named_stacks_are_protected_whatever_the_flag():
    cfg = _load({f"{NS}:enableResourceProtection": "false"}, stack="prod")
    assert cfg.protection.protect is True
    assert cfg.protection.secret_recovery_window_days == 30
