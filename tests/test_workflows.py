"""The GitHub Actions workflows: schema-valid, pinned, keyless, and doing what the docs say.

The schema check runs check-jsonschema with its vendored GitHub workflow schema, so it needs
no network; the subprocess gets a dead proxy so that any attempt to go online would fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.y*ml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
PINNED = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+\.\d+\.\d+|[0-9a-f]{40})")
STACKS = ["dev", "staging", "prod"]
ENVIRONMENTS = {"dev": "dev", "staging": "staging", "prod": "production"}
INSTALL = re.compile(r"make install|pip install .*-r requirements\.txt")
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOW_DIR / name).read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """PyYAML reads the bare key `on` as the boolean True (YAML 1.1)."""
    return workflow.get("on", workflow.get(True))


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").split("@")[0] == action]


def only_step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    steps = steps_using(job, action)
    assert len(steps) == 1, f"expected one {action} step, found {len(steps)}"
    return steps[0]


def all_uses(workflow: dict[str, Any]) -> list[str]:
    found = []
    for job in workflow["jobs"].values():
        if "uses" in job:
            found.append(job["uses"])
        found.extend(s["uses"] for s in job.get("steps", []) if "uses" in s)
    return found


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert CHECK_JSONSCHEMA.exists(), f"{CHECK_JSONSCHEMA} missing: run `make install`"
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE},
        timeout=120,
        check=False,
    )


def test_the_three_workflows_exist():
    assert {p.name for p in WORKFLOWS} == {"pull-request.yml", "deploy.yml", "destroy.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_the_github_workflow_schema(path):
    result = check_jsonschema(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_gate_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  checks:\n"  # no runs-on
        "    permissions:\n"
        "      id-token: writ\n"  # not read, write or none
        "    steps:\n"
        "      - run: make test\n"
    )

    result = check_jsonschema(broken)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schema validation errors were encountered" in result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_version_or_sha(path):
    uses = all_uses(yaml.safe_load(path.read_text()))

    assert uses, "a workflow without actions would make this test vacuous"
    assert [u for u in uses if not PINNED.fullmatch(u)] == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_long_lived_aws_keys(path):
    text = path.read_text().lower()

    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "aws_secret_access_key"):
        assert forbidden not in text
    assert "aws_access_key_id" not in text


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_aws_jobs_use_oidc_and_least_privilege_token(path):
    workflow = yaml.safe_load(path.read_text())

    assert workflow["permissions"] == {}, "default token permissions must be empty"
    for name, job in workflow["jobs"].items():
        for step in steps_using(job, "aws-actions/configure-aws-credentials"):
            assert job["permissions"]["id-token"] == "write", name
            assert job["permissions"]["contents"] == "read", name
            assert re.fullmatch(
                r"\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}", step["with"]["role-to-assume"]
            )


def _uses_python_deps(step: dict[str, Any]) -> bool:
    run = step.get("run", "")
    return (
        "make test" in run
        or ".venv/bin/python" in run
        or step.get("uses", "").startswith("pulumi/actions@")
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_python_dependencies_are_installed_in_their_own_step_first(path):
    checked = 0
    for name, job in yaml.safe_load(path.read_text())["jobs"].items():
        steps = job.get("steps", [])
        users = [i for i, s in enumerate(steps) if _uses_python_deps(s)]
        if not users:
            continue
        installs = [i for i, s in enumerate(steps) if re.search(INSTALL, s.get("run", ""))]
        assert len(installs) == 1, f"{name}: install dependencies in exactly one step"
        install = steps[installs[0]]
        assert install.get("name") == "Install dependencies", name
        assert not any(other in install["run"] for other in ("make test", "pytest", "pulumi "))
        assert installs[0] < min(users), f"{name}: a step needs the dependencies before install"
        checked += 1
    assert checked, "no job installs Python dependencies"


def test_pull_request_checks_run_make_test_on_python_3_11():
    workflow = load("pull-request.yml")
    job = workflow["jobs"]["checks"]

    assert "pull_request" in triggers(workflow)
    python = only_step_using(job, "actions/setup-python")
    assert python["with"]["python-version"] == "${{ env.PYTHON_VERSION }}"
    assert workflow["env"]["PYTHON_VERSION"] == "3.11"
    install = next(s for s in job["steps"] if s.get("name") == "Install dependencies")
    assert install["run"].strip() == "make install"
    assert [s["run"].strip() for s in job["steps"] if "run" in s][-1] == "make test"


def test_preview_job_comments_a_preview_of_every_stack_except_for_forks():
    job = load("pull-request.yml")["jobs"]["preview"]

    assert job["needs"] == "checks"
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert job["permissions"] == {
        "id-token": "write",
        "contents": "read",
        "pull-requests": "write",
    }
    assert re.fullmatch(
        r"github\.event\.pull_request\.head\.repo\.full_name == github\.repository", job["if"]
    )
    aws = only_step_using(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    pulumi = only_step_using(job, "pulumi/actions")["with"]
    assert pulumi["command"] == "preview"
    assert pulumi["comment-on-pr"] is True
    assert pulumi["work-dir"] == "."
    assert pulumi["stack-name"] == "${{ vars.PULUMI_ORG }}/${{ matrix.stack }}"


def test_deploy_promotes_dev_then_staging_then_prod_through_environments():
    workflow = load("deploy.yml")
    jobs = workflow["jobs"]

    assert triggers(workflow) == {"push": {"branches": ["main"]}}
    assert [jobs[s]["needs"] for s in STACKS] == ["checks", "dev", "staging"]
    for stack in STACKS:
        job = jobs[stack]
        assert job["environment"] == ENVIRONMENTS[stack]
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        aws = only_step_using(job, "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        pulumi = only_step_using(job, "pulumi/actions")["with"]
        assert pulumi["command"] == "up"
        assert pulumi["stack-name"] == f"${{{{ vars.PULUMI_ORG }}}}/{stack}"


def test_destroy_needs_typed_confirmation_and_keeps_protected_prod_resources():
    workflow = load("destroy.yml")
    inputs = triggers(workflow)["workflow_dispatch"]["inputs"]
    jobs = workflow["jobs"]

    assert inputs["stack"]["type"] == "choice"
    assert inputs["stack"]["options"] == STACKS
    assert inputs["confirm"]["required"] is True
    check = jobs["confirm"]["steps"][0]
    assert check["env"] == {"STACK": "${{ inputs.stack }}", "CONFIRM": "${{ inputs.confirm }}"}
    assert '"$CONFIRM" != "$STACK"' in check["run"] and "exit 1" in check["run"]

    destroy = jobs["destroy"]
    assert destroy["needs"] == "confirm"
    assert destroy["concurrency"]["group"] == "pulumi-${{ inputs.stack }}"
    assert destroy["concurrency"]["cancel-in-progress"] is False
    assert "'production'" in destroy["environment"]
    pulumi = only_step_using(destroy, "pulumi/actions")["with"]
    assert pulumi["command"] == "destroy"
    assert re.fullmatch(r"\$\{\{ inputs\.stack == 'prod' \}\}", pulumi["exclude-protected"])


def test_destroy_then_fails_on_leftovers():
    steps = load("destroy.yml")["jobs"]["destroy"]["steps"]
    names = [s.get("name") for s in steps]
    leftovers = steps[names.index("Check for leftovers")]

    assert names.index("Check for leftovers") > names.index("pulumi destroy")
    assert "scripts/find_leftovers.py" in leftovers["run"]
    assert '--stack "$STACK" --region "$REGION"' in leftovers["run"]
    assert leftovers["run"].rstrip().endswith('exit "$code"')
    assert (ROOT / "scripts" / "find_leftovers.py").exists()
