"""CI reaches each cluster's API: the runner a workflow uses for a stack is the stack's
ciRunnerLabel, the cluster the program builds admits that runner's static egress range, and
CI's deploy role of that stack (ciDeployRoleArn) has a cluster-admin access entry: the
cluster's creator is the permissions administrator, not CI.

The cluster side is read from the eks.Cluster the whole program registers under the mocks
(`endpointPublicAccess`, `publicAccessCidrs`), not from the config, so a change anywhere
between Pulumi.<stack>.yaml and the cluster that drops the runner's range fails here.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from eksplatform.cluster import CLUSTER_ADMIN_POLICY

from stacks.config.reader import ConfigError
from stacks.load import load
from tests.conftest import config_of, fixture, secret_values_for, stack_name
from tools.pulumi_mocks import PROJECT

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EKS_CLUSTER = "eks:index:Cluster"


def _stack_values(job: dict[str, Any], workflow: dict[str, Any]) -> list[str]:
    """The stacks a job runs Pulumi on: a literal STACK, a matrix, or a choice input."""
    stack = (job.get("env") or {}).get("STACK", "")
    if stack == "${{ matrix.stack }}":
        return list(job["strategy"]["matrix"]["stack"])
    if stack == "${{ inputs.stack }}":
        on = workflow.get("on", workflow.get(True))
        return list(on["workflow_dispatch"]["inputs"]["stack"]["options"])
    assert re.fullmatch(r"[a-z]+", stack), f"cannot tell which stack {stack!r} is"
    return [stack]


def pulumi_jobs() -> list[tuple[str, str, str]]:
    """(where, stack, runner label) for every job that runs Pulumi on a stack."""
    found = []
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        for name, job in workflow["jobs"].items():
            if not any(s.get("uses", "").startswith("pulumi/actions@") for s in job["steps"]):
                continue
            for stack in _stack_values(job, workflow):
                runner = re.sub(r"\$\{\{ (matrix|inputs)\.stack \}\}", stack, job["runs-on"])
                found.append((f"{path.name}:{name}", stack, runner))
    return found


def network_path_problems(
    stack: str,
    runners: set[str],
    runner_label: str,
    runner_cidrs: tuple[str, ...],
    cluster: dict[str, Any],
) -> list[str]:
    """Why CI could not reach this stack's API endpoint (empty when it can)."""
    problems = []
    if not runner_cidrs:
        problems.append(f"{stack}: ciRunnerCidrs is empty, so no runner may reach the API")
    for runner in sorted(runners - {runner_label}):
        problems.append(
            f"{stack}: a workflow runs on {runner!r}, ciRunnerLabel is {runner_label!r}"
        )
    if cluster.get("endpointPublicAccess") is not True:
        problems.append(f"{stack}: the cluster's public endpoint is off")
    allowed = [ipaddress.ip_network(c) for c in cluster.get("publicAccessCidrs") or []]
    for cidr in runner_cidrs:
        network = ipaddress.ip_network(cidr)
        if not any(network.subnet_of(a) for a in allowed if a.version == network.version):
            problems.append(f"{stack}: {cidr} is not in the cluster's publicAccessCidrs")
    return problems


def cluster_access_problems(stack: str, role: str, cluster: dict[str, Any]) -> list[str]:
    """Why CI's deploy role could not use the Kubernetes API (empty when it can)."""
    if not role:
        return [f"{stack}: ciDeployRoleArn is empty, so CI's role has no access entry"]
    entries = [
        e for e in (cluster.get("accessEntries") or {}).values() if e["principalArn"] == role
    ]
    admin = [
        p
        for e in entries
        for p in e["accessPolicies"].values()
        if p["policyArn"] == CLUSTER_ADMIN_POLICY and p["accessScope"] == {"type": "cluster"}
    ]
    return [] if admin else [f"{stack}: {role} has no cluster-admin access entry"]


def _config(stack: str, overrides: dict[str, str] | None = None):
    """The loaded config of a stack key (`dev`, or `fixture:dev` for the frozen copy)."""
    values = {f"{PROJECT}:secretValues": json.dumps(secret_values_for(stack)), **(overrides or {})}
    raw = config_of(stack, values)
    return load(raw.get, stack=stack_name(stack), keys=list(raw))


def _problems_of(stack: str, run_stack, overrides: dict[str, str] | None = None) -> list[str]:
    cfg = _config(stack, overrides)
    (cluster,) = run_stack(stack, overrides).of_type(EKS_CLUSTER)
    name = stack_name(stack)
    runners = {runner for _, s, runner in pulumi_jobs() if s == name}
    return network_path_problems(name, runners, cfg.ci.label, cfg.ci.cidrs, cluster.inputs)


DEPLOYED = sorted({stack for _, stack, _ in pulumi_jobs()})


def test_the_workflows_run_pulumi_on_every_stack_on_a_declared_runner():
    assert DEPLOYED == ["dev", "prod", "staging"]
    assert {runner for *_, runner in pulumi_jobs()} == {
        f"eks-secrets-platform-{s}" for s in DEPLOYED
    }


@pytest.mark.parametrize("stack", DEPLOYED)
def test_every_stack_the_workflows_deploy_admits_its_ci_runner(stack, run_stack):
    assert _problems_of(stack, run_stack) == []


@pytest.mark.parametrize("stack", DEPLOYED)
def test_every_stack_the_workflows_deploy_gives_its_ci_deploy_role_cluster_admin(stack, run_stack):
    role = _config(stack).ci.deploy_role_arn
    (cluster,) = run_stack(stack).of_type(EKS_CLUSTER)

    assert role.endswith(f"role/eks-secrets-platform-{stack}-deploy")
    assert cluster_access_problems(stack, role, cluster.inputs) == []


def test_a_cluster_without_the_ci_role_entry_fails_the_check(run_stack):
    (cluster,) = run_stack(fixture("dev")).of_type(EKS_CLUSTER)
    other = "arn:aws:iam::123456789012:role/someone-else"

    assert cluster_access_problems("dev", other, cluster.inputs) == [
        f"dev: {other} has no cluster-admin access entry"
    ]
    assert cluster_access_problems("dev", "", cluster.inputs) == [
        "dev: ciDeployRoleArn is empty, so CI's role has no access entry"
    ]


def test_the_ci_role_entry_comes_after_the_administrators_so_theirs_keep_their_keys(
    run_stack,
):
    admin = "arn:aws:iam::123456789012:role/PlatformAdmin"
    recorder = run_stack(fixture("prod"), {f"{PROJECT}:adminPrincipalArns": json.dumps([admin])})
    (cluster,) = recorder.of_type(EKS_CLUSTER)

    entries = cluster.inputs["accessEntries"]
    assert [entries[k]["principalArn"] for k in sorted(entries)] == [
        admin,
        _config(fixture("prod")).ci.deploy_role_arn,
    ]


def test_a_stack_without_ci_runner_cidrs_fails_the_check(run_stack):
    overrides = {
        f"{PROJECT}:ciRunnerCidrs": "[]",
        f"{PROJECT}:ciRunnerLabel": "",
        f"{PROJECT}:ciDeployRoleArn": "",
    }

    problems = _problems_of(fixture("dev"), run_stack, overrides)

    assert "dev: ciRunnerCidrs is empty, so no runner may reach the API" in problems
    assert any("ciRunnerLabel is ''" in p for p in problems)


def test_a_cluster_that_drops_the_runner_range_fails_the_check():
    cluster = {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}

    problems = network_path_problems(
        "prod",
        {"eks-secrets-platform-prod"},
        "eks-secrets-platform-prod",
        ("192.0.2.32/28",),
        cluster,
    )

    assert problems == ["prod: 192.0.2.32/28 is not in the cluster's publicAccessCidrs"]


def test_a_private_only_cluster_or_another_runner_fails_the_check():
    cluster = {"endpointPublicAccess": False}

    problems = network_path_problems(
        "dev", {"ubuntu-24.04"}, "eks-secrets-platform-dev", ("192.0.2.0/28",), cluster
    )

    assert problems == [
        "dev: a workflow runs on 'ubuntu-24.04', ciRunnerLabel is 'eks-secrets-platform-dev'",
        "dev: the cluster's public endpoint is off",
        "dev: 192.0.2.0/28 is not in the cluster's publicAccessCidrs",
    ]


def test_runner_cidrs_are_added_to_the_office_ranges_not_instead_of_them(run_stack):
    (cluster,) = run_stack(fixture("prod")).of_type(EKS_CLUSTER)

    assert cluster.inputs["publicAccessCidrs"] == ["198.51.100.0/28", "192.0.2.32/28"]


def test_actionlint_knows_exactly_the_stacks_runner_labels():
    config = yaml.safe_load((ROOT / ".github" / "actionlint.yaml").read_text())

    labels = {_config(s).ci.label for s in DEPLOYED}
    assert set(config["self-hosted-runner"]["labels"]) == labels


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"ciRunnerCidrs": '["10.0.0.0/8"]'},
            "ciRunnerCidrs[0] = '10.0.0.0/8': must be an IPv4 CIDR of /16 or narrower",
        ),
        (
            {"ciRunnerCidrs": '["2001:db8::/64"]'},
            "ciRunnerCidrs[0] = '2001:db8::/64': must be an IPv4 CIDR of /16 or narrower",
        ),
        (
            {"ciRunnerCidrs": '["192.0.2.1/28"]'},
            "ciRunnerCidrs[0] = '192.0.2.1/28': must be an IPv4 or IPv6 CIDR block",
        ),
        (
            {"ciRunnerLabel": ""},
            "ciRunnerLabel = '': ciRunnerLabel and ciRunnerCidrs go together",
        ),
        (
            {"ciRunnerLabel": "bad label!"},
            "ciRunnerLabel = 'bad label!': must be a runner label",
        ),
        (
            {"ciDeployRoleArn": ""},
            "ciDeployRoleArn = '': ciRunnerLabel is set, so CI deploys this stack: name the "
            "stack's CI deploy role",
        ),
        (
            {"ciDeployRoleArn": "arn:aws:iam::123456789012:user/ci"},
            "ciDeployRoleArn = 'arn:aws:iam::123456789012:user/ci': must be an IAM role ARN, "
            "not a user",
        ),
        (
            {"ciDeployRoleArn": "arn:aws:sts::123456789012:assumed-role/dev-deploy/run-1"},
            "ciDeployRoleArn = 'arn:aws:sts::123456789012:assumed-role/dev-deploy/run-1': is "
            "an STS session",
        ),
        (
            {
                "ciDeployRoleArn": "arn:aws:iam::123456789012:role/dev-deploy",
                "adminPrincipalArns": '["arn:aws:iam::123456789012:role/dev-deploy"]',
            },
            "ciDeployRoleArn = 'arn:aws:iam::123456789012:role/dev-deploy': is also in "
            "adminPrincipalArns",
        ),
        (
            {"ciRunnerLabel": "", "ciRunnerCidrs": "[]"},
            "ciDeployRoleArn = 'arn:aws:iam::123456789012:role/eks-secrets-platform-dev-deploy'"
            ": is set but ciRunnerLabel is not",
        ),
    ],
)
def test_bad_ci_runner_config_names_key_value_and_what_is_allowed(overrides, message):
    with pytest.raises(ConfigError) as caught:
        _config(fixture("dev"), {f"{PROJECT}:{k}": v for k, v in overrides.items()})

    (problem,) = caught.value.problems
    assert problem.startswith(f"{PROJECT}:{message}"), problem
