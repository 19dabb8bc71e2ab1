"""The CI roles' IAM documents in ci/iam: valid, least privilege, and linted by parliament.

The trust policies are checked by evaluating their conditions against sample GitHub OIDC
tokens; the permission policies by expanding their wildcards into concrete actions.
"""

from __future__ import annotations

import fnmatch
import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # parliament imports pkg_resources
    import parliament

IAM_DIR = Path(__file__).resolve().parent.parent / "ci" / "iam"
PREVIEW_TRUST = "github-oidc-trust-policy.json"
DEPLOY_TRUST = "github-oidc-deploy-trust-policy.json"
PREVIEW = "preview-policy.json"
DEPLOY = "deploy-policy.json"
TRUST_POLICIES = (PREVIEW_TRUST, DEPLOY_TRUST)
IDENTITY_POLICIES = (PREVIEW, DEPLOY)
GITHUB = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::<ACCOUNT_ID>:oidc-provider/{GITHUB}"
REPO = "repo:<ORG>/<REPO>"
PROJECT_TAG = {"aws:ResourceTag/project": "eks-secrets-platform"}
READ_VERBS = ("Describe", "Get", "List")
MUTATING_VERBS = (
    "Add", "Allocate", "Associate", "Attach", "Authorize", "Cancel", "Create", "Delete",
    "Deregister", "Detach", "Disable", "Disassociate", "Enable", "Encrypt", "Generate",
    "Import", "Modify", "Pass", "Put", "Register", "Release", "Remove", "Replace", "Reset",
    "Restore", "Revoke", "Rotate", "Run", "Schedule", "Set", "Start", "Stop", "Tag",
    "Terminate", "Untag", "Update", "Upload",
)  # fmt: skip
SEVERE = {"MEDIUM", "HIGH", "CRITICAL"}

# parliament findings accepted for the deploy policy, each with the reason it is acceptable.
ACCEPTED_DEPLOY_FINDINGS = {
    # MEDIUM. `pulumi up` must create the cluster and node roles, the IRSA roles and their
    # policies, the cluster's OIDC provider and the KMS key policy. Creation needs the
    # project request tag, changes need the project resource tag, PassRole is limited to two
    # role-name prefixes and to eks.amazonaws.com, and a Deny keeps the CI roles out of reach.
    ("PERMISSIONS_MANAGEMENT_ACTIONS", None),
    # HIGH as a pattern, but scoped here: iam:CreatePolicyVersion is needed to update the
    # IRSA read policies in place and applies only to policies tagged with the project; the
    # policies of the CI roles themselves are excluded by the explicit Deny statement.
    ("PRIVILEGE_ESCALATION", "CreateNewPolicyVersion"),
}


def load(name: str) -> dict[str, Any]:
    return json.loads((IAM_DIR / name).read_text())


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def expanded_actions(statement: dict[str, Any]) -> list[str]:
    """Concrete actions of a statement: `ec2:Describe*` becomes every ec2:Describe... action."""
    found = []
    for action in as_list(statement["Action"]):
        found += [f"{a['service']}:{a['action']}" for a in parliament.expand_action(action)]
    return found


def verb(action: str) -> str:
    return action.split(":", 1)[1]


def allows(trust: dict[str, Any], claims: dict[str, str]) -> bool:
    """Whether some Allow statement's conditions all hold for a token with these claims.

    Covers the operators the trust policies use; a claim missing from the token fails its
    condition, as in IAM.
    """
    for statement in trust["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        ok = True
        for operator, conditions in statement["Condition"].items():
            for key, expected in conditions.items():
                actual = claims.get(key.removeprefix(f"{GITHUB}:"))
                if operator == "StringEquals":
                    ok &= actual in as_list(expected)
                elif operator == "StringLike":
                    ok &= actual is not None and any(
                        fnmatch.fnmatchcase(actual, pattern) for pattern in as_list(expected)
                    )
                else:
                    raise AssertionError(f"operator {operator} not covered by this test")
        if ok:
            return True
    return False


def token(sub: str, **claims: str) -> dict[str, str]:
    return {"aud": "sts.amazonaws.com", "sub": sub, **claims}


def severe_findings(policy_text: str) -> list[tuple[str, Any, str]]:
    policy = parliament.analyze_policy_string(policy_text, include_community_auditors=True)
    findings = [parliament.enhance_finding(f) for f in policy.findings]
    return [(f.issue, f.location.get("type"), f.severity) for f in findings]


@pytest.fixture(scope="module", autouse=True)
def community_auditor_severities():
    """parliament's CLI loads these severities with --include-community-auditors; do the same."""
    parliament.override_config(
        Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
    )


def test_ci_iam_holds_exactly_the_documented_files():
    assert {p.name for p in IAM_DIR.glob("*.json")} == {*TRUST_POLICIES, *IDENTITY_POLICIES}
    readme = (IAM_DIR / "README.md").read_text()
    for name in (*TRUST_POLICIES, *IDENTITY_POLICIES):
        assert f"`{name}`" in readme


@pytest.mark.parametrize("name", [*TRUST_POLICIES, *IDENTITY_POLICIES])
def test_policy_is_valid_iam_json(name):
    policy = load(name)

    assert set(policy) == {"Version", "Statement"}
    assert policy["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids)), "Sids must be unique"
    for statement in policy["Statement"]:
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
        assert statement["Effect"] in ("Allow", "Deny")
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
        for action in as_list(statement["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", action), action


@pytest.mark.parametrize("name", IDENTITY_POLICIES)
def test_identity_policies_have_resources_and_no_principal(name):
    for statement in load(name)["Statement"]:
        assert "Principal" not in statement
        assert as_list(statement["Resource"])


@pytest.mark.parametrize("name", TRUST_POLICIES)
def test_trust_policy_federates_github_and_pins_the_audience(name):
    (statement,) = load(name)["Statement"]

    assert statement["Principal"] == {"Federated": PROVIDER}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert "Resource" not in statement
    assert statement["Condition"]["StringEquals"][f"{GITHUB}:aud"] == "sts.amazonaws.com"
    assert as_list(statement["Condition"]["StringLike"][f"{GITHUB}:sub"])[0].startswith(f"{REPO}:")


def test_preview_trust_accepts_only_pull_requests_of_this_repository():
    trust = load(PREVIEW_TRUST)

    assert allows(trust, token(f"{REPO}:pull_request"))
    assert not allows(trust, token(f"{REPO}:ref:refs/heads/main", ref="refs/heads/main"))
    assert not allows(trust, token(f"{REPO}:environment:production"))
    assert not allows(trust, token("repo:<ORG>/other-repo:pull_request"))
    assert not allows(trust, {**token(f"{REPO}:pull_request"), "aud": "https://github.com/x"})


def test_deploy_trust_accepts_only_environment_jobs_on_main():
    trust = load(DEPLOY_TRUST)
    main = {"ref": "refs/heads/main"}

    for environment in ("dev", "staging", "production"):
        sub = f"{REPO}:environment:{environment}"
        assert allows(trust, token(sub, environment=environment, **main))
    assert not allows(trust, token(f"{REPO}:pull_request", **main))
    assert not allows(trust, token(f"{REPO}:ref:refs/heads/main", **main))
    assert not allows(
        trust,
        token(f"{REPO}:environment:production", environment="production", ref="refs/heads/x"),
    )
    assert not allows(trust, token(f"{REPO}:environment:sandbox", environment="sandbox", **main))
    assert not allows(
        trust,
        token("repo:<ORG>/other:environment:production", environment="production", **main),
    )


def test_preview_policy_never_reads_secret_values_or_changes_anything():
    policy = load(PREVIEW)
    actions = [a for s in policy["Statement"] for a in expanded_actions(s)]

    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert "secretsmanager:GetSecretValue" not in actions
    assert [a for a in actions if verb(a).startswith(MUTATING_VERBS)] == []
    assert len(actions) > 100, "wildcards were expanded"


def test_preview_policy_only_reads_except_decrypting_stack_config():
    for statement in load(PREVIEW)["Statement"]:
        others = [a for a in expanded_actions(statement) if not verb(a).startswith(READ_VERBS)]
        if others:
            # The awskms secrets provider must decrypt the stack's config to run a preview;
            # only with the one key tagged for that purpose.
            assert others == ["kms:Decrypt"]
            assert statement["Condition"]["StringEquals"] == {
                **PROJECT_TAG,
                "aws:ResourceTag/purpose": "pulumi-state-secrets",
            }


def test_deploy_policy_fences_every_change_by_tag_or_name():
    for statement in load(DEPLOY)["Statement"]:
        if statement["Effect"] == "Deny":
            continue
        mutating = [a for a in expanded_actions(statement) if not verb(a).startswith(READ_VERBS)]
        if not mutating:
            continue
        scoped_by_name = "*" not in as_list(statement["Resource"]) and all(
            not r.endswith(":*") for r in as_list(statement["Resource"])
        )
        assert "Condition" in statement or scoped_by_name, statement["Sid"]


def test_deploy_policy_reads_secret_values_only_of_project_secrets():
    statements = [
        s
        for s in load(DEPLOY)["Statement"]
        if "secretsmanager:GetSecretValue" in expanded_actions(s)
    ]

    assert len(statements) == 1
    assert statements[0]["Condition"] == {"StringEquals": PROJECT_TAG}


def test_deploy_policy_passes_roles_only_to_eks_by_name_or_project_tag():
    passing = {
        s["Condition"]["StringEquals"]["iam:PassedToService"]: s
        for s in load(DEPLOY)["Statement"]
        if s["Effect"] == "Allow" and "iam:PassRole" in expanded_actions(s)
    }

    assert set(passing) == {"eks.amazonaws.com", "pods.eks.amazonaws.com"}
    assert all(s["Action"] == "iam:PassRole" for s in passing.values())
    # The control plane and node roles, by the Pulumi names of the components' roles.
    assert passing["eks.amazonaws.com"]["Resource"] == [
        "arn:aws:iam::*:role/cluster-service-role-*",
        "arn:aws:iam::*:role/nodes-role-*",
    ]
    # EKS Pod Identity roles, named by each workload: only those tagged with the project.
    pods = passing["pods.eks.amazonaws.com"]["Condition"]["StringEquals"]
    assert pods["aws:ResourceTag/project"] == "eks-secrets-platform"


def test_deploy_role_cannot_change_the_ci_roles():
    denies = [s for s in load(DEPLOY)["Statement"] if s["Effect"] == "Deny"]
    denied = {a for s in denies for a in expanded_actions(s)}

    assert {"iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"} <= denied
    assert {"iam:CreatePolicyVersion", "iam:PassRole", "iam:DeleteRole"} <= denied
    assert "arn:aws:iam::*:role/github-actions-eks-secrets-platform-*" in denies[0]["Resource"]
    assert "github-actions-eks-secrets-platform-$role" in (IAM_DIR / "README.md").read_text()


def test_parliament_finds_nothing_severe_in_the_preview_policy():
    findings = severe_findings((IAM_DIR / PREVIEW).read_text())

    assert [f for f in findings if f[2] in SEVERE] == []


def test_parliament_finds_nothing_severe_but_the_accepted_in_the_deploy_policy():
    findings = severe_findings((IAM_DIR / DEPLOY).read_text())
    severe = {(issue, kind) for issue, kind, severity in findings if severity in SEVERE}
    normalized = {(i, k if i == "PRIVILEGE_ESCALATION" else None) for i, k in severe}

    assert normalized - ACCEPTED_DEPLOY_FINDINGS == set()


def test_parliament_gate_can_fail():
    escalation = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PassAnyRoleToNewInstances",
                    "Effect": "Allow",
                    "Action": ["iam:PassRole", "ec2:RunInstances"],
                    "Resource": "*",
                }
            ],
        }
    )

    findings = severe_findings(escalation)

    assert ("PRIVILEGE_ESCALATION", "CreateEC2WithExistingIP", "HIGH") in findings
