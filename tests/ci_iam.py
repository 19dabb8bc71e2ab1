"""The CI IAM documents rendered for the tests (ci/iam/render.py with a sample account,
repository, state key and administrators), once per stack per session, and what the tests
ask of a policy: its concrete actions, the statements allowing one, parliament's findings.
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path
from typing import Any

from ci.iam import render as iam_render
from tools.pulumi_mocks import ACCOUNT

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # parliament imports pkg_resources
    import parliament

ORG_REPO = "my-org/eks-secrets-platform"
STATE_KEY = f"arn:aws:kms:ap-southeast-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMINS = (f"arn:aws:iam::{ACCOUNT}:role/platform-admins", f"arn:aws:iam::{ACCOUNT}:user/alice")


@functools.cache
def _rendered(stack: str) -> str:
    """Rendering runs the program under mocks: once per stack, handed out as copies."""
    return json.dumps(
        iam_render.render(
            stack,
            account_id=ACCOUNT,
            repository=ORG_REPO,
            state_key_arn=STATE_KEY,
            admin_principal_arns=ADMINS,
        )
    )


def rendered(stack: str) -> dict[str, dict[str, Any]]:
    return json.loads(_rendered(stack))


def as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def expanded_actions(statement: dict[str, Any]) -> list[str]:
    """Concrete actions of a statement: `ec2:Describe*` becomes every ec2:Describe... action."""
    found = []
    for action in as_list(statement["Action"]):
        found += [f"{a['service']}:{a['action']}" for a in parliament.expand_action(action)]
    return found


def allowing(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [
        s for s in document["Statement"] if s["Effect"] == "Allow" and action in expanded_actions(s)
    ]


@functools.cache
def _community_auditor_severities() -> None:
    """parliament's CLI loads these severities with --include-community-auditors; do the same."""
    parliament.override_config(
        Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
    )


def findings(document: dict[str, Any]) -> list[Any]:
    """parliament's findings, community auditors included, as its CLI reports them."""
    _community_auditor_severities()
    policy = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True)
    return [parliament.enhance_finding(f) for f in policy.findings]
