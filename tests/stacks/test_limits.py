"""AWS and Kubernetes limits: the config layer refuses one character (or one item) past each,
accepts the value right at it, and a program run at every boundary registers only names,
labels and autonames the APIs accept. The table of bad values and their messages is
test_bad_config_table.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.config import rules
from tests.stacks.configs import (
    key,
    load_config,
    outside_prefix,
    problems,
    raw_config,
    stack_apps,
)
from tools.pulumi_mocks import Recorder, run_program

APPS = stack_apps()
A = len(APPS)
CI = {
    key("ciRunnerCidrs"): '["192.0.2.0/28"]',
    key("ciRunnerLabel"): "eks-secrets-platform-dev",
    key("ciDeployRoleArn"): "arn:aws:iam::123456789012:role/eks-secrets-platform-dev-deploy",
}


def subdomain(n: int, char: str = "a") -> str:
    """A DNS-1123 subdomain of exactly n characters (labels of at most 63)."""
    labels, left = [], n
    while left > 0:
        size = min(63, left if left <= 63 else left - 2)
        labels.append(char * size)
        left -= size + 1
    return ".".join(labels)


def app(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "secrets": ["redis-password"], **fields}


# --- the limits come from the AWS SDK's models where they state them -----------------------


def test_limits_read_from_botocore_are_the_documented_ones():
    """If an SDK update changes one, this fails and the docs in rules.py need a look."""
    assert rules.iam_role_name_max() == 64
    assert rules.iam_policy_name_max() == 128
    assert rules.api_max_length("secretsmanager", "NameType") == 512
    assert rules.api_max_length("secretsmanager", "DescriptionType") == 2048
    assert rules.api_max_length("ssm", "ParameterDescription") == 1024
    assert rules.api_max_length("eks", "labelKey") == 63
    assert rules.api_max_length("eks", "labelValue") == 63
    assert rules.api_max_length("eks", "taintKey") == 63
    assert rules.api_max_length("eks", "taintValue") == 63
    assert "t3.large" in rules.known_instance_types()
    assert "t3.larg" not in rules.known_instance_types()


def test_ssm_arn_length_matches_the_documented_example():
    """SSM docs: arn:aws:ssm:us-east-2:111222333444:parameter/ExampleParameterName is 65."""
    assert rules.ssm_parameter_arn_length("ExampleParameterName", "us-east-2") == 65
    assert rules.ssm_parameter_arn_length("/ExampleParameterName", "us-east-2") == 65
    assert rules.ssm_parameter_arn_length("x", "cn-north-1") == len(
        "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/x"
    )


def test_many_ssm_parameters_read_the_endpoints_model_once_per_region(monkeypatch):
    """Each botocore session reads the endpoints model from disk (about 40 ms): once per SSM
    parameter, a stack with hundreds of parameters spent seconds in config on every preview."""
    import botocore.session

    sessions: list[object] = []
    real = botocore.session.get_session

    def counting() -> botocore.session.Session:
        sessions.append(object())
        return real()

    rules.partition_of.cache_clear()
    monkeypatch.setattr(botocore.session, "get_session", counting)
    for index in range(50):
        assert rules.ssm_parameter_name(f"/team-{index}/db-url", "ap-southeast-1") is None
    assert rules.ssm_parameter_name("/team/db-url", "cn-north-1") is None
    assert len(sessions) == 2  # ap-southeast-1, then cn-north-1
    assert rules.partition_of("cn-north-1") == "aws-cn"


# --- boundaries: the value at the limit passes, one past it fails ---------------------------


@pytest.mark.parametrize(
    ("identity", "longest"), [("irsa", 38), ("pod-identity", 37), ("pod-identity-abac", 63)]
)
def test_longest_app_name_whose_iam_autonames_fit(identity, longest):
    """Role `<app>-secrets-irsa-role-xxxxxxx` <= 64 (botocore iam roleNameType)."""
    fields: dict[str, Any] = {"identity": identity}
    secrets = None
    if identity == "pod-identity-abac":
        secrets = [*_dev_secrets(), {"name": "abac-secret", "namespace": "a" * longest}]
        fields["secrets"] = ["abac-secret"]
    at = app("a" * longest, **fields)
    lists = {"secrets": secrets} if secrets else {}
    load_config(outside_prefix("abac-secret") if secrets else None, apps=[*APPS, at], **lists)
    if longest < 63:
        over = app("a" * (longest + 1), **fields)
        found = problems(apps=[*APPS, over])
        assert any("is too long for identity" in p for p in found), found


def test_service_account_of_63_characters_passes_and_64_fails():
    load_config(apps=[*APPS, app("t", serviceAccount=subdomain(63))])
    found = problems(apps=[*APPS, app("t", serviceAccount=subdomain(64))])
    assert any("label values have at most 63" in p for p in found), found


@pytest.mark.parametrize(("direction", "longest"), [("ingress", 239), ("egress", 240)])
def test_longest_rule_name_whose_network_policy_name_fits(direction, longest):
    def rule(name: str) -> dict[str, Any]:
        peer = {"fromPodLabels": {"a": "b"}} if direction == "ingress" else {"cidr": "10.0.0.0/8"}
        return {"name": name, "podLabels": {"app": "web"}, "ports": [80], **peer}

    load_config(apps=[*APPS, app("t", **{direction: [rule(subdomain(longest))]})])
    found = problems(apps=[*APPS, app("t", **{direction: [rule(subdomain(longest + 1))]})])
    assert any("Kubernetes object names have at most 253" in p for p in found), found


def test_a_rule_with_24_distinct_ports_passes_and_25_fails():
    def egress(ports: list[int]) -> dict[str, Any]:
        rule = {"name": "out", "podLabels": {"app": "web"}, "ports": ports, "cidr": "10.0.0.0/8"}
        return app("t", egress=[rule])

    load_config(apps=[*APPS, egress([*range(1, 25), 1, 2])])
    found = problems(apps=[*APPS, egress(list(range(1, 26)))])
    assert any("lists 25 distinct ports" in p for p in found), found


def test_40_endpoint_cidrs_with_the_runner_pass_and_41_fail():
    public = [f"198.51.{i}.0/24" for i in range(40)]
    load_config({**CI, key("publicAccessCidrs"): json.dumps(public[:39])})
    found = problems({**CI, key("publicAccessCidrs"): json.dumps(public)})
    assert any("makes 41 distinct public endpoint CIDRs" in p for p in found), found
    # A runner range also listed in publicAccessCidrs counts once.
    load_config({**CI, key("publicAccessCidrs"): json.dumps([*public[:39], "192.0.2.0/28"])})


@pytest.mark.parametrize(
    ("kind", "name", "good"),
    [
        ("secretsmanager", "s" * 512, True),
        ("secretsmanager", "s" * 513, False),
        ("secretsmanager", "café", False),
        ("ssmparameter", "/" + "p" * 961, True),
        ("ssmparameter", "/" + "p" * 962, False),
        ("ssmparameter", "/" + "/".join(["l"] * 15), True),
        ("ssmparameter", "/" + "/".join(["l"] * 16), False),
        ("ssmparameter", "aws-thing", False),
        ("ssmparameter", "/Aws/thing", False),
        ("ssmparameter", "ssmthing", False),
        ("ssmparameter", "/team/awsthing", True),
        ("ssmparameter", "team/db", False),
        ("ssmparameter", "db", True),
    ],
)
def test_secret_and_parameter_names_at_and_past_their_limits(kind, name, good):
    secret = {"name": name, "type": kind}
    if len(name) > rules.FILE_NAME_MAX:
        secret["objectAlias"] = "long"  # the name is too long for the mounted file's name
    if good:
        load_config(outside_prefix(name), secrets=[*_dev_secrets(), secret])
    else:
        found = problems(outside_prefix(name), secrets=[*_dev_secrets(), secret])
        assert any(f"].name = {name!r}:" in p for p in found), found


def test_a_name_too_long_for_the_mounted_file_needs_an_object_alias():
    """Without objectAlias the file is named after the secret; Linux NAME_MAX is 255."""
    load_config(outside_prefix("f" * 255), secrets=[*_dev_secrets(), {"name": "f" * 255}])
    found = problems(outside_prefix("f" * 256), secrets=[*_dev_secrets(), {"name": "f" * 256}])
    assert any("makes the mounted file name 256 characters long" in p for p in found), found


def test_a_referenced_parameter_may_live_under_aws_reserved_names():
    """/aws/service/... holds AWS's public parameters: reading one is fine, creating is not."""
    arn = "arn:aws:ssm:ap-southeast-1:123456789012:parameter/aws/service/x"
    load_config(
        secrets=[
            *_dev_secrets(),
            {"name": "/aws/service/x", "type": "ssmparameter", "existingArn": arn},
        ]
    )


@pytest.mark.parametrize(("kind", "longest"), [("secretsmanager", 2048), ("ssmparameter", 1024)])
def test_longest_description_passes_and_one_more_character_fails(kind, longest):
    def secret(n: int) -> dict[str, Any]:
        return {"name": "/described", "type": kind, "description": "d" * n}

    load_config(outside_prefix("/described"), secrets=[*_dev_secrets(), secret(longest)])
    found = problems(outside_prefix("/described"), secrets=[*_dev_secrets(), secret(longest + 1)])
    assert any(f"is {longest + 1} characters long" in p for p in found), found


@pytest.mark.parametrize(
    ("label", "good"),
    [
        (f"role={'v' * 63}", True),
        (f"role={'v' * 64}", False),
        ("role=", False),  # EKS: labelValue min 1
        (f"example.com/{'k' * 51}=v", True),  # key of 63, prefix included
        (f"example.com/{'k' * 52}=v", False),
    ],
)
def test_node_labels_at_and_past_the_eks_limits(label, good):
    overrides = {key("nodeLabels"): json.dumps([label])}
    if good:
        load_config(overrides)
    else:
        assert any("nodeLabels[0]" in p for p in problems(overrides))


def _dev_secrets() -> list[dict[str, Any]]:
    from tests.stacks.configs import stack_secrets

    return stack_secrets()


# --- the program at every boundary ----------------------------------------------------------


BOUNDARY_APPS = [
    app("i" * 38, identity="irsa", serviceAccount=subdomain(63, "s")),
    app(
        "p" * 37,
        identity="pod-identity",
        ingress=[
            {
                "name": subdomain(239, "r"),
                "podLabels": {"app": "v" * 63},
                "ports": list(range(1, 25)),
                "fromPodLabels": {f"example.com/{'k' * 63}": "w" * 63},
            }
        ],
    ),
]


@pytest.fixture(scope="module")
def boundary_run() -> Recorder:
    config = raw_config(apps=[*APPS, *BOUNDARY_APPS])
    load_config(apps=[*APPS, *BOUNDARY_APPS])  # the config layer accepts it
    return run_program("dev", config)


def test_every_iam_autoname_of_a_run_at_the_limits_fits(boundary_run):
    """Names the program derives from config, not only raw values: every role and policy
    Pulumi autonames stays within IAM's limits once `-<7 random>` is appended."""
    limits = {
        "aws:iam/role:Role": rules.iam_role_name_max(),
        "aws:iam/policy:Policy": rules.iam_policy_name_max(),
    }
    checked = []
    for resource in boundary_run.resources:
        if resource.type in limits and not resource.inputs.get("name"):
            assert len(resource.name) + rules.PULUMI_AUTONAME_SUFFIX <= limits[resource.type], (
                resource.name
            )
            checked.append(resource)
    roles = [r.name for r in checked if r.type == "aws:iam/role:Role"]
    longest = max(roles, key=len)
    assert len(longest) + rules.PULUMI_AUTONAME_SUFFIX == 64, longest  # the limit is reached


def test_every_kubernetes_name_and_label_of_a_run_at_the_limits_is_valid(boundary_run):
    objects = [r for r in boundary_run.resources if r.type.startswith("kubernetes:")]
    checked = 0
    for resource in objects:
        metadata = resource.inputs.get("metadata") or {}
        name = metadata.get("name")
        if name:
            assert len(name) <= rules.K8S_OBJECT_NAME_MAX, name
        for label_key, value in (metadata.get("labels") or {}).items():
            assert rules.k8s_label(label_key, str(value)) is None, (resource.name, label_key)
            checked += 1
    names = [(r.inputs.get("metadata") or {}).get("name") or "" for r in objects]
    assert max(len(n) for n in names) == 253  # allow-ingress-<239 characters>
    assert checked
