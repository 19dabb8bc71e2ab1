"""ci/plan_gate.py: which steps of a saved update plan CI's deploy role cannot apply.

The plans here are built the way the engine builds one (apitype.DeploymentPlanV1: a step
list per URN) from two runs of the real program under the mocks: the stack before and
after a change. Under the mocks pulumi-eks's Cluster is one remote component, so its
children, read in pulumi/pulumi-eks nodejs/eks/cluster/cluster.ts (v4.3.0) for the inputs
we give it, are added by hand to a first deploy. The gate's table is then checked against
the rendered CI policies and parliament, so it cannot drift from what the roles allow.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci import plan_gate
from ci.iam import render as iam_render
from tests.ci_iam import expanded_actions, findings, rendered
from tests.conftest import FIXTURES, fixture
from tools.plans import PULUMI_EKS_CHILDREN, eks_children, plan_of
from tools.pulumi_mocks import ACCOUNT, PROJECT, stack_config

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")
NS = PROJECT
ADMIN_TYPES = {
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:kms/key:Key",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation",
}


def blocked_types(plan: dict[str, Any]) -> set[str]:
    return {s.type for s in plan_gate.administrator_steps(plan)}


# --- plans of the real program --------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_first_deploy_of_a_stack_is_the_administrators(stack, run_stack):
    after = run_stack(fixture(stack))  # pins which stack uses Pod Identity
    plan = plan_of(None, after)

    steps = plan_gate.administrator_steps(plan)

    assert {s.type for s in steps} == ADMIN_TYPES - (
        set() if stack == "dev" else {"aws:eks/podIdentityAssociation:PodIdentityAssociation"}
    )
    registered_admin = [r.urn for r in after.resources if r.type in ADMIN_TYPES]
    eks_admin = [u for u, t in eks_children(after).items() if t in ADMIN_TYPES]
    assert sorted(s.urn for s in steps) == sorted(registered_admin + eks_admin)


@pytest.mark.parametrize("stack", STACKS)
def test_an_unchanged_stack_needs_nobody(stack, run_stack):
    run = run_stack(stack)
    plan = plan_of(run, run)

    assert {e["steps"][0] for e in plan["resourcePlans"].values()} == {"same"}
    assert plan_gate.administrator_steps(plan) == []


def test_day_to_day_changes_go_through_ci(run_stack):
    """Scaling the node group, a new rotation interval for the driver (a chart value), a
    new secret value: updates of a node group, a Helm release and a secret version."""
    before = run_stack(fixture("staging"))
    after = run_stack(
        fixture("staging"),
        {
            f"{NS}:nodeDesiredSize": 3,
            f"{NS}:nodeMaxSize": 4,
            f"{NS}:rotationPollInterval": "5m",
            f"{NS}:secretValues": json.dumps({"staging-app-credentials": "rotated-by-hand"}),
        },
    )
    plan = plan_of(before, after)
    updated = {
        e["goal"]["type"] for e in plan["resourcePlans"].values() if e["steps"] == ["update"]
    }

    assert {
        "aws:eks/nodeGroup:NodeGroup",
        "kubernetes:helm.sh/v3:Release",
        "aws:secretsmanager/secretVersion:SecretVersion",
    } <= updated
    assert plan_gate.administrator_steps(plan) == []


def test_onboarding_an_app_needs_the_administrator_for_its_identity_only(run_stack):
    before = run_stack(fixture("staging"))
    billing = {"name": "billing", "secrets": ["staging-app-credentials"]}
    apps = [*yaml.safe_load(stack_config("staging", directory=FIXTURES)[f"{NS}:apps"]), billing]
    after = run_stack(fixture("staging"), {f"{NS}:apps": yaml.safe_dump(apps)})
    plan = plan_of(before, after)
    created = [u for u, e in plan["resourcePlans"].items() if e["steps"] == ["create"]]

    steps = plan_gate.administrator_steps(plan)

    assert any(plan_gate.resource_type(u).startswith("kubernetes:") for u in created)
    assert {s.type for s in steps} == {
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    }
    assert all("billing" in s.urn for s in steps)
    assert all(s.ops == ("create",) for s in steps)


# --- the rules -------------------------------------------------------------------------------


def _entry(type_: str, steps: list[str], **extra: Any) -> tuple[str, dict[str, Any]]:
    urn = f"urn:pulumi:dev::{PROJECT}::pulumi:pulumi:Stack$eksplatform:x:X${type_}::thing"
    return urn, {"goal": {"type": type_, "name": "thing"}, "steps": steps, **extra}


def gate(*entries: tuple[str, dict[str, Any]]) -> list[plan_gate.Step]:
    return plan_gate.administrator_steps({"resourcePlans": dict(entries)})


def test_the_type_is_read_from_the_urn_through_its_parents():
    urn = (
        f"urn:pulumi:dev::{PROJECT}::pulumi:pulumi:Stack$eks:index:Cluster$aws:iam/role:Role::a::b"
    )

    assert plan_gate.resource_type(urn) == "aws:iam/role:Role"
    with pytest.raises(ValueError, match="not a Pulumi URN"):
        plan_gate.resource_type("arn:aws:iam::123456789012:role/x")


@pytest.mark.parametrize(
    ("type_", "steps", "blocked"),
    [
        ("aws:iam/role:Role", ["update"], True),
        ("aws:iam/role:Role", ["delete"], True),
        ("aws:iam/role:Role", ["same"], False),
        ("aws:iam/role:Role", ["refresh"], False),
        ("aws:kms/key:Key", ["create"], True),
        ("aws:kms/key:Key", ["update"], True),
        ("aws:kms/key:Key", ["delete"], False),
        ("aws:eks/cluster:Cluster", ["create"], True),
        ("aws:eks/cluster:Cluster", ["create-replacement", "replace", "delete-replaced"], True),
        ("aws:eks/cluster:Cluster", ["update"], False),
        ("aws:eks/nodeGroup:NodeGroup", ["update"], False),
        ("aws:eks/podIdentityAssociation:PodIdentityAssociation", ["update"], True),
        ("aws:eks/podIdentityAssociation:PodIdentityAssociation", ["delete"], False),
        ("aws:eks/addon:Addon", ["create"], False),
        ("kubernetes:apps/v1:Deployment", ["create"], False),
        ("aws:lambda/function:Function", ["same"], False),
    ],
)
def test_rules(type_, steps, blocked):
    assert bool(gate(_entry(type_, steps))) is blocked


def test_an_addon_that_passes_a_role_needs_the_administrator():
    role = f"arn:aws:iam::{ACCOUNT}:role/eks-secrets-platform/dev/ascp"
    adds = {"goal": {"type": "aws:eks/addon:Addon", "inputDiff": {"adds": {}}}}
    with_role = {"inputDiff": {"updates": {"serviceAccountRoleArn": role}}}

    assert gate(_entry("aws:eks/addon:Addon", ["create"], **adds)) == []
    (step,) = gate(_entry("aws:eks/addon:Addon", ["update"], goal={"type": "x", **with_role}))
    assert step.reason == "iam:PassRole"
    assert gate(
        _entry(
            "aws:eks/addon:Addon",
            ["create"],
            state={"podIdentityAssociations": [{"roleArn": role, "serviceAccount": "x"}]},
        )
    )


def test_a_cluster_update_that_adds_envelope_encryption_needs_the_administrator():
    key = f"arn:aws:kms:ap-southeast-1:{ACCOUNT}:key/1234"
    encryption = {"encryptionConfig": {"provider": {"keyArn": key}, "resources": ["secrets"]}}
    version = {"goal": {"type": "x", "inputDiff": {"updates": {"version": "1.36"}}}}

    assert gate(_entry("aws:eks/cluster:Cluster", ["update"], **version)) == []
    assert gate(_entry("aws:eks/cluster:Cluster", ["update"], state=encryption)) == []
    (step,) = gate(
        _entry(
            "aws:eks/cluster:Cluster",
            ["update"],
            goal={"type": "x", "inputDiff": {"updates": encryption}},
        )
    )
    assert "kms:CreateGrant" in step.reason


def test_deleting_an_addon_with_a_role_passes_no_role():
    role = {"serviceAccountRoleArn": f"arn:aws:iam::{ACCOUNT}:role/x"}

    assert gate(_entry("aws:eks/addon:Addon", ["delete"], state=role)) == []


def test_a_changed_aws_type_the_gate_does_not_know_stops_ci():
    (step,) = gate(_entry("aws:lambda/permission:Permission", ["create"]))

    assert "does not know" in step.reason and "RULES" in step.reason


@pytest.mark.parametrize(
    "plan",
    [[], {"resourcePlans": []}, {"resourcePlans": {"urn:pulumi:a::b::c::d": "create"}}],
)
def test_a_plan_that_is_not_one_is_refused(plan):
    with pytest.raises(ValueError):
        plan_gate.administrator_steps(plan)


# --- the command, as the workflows call it --------------------------------------------------


def _run(tmp_path: Path, plan: Any, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "plan.json"
    path.write_text(plan if isinstance(plan, str) else json.dumps(plan))
    return subprocess.run(
        [sys.executable, "ci/plan_gate.py", "--plan", str(path), "--stack", "dev", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_command_stops_a_plan_that_changes_permissions_and_says_what_to_do(tmp_path):
    summary = tmp_path / "summary.md"
    plan = {"resourcePlans": dict([_entry("aws:iam/role:Role", ["create"])])}

    blocked = _run(tmp_path, plan, "--summary", str(summary))
    reported = _run(tmp_path, plan, "--report-only")

    assert blocked.returncode == 1, blocked.stderr
    assert "| create | `aws:iam/role:Role` | `thing` | iam:CreateRole" in blocked.stdout
    assert "pulumi up --stack <org>/dev" in blocked.stdout
    assert summary.read_text() == blocked.stdout
    assert reported.returncode == 0 and reported.stdout == blocked.stdout


def test_command_passes_a_plan_ci_may_apply(tmp_path):
    plan = {"resourcePlans": dict([_entry("kubernetes:apps/v1:Deployment", ["update"])])}

    result = _run(tmp_path, plan)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "CI may apply this plan of dev: it changes no permissions.\n"


def test_command_exits_2_on_an_unreadable_plan(tmp_path):
    result = _run(tmp_path, "{not json")

    assert result.returncode == 2
    assert "plan.json" in result.stderr


# --- the table against the roles ------------------------------------------------------------


def _flagged_by_parliament(action: str) -> bool:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }
    return any(f.issue == "PERMISSIONS_MANAGEMENT_ACTIONS" for f in findings(policy))


def _allowed(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] if s["Effect"] == "Allow" for a in expanded_actions(s)}


def _template(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "ci" / "iam" / name).read_text())


def test_every_aws_resource_the_program_can_create_has_a_rule():
    """Statically, from the constructors in components/ and stacks/ (so also the types only
    some configs create: replica keys, rotations, SSM parameters), plus pulumi-eks's."""
    constructors = set()
    for path in [*ROOT.glob("components/**/*.py"), *ROOT.glob("stacks/**/*.py")]:
        constructors |= set(
            re.findall(r"\baws\.([a-z0-9]+)\.([A-Z][A-Za-z0-9]+)\(", path.read_text())
        )
    types = {
        f"aws:{module}/{name[0].lower()}{name[1:]}:{name}"
        for module, name in constructors
        if not name.endswith("Args")
    }
    types |= {t for t in PULUMI_EKS_CHILDREN if t.startswith("aws:")}

    assert "aws:iam/role:Role" in types and len(types) > 20
    assert sorted(types - plan_gate.RULES.keys()) == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_type_a_stack_registers_has_a_rule(stack, run_stack):
    registered = {r.type for r in run_stack(stack).resources if r.type.startswith("aws:")}

    assert registered
    assert sorted(registered - plan_gate.RULES.keys()) == []


def test_what_the_gate_lets_ci_do_the_ci_deploy_role_may_do_and_is_no_permission_management():
    deploy = _allowed(_template("deploy-policy.json"))
    for type_, rule in plan_gate.RULES.items():
        for action in rule.ci_actions:
            assert action in deploy, (type_, action)
            assert not _flagged_by_parliament(action), (type_, action)


@pytest.mark.parametrize("stack", STACKS)
def test_what_the_gate_keeps_for_the_administrator_no_ci_role_may_do(stack):
    docs = rendered(stack)
    ci = set().union(
        *(_allowed(docs[n]) for role in iam_render.CI_ROLES for n in iam_render.ROLES[role][1])
    )
    admin = set().union(*(_allowed(docs[n]) for n in iam_render.ROLES["permissions-admin"][1]))
    for type_, rule in plan_gate.RULES.items():
        assert bool(rule.admin_ops or rule.admin_when) == bool(rule.admin_actions), type_
        for action in rule.admin_actions:
            assert _flagged_by_parliament(action), (type_, action)
            assert action not in ci, (type_, action)
            assert action in admin, (type_, action)
