"""The IAM documents in ci/iam: per environment, CI's deploy and preview roles (no
permissions-management action: parliament finds nothing) and the permissions-admin role of
named people; least privilege that a tag cannot forge.

The templates are rendered for every stack (ci/iam/render.py) with a sample account and
repository; the trust policies are checked by evaluating their conditions against sample
GitHub OIDC tokens, the permission policies by expanding their wildcards into concrete
actions, and the program is run under the mocks to check that the roles it creates are the
ones the deploy role is allowed to create.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ci.iam import render as iam_render
from stacks.iam_guardrails import BOUNDARY_NAME, iam_path
from tests.ci_iam import (
    ADMINS,
    ORG_REPO,
    STATE_KEY,
    allowing,
    as_list,
    expanded_actions,
    findings,
    parliament,
    rendered,
)
from tools.pulumi_mocks import ACCOUNT

ROOT = Path(__file__).resolve().parent.parent
IAM_DIR = ROOT / "ci" / "iam"
README = (IAM_DIR / "README.md").read_text()
STACKS = ("dev", "staging", "prod")
ENVIRONMENTS = {"dev": "dev", "staging": "staging", "prod": "production"}
GITHUB = "token.actions.githubusercontent.com"
REPO = f"repo:{ORG_REPO}"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{BOUNDARY_NAME}"
TEMPLATES = {
    "github-oidc-deploy-trust-policy.json",
    "github-oidc-preview-trust-policy.json",
    "deploy-policy.json",
    "preview-policy.json",
    "permissions-admin-trust-policy.json",
    "permissions-admin-policy.json",
    "permissions-boundary-policy.json",
}
ADMIN_POLICY = "permissions-admin-policy.json"
CI_POLICIES = ("deploy-policy.json", "preview-policy.json")
POLICIES = (*CI_POLICIES, ADMIN_POLICY)
READ_VERBS = ("Describe", "Get", "List")
MUTATING_VERBS = (
    "Add", "Allocate", "Associate", "Attach", "Authorize", "Cancel", "Create", "Delete",
    "Deregister", "Detach", "Disable", "Disassociate", "Enable", "Encrypt", "Generate",
    "Import", "Modify", "Pass", "Put", "Register", "Release", "Remove", "Replace", "Reset",
    "Restore", "Revoke", "Rotate", "Run", "Schedule", "Set", "Start", "Stop", "Tag",
    "Terminate", "Untag", "Update", "Upload",
)  # fmt: skip
TAGGING = re.compile(r"(ec2:CreateTags|[a-z0-9-]+:TagResource|iam:Tag\w+|ssm:AddTagsToResource)")
ROLE_CHANGES = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
# What makes the permissions-admin role a role of people, not of CI: the permissions-
# management actions parliament's community auditor names, whatever the conditions. No CI
# role holds any of them (zero findings); what keeps the administrator's own use of them
# safe (path, boundary, policy allow-list, PassRole scope) is asserted below.
ADMIN_PERMISSIONS_MANAGEMENT = {
    "iam:addclientidtoopenidconnectprovider", "iam:attachrolepolicy",
    "iam:createopenidconnectprovider", "iam:createpolicy", "iam:createrole",
    "iam:createservicelinkedrole", "iam:deleteopenidconnectprovider", "iam:deletepolicy",
    "iam:deleterole", "iam:deleterolepolicy", "iam:detachrolepolicy", "iam:passrole",
    "iam:putrolepermissionsboundary", "iam:putrolepolicy",
    "iam:removeclientidfromopenidconnectprovider", "iam:updateassumerolepolicy",
    "iam:updateopenidconnectproviderthumbprint", "iam:updaterole",
    "iam:updateroledescription", "kms:creategrant", "kms:createkey", "kms:putkeypolicy",
}  # fmt: skip
# Tagging that IAM cannot tell apart from tagging someone else's untagged resource (KMS and
# IAM evaluate the tag-on-create call like any TagResource). Only the permissions-admin role
# creates keys and OIDC providers, so only it holds these; each is guarded by a Deny on
# resources of another stack; ci/iam/README.md says what is left and why.
RESIDUAL_TAG_ON_CREATE = {"kms:TagResource", "iam:TagOpenIDConnectProvider"}


def verb(action: str) -> str:
    return action.split(":", 1)[1]


def allows(trust: dict[str, Any], claims: dict[str, str]) -> bool:
    """Whether some Allow statement's conditions all hold for a token with these claims
    (StringEquals only: the trust policies use nothing else)."""
    for statement in trust["Statement"]:
        ok = statement["Effect"] == "Allow"
        for operator, conditions in statement["Condition"].items():
            assert operator == "StringEquals", f"operator {operator} not covered by this test"
            for key, expected in conditions.items():
                ok &= claims.get(key.removeprefix(f"{GITHUB}:")) in as_list(expected)
        if ok:
            return True
    return False


def token(sub: str) -> dict[str, str]:
    return {"aud": "sts.amazonaws.com", "sub": sub}


# --- the files ------------------------------------------------------------------------------


def test_ci_iam_holds_exactly_the_documented_templates():
    assert {p.name for p in IAM_DIR.glob("*.json")} == TEMPLATES
    for name in TEMPLATES:
        assert f"`{name}`" in README


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_is_valid_iam_json(name):
    policy = json.loads((IAM_DIR / name).read_text())

    assert set(policy) == {"Version", "Statement"}
    assert policy["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids)), "Sids must be unique"
    for statement in policy["Statement"]:
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
        assert statement["Effect"] in ("Allow", "Deny")
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
        for action in as_list(statement["Action"]):
            # `*` only in the boundary's ceiling statement.
            assert re.fullmatch(r"\*|[a-z0-9-]+:[A-Za-z0-9*]+", action), action


@pytest.mark.parametrize("stack", STACKS)
def test_rendering_fills_every_placeholder(stack):
    text = json.dumps(rendered(stack))

    assert not re.findall(r"<[A-Z_]+>", text)


def test_render_refuses_bad_arguments():
    with pytest.raises(ValueError) as caught:
        iam_render.render("qa", account_id="12", repository="x", state_key_arn="key")
    with pytest.raises(ValueError) as bad_stack:
        iam_render.render(
            "q a",
            account_id=ACCOUNT,
            repository=ORG_REPO,
            state_key_arn=STATE_KEY,
            admin_principal_arns=ADMINS,
            managed_policies_per_role=21,
        )
    with pytest.raises(ValueError) as bad_admin:
        iam_render.render(
            "dev",
            account_id=ACCOUNT,
            repository=ORG_REPO,
            state_key_arn=STATE_KEY,
            admin_principal_arns=("arn:aws:iam::123:root",),
        )

    assert str(caught.value) == (
        "--stack 'qa': no stack file Pulumi.qa.yaml; --account-id '12': must be 12 "
        "digits; --repository 'x': must be <org>/<repo>; --state-key-arn 'key': must be a "
        "KMS key ARN; --admin-principal-arn: name at least one IAM role or user of the "
        "people who apply permission changes"
    )
    assert str(bad_stack.value) == (
        "--stack 'q a': must be a stack name (letters, digits, _ . -); "
        "--managed-policies-per-role 21: must be between 10 (IAM's default quota) and 20 "
        "(its maximum on request)"
    )
    assert str(bad_admin.value) == (
        "--admin-principal-arn 'arn:aws:iam::123:root': must be an IAM role or user ARN"
    )


def test_environments_are_those_of_the_workflows():
    import yaml

    names = set()
    for path in (ROOT / ".github" / "workflows").glob("*.yml"):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            if isinstance(job.get("environment"), str) and "${{" not in job["environment"]:
                names.add(job["environment"])
    assert {stack: iam_render.environment(stack) for stack in STACKS} == ENVIRONMENTS
    assert names == {"dev", "staging", "production"} | {
        f"{e}-preview" for e in ENVIRONMENTS.values()
    }


def test_any_stack_gets_the_environment_of_its_name():
    """A stack beyond the shipped three renders too; its GitHub environment is its name."""
    assert iam_render.environment("team-a-qa") == "team-a-qa"
    assert iam_render.environment("prod") == "production"


@pytest.mark.parametrize("stack", STACKS)
def test_each_role_fits_in_a_few_managed_policies(stack):
    docs = rendered(stack)
    for _, kinds in iam_render.ROLES.values():
        parts = [p for k in kinds for p in iam_render.split(docs[k])]
        assert len(parts) <= 5, "a role takes at most 10 managed policies"
        assert all(iam_render.size(p) <= iam_render.MANAGED_POLICY_LIMIT for p in parts)
        assert [s for p in parts for s in p["Statement"]] == [
            s for k in kinds for s in docs[k]["Statement"]
        ]


# --- trust: one role per environment ------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_trust_policies_pin_sub_to_one_environment_and_aud_to_sts(stack):
    environment = ENVIRONMENTS[stack]
    for name, sub in (
        ("deploy-trust-policy.json", f"{REPO}:environment:{environment}"),
        ("preview-trust-policy.json", f"{REPO}:environment:{environment}-preview"),
    ):
        (statement,) = rendered(stack)[name]["Statement"]
        assert statement["Principal"] == {
            "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"
        }
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": sub}
        }


@pytest.mark.parametrize("stack", STACKS)
def test_each_role_accepts_only_its_own_environment(stack):
    docs = rendered(stack)
    environment = ENVIRONMENTS[stack]
    every_sub = [
        f"{REPO}:pull_request",
        f"{REPO}:ref:refs/heads/main",
        *(f"{REPO}:environment:{e}" for e in ENVIRONMENTS.values()),
        *(f"{REPO}:environment:{e}-preview" for e in ENVIRONMENTS.values()),
        f"repo:my-org/other:environment:{environment}",
    ]
    deploy = [s for s in every_sub if allows(docs["deploy-trust-policy.json"], token(s))]
    preview = [s for s in every_sub if allows(docs["preview-trust-policy.json"], token(s))]

    assert deploy == [f"{REPO}:environment:{environment}"]
    assert preview == [f"{REPO}:environment:{environment}-preview"]
    wrong_audience = {**token(deploy[0]), "aud": "https://github.com/my-org"}
    assert not allows(docs["deploy-trust-policy.json"], wrong_audience)


# --- what each role may do -----------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_preview_role_reads_but_decrypts_only_its_stacks_config(stack):
    policy = rendered(stack)["preview-policy.json"]
    actions = [a for s in policy["Statement"] for a in expanded_actions(s)]

    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert "secretsmanager:GetSecretValue" not in actions
    assert not {"ssm:GetParameter", "ssm:GetParameters"} & set(actions)
    assert [a for a in actions if verb(a).startswith(MUTATING_VERBS)] == []
    others = [a for a in actions if not verb(a).startswith(READ_VERBS)]
    assert others == ["kms:Decrypt"]
    assert [s["Resource"] for s in allowing(policy, "kms:Decrypt")] == [STATE_KEY]


@pytest.mark.parametrize("stack", STACKS)
def test_roles_of_a_stack_name_only_that_stacks_state_cluster_and_secrets(stack):
    others = [s for s in STACKS if s != stack]
    for name in POLICIES:
        text = json.dumps(rendered(stack)[name])
        for other in others:
            assert f"eks-secrets-{other}" not in text, name
            assert f"/{other}.json" not in text and f"/{other}/" not in text, name
    settings = iam_render.stack_settings(stack)
    deploy = rendered(stack)["deploy-policy.json"]
    (reading,) = allowing(deploy, "secretsmanager:GetSecretValue")
    (changing,) = allowing(deploy, "secretsmanager:PutSecretValue")
    outside = [
        f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:{s['name']}-??????"
        for s in settings["secrets"]
        if s["type"] == "secretsmanager" and not s["name"].startswith(settings["prefix"])
    ]
    assert settings["prefix"].endswith("/")
    assert (
        reading["Resource"]
        == changing["Resource"]
        == [
            f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:{settings['prefix']}*",
            *outside,
        ]
    )
    kept = [s["name"] for s in settings["secrets"] if s["name"] in settings["outside"]]
    assert len(outside) <= len(kept), "an exact ARN only for a name kept outside the prefix"
    assert "Condition" not in reading, "named, not tagged: a tag could be forged"


@pytest.mark.parametrize("stack", STACKS)
def test_no_tag_it_then_own_it_pattern(stack):
    """A tagging permission may only add the stack's tags while creating (ec2:CreateAction),
    re-tag what already carries the stack's tag, or act on resources fenced by name. The two
    services where IAM cannot tell creation from forgery are listed, guarded by a Deny, and
    held by the permissions-admin role only: no CI role can forge a tag at all."""
    docs = rendered(stack)
    settings = iam_render.stack_settings(stack)
    names = [
        iam_path(stack),
        settings["cluster"],
        f"secret:{settings['prefix']}*",
        f"parameter/{settings['prefix']}*",
        *(f"secret:{x['name']}-" for x in settings["secrets"]),
        *(f"parameter/{x['name'].lstrip('/')}" for x in settings["secrets"]),
    ]
    forgeable: dict[str, set[str]] = {}
    for name in ("deploy-policy.json", ADMIN_POLICY):
        forgeable[name] = set()
        for statement in docs[name]["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            condition = statement.get("Condition", {}).get("StringEquals", {})
            for action in filter(TAGGING.fullmatch, expanded_actions(statement)):
                by_name = all(any(n in r for n in names) for r in as_list(statement["Resource"]))
                owned = condition.get("aws:ResourceTag/stack") == stack
                creating = "ec2:CreateAction" in condition
                if not (by_name or owned or creating):
                    forgeable[name].add(action)
                    assert condition.get("aws:RequestTag/stack") == stack, action
    assert forgeable == {"deploy-policy.json": set(), ADMIN_POLICY: RESIDUAL_TAG_ON_CREATE}
    denies = [s for n in POLICIES for s in docs[n]["Statement"] if s["Effect"] == "Deny"]
    for action in RESIDUAL_TAG_ON_CREATE:
        (guard,) = [d for d in denies if action in expanded_actions(d)]
        assert guard["Condition"] == {
            "StringNotEquals": {"aws:ResourceTag/stack": stack},
            "Null": {"aws:ResourceTag/stack": "false"},
        }


@pytest.mark.parametrize("stack", STACKS)
def test_roles_are_created_and_changed_only_under_the_path_with_the_boundary(stack):
    policy = rendered(stack)[ADMIN_POLICY]
    path = f"arn:aws:iam::{ACCOUNT}:role{iam_path(stack)}*"

    for action in ROLE_CHANGES:
        statements = allowing(policy, action)
        assert statements, action
        for statement in statements:
            assert statement["Resource"] == path, action
            assert statement["Condition"]["ArnEquals"] == {"iam:PermissionsBoundary": BOUNDARY}


@pytest.mark.parametrize("stack", STACKS)
def test_administrator_access_cannot_be_attached(stack):
    (attach,) = allowing(rendered(stack)[ADMIN_POLICY], "iam:AttachRolePolicy")
    allowed = attach["Condition"]["ArnLike"]["iam:PolicyARN"]

    for forbidden in ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess"):
        arn = f"arn:aws:iam::aws:policy/{forbidden}"
        assert not any(fnmatch.fnmatchcase(arn, pattern) for pattern in allowed)
    assert f"arn:aws:iam::{ACCOUNT}:policy{iam_path(stack)}*" in allowed
    assert all(
        p.startswith("arn:aws:iam::aws:policy/AmazonE") or iam_path(stack) in p for p in allowed
    )


@pytest.mark.parametrize("stack", STACKS)
def test_pass_role_only_the_stacks_roles_only_to_eks(stack):
    (passing,) = allowing(rendered(stack)[ADMIN_POLICY], "iam:PassRole")

    assert passing["Action"] == "iam:PassRole"
    assert passing["Resource"] == f"arn:aws:iam::{ACCOUNT}:role{iam_path(stack)}*"
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["eks.amazonaws.com", "pods.eks.amazonaws.com"]}
    }


@pytest.mark.parametrize("stack", STACKS)
def test_no_policy_version_and_no_lifting_a_boundary(stack):
    docs = rendered(stack)
    escalations = {"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"}
    escalations |= {"iam:DeleteRolePermissionsBoundary"}

    for name in POLICIES:
        for action in escalations:
            assert allowing(docs[name], action) == [], (name, action)
    (deny,) = [s for s in docs[ADMIN_POLICY]["Statement"] if s["Effect"] == "Deny"][:1]
    assert set(deny["Action"]) == escalations and deny["Resource"] == "*"


def test_boundary_denies_every_identity_change_and_the_pulumi_state():
    boundary = json.loads((IAM_DIR / "permissions-boundary-policy.json").read_text())
    denied = {
        a for s in boundary["Statement"] if s["Effect"] == "Deny" for a in expanded_actions(s)
    }

    for action in (*ROLE_CHANGES, "iam:PassRole", "iam:CreateUser", "iam:CreateAccessKey"):
        assert action in denied, action
    assert {"iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion"} <= denied
    assert "iam:CreateServiceLinkedRole" not in denied, "the EKS cluster role needs it"
    (state,) = [s for s in boundary["Statement"] if s["Sid"] == "NeverReadOrChangePulumiState"]
    assert state["Action"] == "s3:*"


# --- Resource "*": only where AWS offers no resource-level permission ---------------------


def _resource_types(action: str) -> list[str]:
    service, name = action.split(":")
    for entry in parliament.iam_definition:
        if entry["prefix"] == service:
            for privilege in entry["privileges"]:
                if privilege["privilege"] == name:
                    return [r["resource_type"] for r in privilege["resource_types"]]
    raise AssertionError(f"{action} unknown to parliament")


@pytest.mark.parametrize("name", POLICIES)
def test_resource_star_only_for_actions_without_resource_level_permission(name):
    starred = {
        a
        for s in rendered("prod")[name]["Statement"]
        if s["Effect"] == "Allow" and s["Resource"] == "*"
        for a in expanded_actions(s)
    }
    cited = set(re.findall(r"^\| `([a-z0-9-]+:\w+)` \|", README, flags=re.MULTILINE))

    assert starred, "a policy without Resource * would make this test vacuous"
    for action in starred:
        assert [t for t in _resource_types(action) if t] == [], action
        assert action in cited, f"{action}: cite the Service Authorization Reference"


# --- parliament ------------------------------------------------------------------------------


def policies_of(stack: str, role: str) -> list[tuple[str, dict[str, Any]]]:
    """The managed policies of one role, as render.py splits them for IAM."""
    _, names = iam_render.ROLES[role]
    return [(n, part) for n in names for part in iam_render.split(rendered(stack)[n])]


def trusts_github(trust: dict[str, Any]) -> bool:
    return GITHUB in json.dumps(trust)


@pytest.mark.parametrize("stack", STACKS)
def test_the_ci_roles_are_exactly_the_roles_github_can_assume(stack):
    docs = rendered(stack)
    github_roles = {
        role for role, (trust, _) in iam_render.ROLES.items() if trusts_github(docs[trust])
    }

    assert github_roles == set(iam_render.CI_ROLES) == {"deploy", "preview"}
    (statement,) = docs["permissions-admin-trust-policy.json"]["Statement"]
    assert statement["Principal"] == {"AWS": list(ADMINS)}
    assert statement["Action"] == "sts:AssumeRole"


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("role", ["deploy", "preview"])
def test_parliament_finds_nothing_in_any_ci_identity_policy(stack, role):
    """Every managed policy a CI role gets, whole and as IAM receives it (split)."""
    _, names = iam_render.ROLES[role]
    documents = [rendered(stack)[n] for n in names] + [p for _, p in policies_of(stack, role)]

    assert documents
    for document in documents:
        assert [(f.issue, f.detail, f.location) for f in findings(document)] == []


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("role", ["deploy", "preview"])
def test_no_ci_role_can_become_the_administrator(stack, role):
    """No CI identity may assume another role: the administrator's permissions are out of
    reach of a workflow, even one that runs arbitrary code with a CI role's session."""
    for name, policy in policies_of(stack, role):
        assuming = [a for s in policy["Statement"] for a in expanded_actions(s)]
        assert [a for a in assuming if a.startswith("sts:AssumeRole")] == [], name
        assert not allowing(policy, "iam:PassRole"), name


@pytest.mark.parametrize("stack", STACKS)
def test_parliament_names_the_permissions_management_only_in_the_administrators_policy(stack):
    (finding,) = findings(rendered(stack)[ADMIN_POLICY])

    assert finding.issue == "PERMISSIONS_MANAGEMENT_ACTIONS"
    assert set(finding.location["actions"]) == ADMIN_PERMISSIONS_MANAGEMENT


def test_parliament_gate_can_fail():
    escalation = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}
        ],
    }

    found = {(f.issue, f.location.get("type"), f.severity) for f in findings(escalation)}

    assert ("PRIVILEGE_ESCALATION", "CreateEC2WithExistingIP", "HIGH") in found


# --- the program creates exactly what the deploy role may create -------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_role_and_policy_of_the_program_fits_the_permissions_admin_role(stack, run_stack):
    recorder = run_stack(stack)
    policy = rendered(stack)[ADMIN_POLICY]
    (create,) = allowing(policy, "iam:CreateRole")
    (attach,) = allowing(policy, "iam:AttachRolePolicy")

    roles = recorder.of_type("aws:iam/role:Role")
    assert roles
    for role in roles:
        arn = f"arn:aws:iam::{ACCOUNT}:role{role.inputs['path']}{role.name}-1234567"
        assert fnmatch.fnmatchcase(arn, create["Resource"]), role.name
        assert role.inputs["permissionsBoundary"] == BOUNDARY, role.name
    for managed in recorder.of_type("aws:iam/policy:Policy"):
        assert managed.inputs["path"] == iam_path(stack), managed.name
    for attachment in recorder.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        arn = attachment.inputs["policyArn"]
        if arn.startswith("arn:aws:iam::aws:"):
            assert any(
                fnmatch.fnmatchcase(arn, p) for p in attach["Condition"]["ArnLike"]["iam:PolicyARN"]
            ), arn


@pytest.mark.parametrize("stack", STACKS)
def test_every_secret_and_parameter_of_the_program_fits_the_deploy_role(stack, run_stack):
    """Not only the `secrets` list: an example's own secret (the sidecar's certificate)
    must be creatable too, or CI's `pulumi up` fails half-way."""
    recorder = run_stack(stack)
    policy = rendered(stack)["deploy-policy.json"]
    (create_secret,) = allowing(policy, "secretsmanager:CreateSecret")
    secrets = recorder.of_type("aws:secretsmanager/secret:Secret")
    assert secrets
    for secret in secrets:
        arn = (
            f"arn:aws:secretsmanager:ap-southeast-1:{ACCOUNT}:secret:{secret.inputs['name']}-AbCdEf"
        )
        assert any(fnmatch.fnmatchcase(arn, p) for p in as_list(create_secret["Resource"])), arn
    parameters = recorder.of_type("aws:ssm/parameter:Parameter")
    if parameters:
        (put,) = allowing(policy, "ssm:PutParameter")
        for parameter in parameters:
            name = parameter.inputs["name"].lstrip("/")
            arn = f"arn:aws:ssm:ap-southeast-1:{ACCOUNT}:parameter/{name}"
            assert any(fnmatch.fnmatchcase(arn, p) for p in as_list(put["Resource"])), arn


# --- the secret fence: CI's policies keep their size however many secrets ------------------

SECRET_STATEMENTS = (
    ("deploy-policy.json", "secretsmanager:GetSecretValue"),
    ("deploy-policy.json", "secretsmanager:PutSecretValue"),
    ("deploy-policy.json", "secretsmanager:DeleteSecret"),
    ("preview-policy.json", "secretsmanager:DescribeSecret"),
)
PARAMETER_STATEMENTS = (
    ("deploy-policy.json", "ssm:GetParameter"),
    ("deploy-policy.json", "ssm:PutParameter"),
    ("preview-policy.json", "ssm:ListTagsForResource"),
)


def _secret_arn(secret: dict[str, Any]) -> str:
    """The ARN AWS gives a registered secret or parameter (a secret's random suffix)."""
    if secret["type"] == "ssmparameter":
        return f"arn:aws:ssm:ap-southeast-1:{ACCOUNT}:parameter/{secret['name'].lstrip('/')}"
    return f"arn:aws:secretsmanager:ap-southeast-1:{ACCOUNT}:secret:{secret['name']}-AbCdEf"


def _fence_problems(docs: dict[str, Any], secrets: list[dict[str, Any]]) -> list[str]:
    """Each (secret, statement) where a CI statement on secrets or parameters misses one."""
    missed = []
    for secret in secrets:
        arn = _secret_arn(secret)
        kind = PARAMETER_STATEMENTS if secret["type"] == "ssmparameter" else SECRET_STATEMENTS
        for name, action in kind:
            (statement,) = allowing(docs[name], action)
            if not any(fnmatch.fnmatchcase(arn, p) for p in as_list(statement["Resource"])):
                missed.append(f"{secret['name']}: {name} {action}")
    return missed


@pytest.mark.parametrize("stack", STACKS)
def test_the_fence_covers_every_secret_and_parameter_the_program_registers(stack):
    """Every statement CI's roles use on secrets reaches every secret the stack creates or
    imports: the `secrets` list's and each example's own (the sidecar's certificate)."""
    settings = iam_render.stack_settings(stack)

    assert settings["secrets"]
    assert _fence_problems(rendered(stack), settings["secrets"]) == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_fence_reaches_no_secret_of_another_stack_or_team(stack):
    docs = rendered(stack)
    prefix = iam_render.stack_settings(stack)["prefix"]
    strangers = [
        *({"name": f"eks-secrets-{o}/db", "type": t} for o in STACKS if o != stack for t in
          ("secretsmanager", "ssmparameter")),
        {"name": f"{prefix.rstrip('/')}-other/db", "type": "secretsmanager"},
        {"name": f"/{prefix.rstrip('/')}2/db", "type": "ssmparameter"},
        {"name": "payroll-db", "type": "secretsmanager"},
    ]  # fmt: skip

    missed = _fence_problems(docs, strangers)

    assert len(missed) == sum(
        len(PARAMETER_STATEMENTS if s["type"] == "ssmparameter" else SECRET_STATEMENTS)
        for s in strangers
    ), "every statement must miss every stranger"


def test_shipped_stacks_fences_do_not_overlap():
    """Two stacks in one account would each be allowed to change the other's secrets."""
    assert [p for stack in STACKS for p in iam_render.other_fences(stack)] == []


def test_overlapping_fences_are_named():
    problems = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(iam_render, "fence_of", lambda config, cluster: ("eks-secrets/", []))
        problems = iam_render.other_fences("dev")

    assert (
        "secretNamePrefix 'eks-secrets/' of stack 'dev' overlaps 'eks-secrets/' of stack 'prod': "
        "give each stack a prefix that is not the start of another's"
    ) in problems


@pytest.fixture(scope="module")
def scaled() -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
    """dev with 10 and with 250 apps (one or two secrets each, under the prefix), run under
    the mocks once each: (stack settings, rendered documents)."""
    from tools.scale import config_with_apps

    found = {}
    for count in (10, 250):
        settings = iam_render.stack_settings("dev", config_with_apps(count))
        docs = iam_render.render(
            "dev",
            account_id=ACCOUNT,
            repository=ORG_REPO,
            state_key_arn=STATE_KEY,
            admin_principal_arns=ADMINS,
            settings=settings,
        )
        found[count] = (settings, docs)
    return found


def test_a_250_app_stack_renders_ci_policies_within_iams_limits(scaled):
    settings, docs = scaled[250]

    assert len(settings["secrets"]) >= 250 + 125
    assert {s["type"] for s in settings["secrets"]} == {"secretsmanager", "ssmparameter"}
    assert iam_render.limit_problems(docs) == []
    for name in CI_POLICIES:
        assert all(iam_render.size(p) <= 6144 for p in iam_render.split(docs[name]))
    assert _fence_problems(docs, settings["secrets"]) == []


def test_ci_policy_size_does_not_grow_from_10_to_250_apps(scaled):
    (few_settings, few), (many_settings, many) = scaled[10], scaled[250]

    assert len(many_settings["secrets"]) > 20 * len(few_settings["secrets"])
    assert {n: iam_render.size(d) for n, d in many.items()} == {
        n: iam_render.size(d) for n, d in few.items()
    }


def _oversized_settings() -> dict[str, Any]:
    """dev's fence with 20 secrets kept outside it by names of 300 characters: each is an
    exact ARN in the statements on secrets, too many characters for one managed policy."""
    names = [f"legacy-{index:02d}-{'x' * 290}" for index in range(20)]
    return {
        "cluster": "eks-secrets-dev",
        "prefix": "eks-secrets-dev/",
        "outside": names,
        "secrets": [{"name": n, "type": "secretsmanager"} for n in names],
    }


def test_render_refuses_a_statement_over_the_managed_policy_limit_naming_it_and_the_fix():
    with pytest.raises(iam_render.PolicyLimitError) as caught:
        iam_render.render(
            "dev",
            account_id=ACCOUNT,
            repository=ORG_REPO,
            state_key_arn=STATE_KEY,
            admin_principal_arns=ADMINS,
            settings=_oversized_settings(),
        )

    problems = str(caught.value).split("\n")
    fix = (
        "IAM allows 6144 (IAM and AWS STS quotas, "
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). Fix: "
        "name the stack's secrets under its secretNamePrefix and list fewer or shorter names "
        "in secretNamesOutsidePrefix (each is one more exact ARN here)"
    )
    found = {re.sub(r"is \d+ characters", "is N characters", p) for p in problems}
    assert found == {
        f"{name}: statement {sid!r} (21 resources) is N characters as a managed policy of its "
        f"own; {fix}"
        for name, sid in (
            ("deploy-policy.json", "ReadTheStacksSecretsMetadata"),
            ("deploy-policy.json", "ManageOnlyTheStacksSecrets"),
            ("preview-policy.json", "ReadTheStacksSecretsMetadata"),
        )
    }


def test_render_py_exits_2_with_the_message_and_writes_nothing_over_a_limit(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(iam_render, "stack_settings", lambda stack, config: _oversized_settings())
    code = iam_render.main(
        [
            "--stack", "dev", "--account-id", ACCOUNT, "--repository", ORG_REPO,
            "--state-key-arn", STATE_KEY, "--admin-principal-arn", ADMINS[0],
            "--out", str(tmp_path / "out"),
        ]
    )  # fmt: skip

    assert code == 2
    assert "statement 'ManageOnlyTheStacksSecrets' (21 resources)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_role_quota_and_trust_policy_limits_are_refused_with_the_fix():
    docs = rendered("dev")
    big = {"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": ["x" * 5000]}
    docs[ADMIN_POLICY]["Statement"] += [{**big, "Sid": f"Big{i}"} for i in range(10)]
    principals = [f"arn:aws:iam::{ACCOUNT}:role/admins-{i:03d}" for i in range(60)]
    docs["permissions-admin-trust-policy.json"]["Statement"][0]["Principal"] = {"AWS": principals}

    problems = iam_render.limit_problems(docs)
    raised = iam_render.limit_problems(docs, managed_policies_per_role=20)

    assert [p.split(":")[0] for p in problems] == [
        "permissions-admin-trust-policy.json",
        "role permissions-admin",
    ]
    assert problems[1].startswith(
        "role permissions-admin: needs 13 managed policies (deploy-policy.json, "
        "permissions-admin-policy.json); a role takes 10"
    )
    assert "Fix: ask for the quota increase and pass --managed-policies-per-role" in problems[1]
    assert "a role's trust policy holds 2048" in problems[0]
    assert [p.split(":")[0] for p in raised] == ["permissions-admin-trust-policy.json"]


def test_render_py_never_asserts():
    """Under `python -O` an assert vanishes and a render would go on to write policies IAM
    rejects: every limit is a refusal, never an assert."""
    import ast

    tree = ast.parse((IAM_DIR / "render.py").read_text())

    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]


def test_referenced_secrets_are_never_called_so_ci_gets_no_access_to_them():
    """A secret or parameter referenced by existingArn (no import) is only passed on, to the
    reading workload's policy and SecretProviderClass: no resource, no invoke, so neither
    `pulumi preview` nor `up` asks AWS about it, and CI's policies do not name it."""
    from tests.stacks.configs import raw_config, stack_apps, stack_secrets
    from tools.pulumi_mocks import run_program

    secret = f"arn:aws:secretsmanager:ap-southeast-1:{ACCOUNT}:secret:shared/db-AbCdEf"
    parameter = f"arn:aws:ssm:ap-southeast-1:{ACCOUNT}:parameter/shared/url"
    config = raw_config(
        secrets=[
            *stack_secrets(),
            {"name": "shared/db", "existingArn": secret},
            {"name": "/shared/url", "type": "ssmparameter", "existingArn": parameter},
        ],
        apps=[*stack_apps(), {"name": "team-ref", "secrets": ["shared/db", "/shared/url"]}],
    )
    recorder = run_program("dev", config)
    docs = iam_render.render(
        "dev",
        account_id=ACCOUNT,
        repository=ORG_REPO,
        state_key_arn=STATE_KEY,
        admin_principal_arns=ADMINS,
        config=config,
    )

    read_policy = recorder.named("team-ref-secrets-read-policy").inputs["policy"]
    assert secret in read_policy and parameter in read_policy, "the workload reads them"
    assert [
        i.token for i in recorder.invokes if i.token.startswith(("aws:secretsm", "aws:ssm"))
    ] == []
    names = [r.inputs.get("name") for r in recorder.resources]
    assert "shared/db" not in names and "/shared/url" not in names
    text = json.dumps({n: docs[n] for n in CI_POLICIES})
    assert "shared/db" not in text and "shared/url" not in text
