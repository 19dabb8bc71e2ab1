"""Reviewing a change: `make diff` (tools/diff.py) names what a config change adds, changes
and removes, between two renders or two git commits; the render summary lists each app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, fixture
from tests.test_user_changes import add_readme_app_to_dev, copy_repository
from tools import diff as diff_module
from tools.diff import diff_inventories, format_diff, load_render
from tools.pulumi_mocks import PROJECT
from tools.render import Render, render

PAYMENTS = {
    f"{PROJECT}:apps": (
        "- {name: secrets-demo, serviceAccount: nginx-secrets-reader, "
        "secrets: [demo-app-credentials], workload: nginx-demo, formerly: demo}\n"
        "- {name: secrets-demo-podid, serviceAccount: nginx-podid-reader, "
        "identity: pod-identity, secrets: [demo-podid-credentials], workload: nginx-demo, "
        "formerly: podid-demo}\n"
        "- {name: payments, secrets: [redis-password]}\n"
    )
}


@pytest.fixture(scope="module")
def base(stack_runs) -> Render:
    return stack_runs.render(fixture("dev"))


def _render(tmp_path: Path, overrides: dict[str, str]) -> Render:
    return render("dev", tmp_path, overrides=overrides, directory=FIXTURES)


def test_an_added_app_is_listed_with_its_new_resources_and_nothing_removed(base, tmp_path):
    after = _render(tmp_path, PAYMENTS)
    diff = diff_inventories(load_render(base.out), load_render(after.out))

    assert diff.apps_added == ["payments"] and diff.apps_removed == []
    assert diff.removed == []
    assert sorted(r.get("file", r["name"]) for r in diff.added if "file" in r) == [
        "k8s/_cluster/Namespace-payments.yaml",
        "k8s/payments/LimitRange-container-defaults.yaml",
        "k8s/payments/NetworkPolicy-allow-dns-egress.yaml",
        "k8s/payments/NetworkPolicy-default-deny.yaml",
        "k8s/payments/ResourceQuota-namespace-quota.yaml",
        "k8s/payments/SecretProviderClass-payments.yaml",
        "k8s/payments/ServiceAccount-payments.yaml",
    ]
    aws = {(r["type"], r["name"]) for r in diff.added if r["type"].startswith("aws:")}
    assert aws == {
        ("aws:iam/policy:Policy", "payments-secrets-read-policy"),
        ("aws:iam/role:Role", "payments-secrets-irsa-role"),
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "payments-secrets-irsa-policy-0"),
    }
    text = format_diff(diff, "before", "after")
    assert text.startswith(f"before -> after: {len(diff.added)} to add, ")
    assert "apps added: payments" in text
    assert "\n+ kubernetes:core/v1:ServiceAccount  payments" in text


def test_a_changed_value_is_one_change_naming_the_field(base, tmp_path):
    after = _render(tmp_path, {f"{PROJECT}:rotationPollInterval": "5m"})
    diff = diff_inventories(load_render(base.out), load_render(after.out))

    assert diff.added == [] and diff.removed == []
    (driver,) = [c for c in diff.changed if c.name == "secrets-store-driver"]
    assert [(p, b, a) for p, b, a in driver.fields if p.endswith("rotationPollInterval")] == [
        ("manifest.values.rotationPollInterval", "2m", "5m")
    ]
    assert '    manifest.values.rotationPollInterval: "2m" -> "5m"' in format_diff(diff, "a", "b")


def test_the_same_render_twice_is_no_change(base):
    assert diff_inventories(load_render(base.out), load_render(base.out)).empty


def test_a_removed_resource_and_field_are_reported():
    before = {
        "resources": [{"type": "t", "name": "a", "inputs": {"x": 1}}, {"type": "t", "name": "b"}]
    }
    after = {"resources": [{"type": "t", "name": "a", "inputs": {}}]}
    diff = diff_inventories(before, after)
    assert [r["name"] for r in diff.removed] == ["b"]
    assert diff.changed[0].fields == [("inputs.x", 1, diff_module.MISSING)]
    assert format_diff(diff, "a", "b").splitlines()[-1] == "- t  b"


def test_diff_between_two_git_commits_renders_each_commit(tmp_path):
    """A reviewer's `make diff A=main B=HEAD`: each commit is exported and rendered with
    its own code; the README's onboarding example shows up as an added app."""
    repo = copy_repository(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "before"], check=True)
    add_readme_app_to_dev(repo)
    subprocess.run([*git, "commit", "-q", "-am", "payments"], check=True)

    done = subprocess.run(
        [sys.executable, "-m", "tools.diff", "HEAD~1", "HEAD", "--stack", "dev"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert "apps added: payments" in done.stdout
    assert "to remove" in done.stdout.splitlines()[0] and " 0 to remove" in done.stdout
    assert (
        "+ aws:secretsmanager/secret:Secret  secret-eks-secrets-dev-payments-db-secret"
        in done.stdout
    )
    assert "test-value-of" not in done.stdout


def test_something_that_is_neither_render_project_nor_revision_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="is not a render directory, project or revision"):
        diff_module.resolve("no-such-revision-xyz", "dev", tmp_path)


def test_the_summary_lists_each_app_with_namespace_identity_role_and_secrets(base):
    lines = base.summary().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("APP "))
    assert lines[header].split() == ["APP", "NAMESPACE", "IDENTITY", "ROLE", "SECRETS"]
    rows = [line.split() for line in lines[header + 1 : header + 3]]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("secrets-demo", "secrets-demo", "irsa", "demo-app-credentials"),
        ("secrets-demo-podid", "secrets-demo-podid", "pod-identity", "demo-podid-credentials"),
    ]
    assert rows[0][3].startswith("secrets-demo-secrets-irsa-role")
