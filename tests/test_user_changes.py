"""The suite is about the program, not about the shipped stack files: a user who follows the
README (a team's app added to dev, a new `qa` stack copied from staging) keeps it green.

The proof works in a copy of the repository: it edits the copy's stack files as a user
would, then runs there, in a fresh process, every test module that reads the shipped stack
files (SHIPPED_STACK_TESTS, kept complete by the test below it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.conftest import FIXTURES, ROOT
from tools.pulumi_mocks import PROJECT

README = ROOT / "README.md"
APPS_PAGE = ROOT / "docs" / "apps.md"
SHIPPED_STACK_TESTS = (
    "tests/stacks/test_program.py",
    "tests/stacks/test_stack_files.py",
    "tests/validation",
    "tests/test_ci_network_path.py",
)
"""Every test module that runs over the shipped `Pulumi.<stack>.yaml` files."""


NOT_THE_PROJECT = {".git", ".venv", ".venv-tools", "node_modules", "build", "__pycache__"}


def _tracked_files() -> list[str]:
    """git's tracked and new files; outside a git checkout (an unpacked archive) every file
    but virtual environments, caches and build output."""
    done = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode == 0:
        return [p for p in done.stdout.split("\0") if p and (ROOT / p).is_file()]
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in NOT_THE_PROJECT and not d.endswith("_cache")]
        here = Path(folder)
        found += [str((here / f).relative_to(ROOT)) for f in files if not (here / f).is_symlink()]
    return found


def copy_repository(target: Path, *, installed: bool = False) -> Path:
    """The project's tracked (and new, not ignored) files copied into `target/repo`, its
    stack files those of a fresh clone (the fixture stacks: whatever the user's own are
    now, even with the README's example already added); the read-only chart archives
    beside it (`../shared`) are linked, never changed."""
    repo = target / "repo"
    for path in _tracked_files():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, repo / path)
    for stack_file in repo.glob("Pulumi.*.yaml"):
        stack_file.unlink()
    # Only the fixtures of shipped stacks: the others (`existing`) are no file a clone has.
    for stack_file in FIXTURES.glob("Pulumi.*.yaml"):
        if (ROOT / stack_file.name).exists():
            shutil.copy2(stack_file, repo / stack_file.name)
    # With `installed`, what make install puts beside the tracked files (an npm tool, the
    # chart archives), linked: a test that commits the copy leaves them out.
    for folder in ("tests/iam_eval/node_modules", ".charts") if installed else ():
        if (ROOT / folder).is_dir():
            (repo / folder).symlink_to(ROOT / folder, target_is_directory=True)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (target / "shared").symlink_to(shared, target_is_directory=True)
    return repo


def readme_onboarding_example() -> dict[str, str]:
    """The onboarding snippet of the page the README links for it (docs/apps.md): the lines
    of each list it adds to, by config key."""
    section = APPS_PAGE.read_text()
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    current = ""
    for line in block.splitlines(keepends=True):
        found = re.match(rf"  ({re.escape(PROJECT)}:\w+): \|", line)
        if found:
            current = found.group(1)
            entries[current] = ""
        elif current:
            entries[current] += line
    return entries


def append_to_list(text: str, key: str, lines: str) -> str:
    """`lines` appended to the block scalar `key: |` of a stack file, as a user edits it."""
    head, rest = text.split(f"  {key}: |\n", 1)
    body = rest.splitlines(keepends=True)
    end = 0
    for i, line in enumerate(body):
        if line.startswith("    "):
            end = i + 1
        elif line.strip():
            break
    return head + f"  {key}: |\n" + "".join(body[:end]) + lines + "".join(body[end:])


def add_readme_app_to_dev(repo: Path) -> None:
    """README "Put an application on the platform" on dev: the entries, the header's
    `secretValues` example, and the encrypted value `pulumi config set --secret` writes."""
    path = repo / "Pulumi.dev.yaml"
    text = path.read_text()
    for key, lines in readme_onboarding_example().items():
        text = append_to_list(text, key, lines)
    text = text.replace(
        '#       "redis-password": "<another strong password>"}\'',
        '#       "redis-password": "<another strong password>",\n'
        '#       "eks-secrets-dev/payments-db": {"url": "<the database URL>"}}\'',
    )
    text += f"  {PROJECT}:secretValues:\n    secure: v1:Zm9vYmFyYmF6:ZW5jcnlwdGVkLWJ5LXB1bHVtaQ==\n"
    path.write_text(text)


def add_qa_stack(repo: Path) -> None:
    """A `qa` stack as a user adds one (docs/environments.md): staging's file copied, with
    its own VPC range, CI runner and deploy role, and its own secret."""
    text = (repo / "Pulumi.staging.yaml").read_text()
    for old, new in (
        ("# staging: prod's shape", "# qa: prod's shape"),
        ("pulumi up -s staging", "pulumi up -s qa"),
        ("10.50.0.0/16", "10.70.0.0/16"),
        ("eks-secrets-platform-staging", "eks-secrets-platform-qa"),
        ("192.0.2.16/28", "192.0.2.48/28"),
        ("eks-secrets-staging/", "eks-secrets-qa/"),
        (
            "secretNamesOutsidePrefix:\n    - staging-app-credentials\n",
            "secretNamesOutsidePrefix: []\n",
        ),
        ("staging-app-credentials", "eks-secrets-qa/app-credentials"),
        ('"username": "staging"', '"username": "qa"'),
    ):
        assert old in text, f"Pulumi.staging.yaml no longer has {old!r}: update this test"
        text = text.replace(old, new)
    (repo / "Pulumi.qa.yaml").write_text(text)


def test_the_readme_example_app_and_a_qa_stack_keep_the_shipped_stack_checks_green(tmp_path):
    repo = copy_repository(tmp_path, installed=True)
    add_readme_app_to_dev(repo)
    add_qa_stack(repo)
    dev = yaml.safe_load((repo / "Pulumi.dev.yaml").read_text())["config"]
    assert "name: payments" in dev[f"{PROJECT}:apps"]
    assert "podLabels: {app: payments}" in dev[f"{PROJECT}:apps"]
    assert "payments-db" in dev[f"{PROJECT}:secrets"]

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    checkov = ROOT / ".venv-tools" / "bin" / "checkov"
    if checkov.exists():
        env.setdefault("CHECKOV_BIN", str(checkov))
    started = time.monotonic()
    render = subprocess.run(
        [sys.executable, "-m", "tools.render", "--stack", "qa", "--out", str(tmp_path / "qa")],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert render.returncode == 0, render.stderr
    assert "Stack qa:" in render.stdout
    done = subprocess.run(
        # The fixture stacks' tests (`fixture` in their names or ids) cannot see the
        # user's edits: they run in the suite itself, not again here (~50 s instead of ~100).
        [
            sys.executable,
            "-m",
            "pytest",
            *SHIPPED_STACK_TESTS,
            "-v",
            "-p",
            "no:cacheprovider",
            "-k",
            "not fixture",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    took = time.monotonic() - started
    failed = [line for line in done.stdout.splitlines() if " FAILED" in line or " ERROR" in line]
    tail = "\n".join([*failed, *done.stdout.splitlines()[-30:]])
    assert done.returncode == 0, tail + done.stderr[-2000:]
    for stack in ("dev", "qa"):
        assert f"test_objects_pass_the_checks_schemas_miss[{stack}-selector targets] PASSED" in (
            done.stdout
        ), f"the gate did not run over {stack}"
    print(f"README onboarding + qa: render and shipped-stack checks took {took:.1f} s")


def test_every_module_that_reads_the_shipped_stacks_is_in_the_proof():
    """A module parametrised by tests.conftest.STACKS or by the gate's `rendered` stacks
    must run in the proof above, or a user's change could break it unseen."""
    listed = [ROOT / p for p in SHIPPED_STACK_TESTS]
    missing = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text()
        reads_shipped = re.search(r"from tests\.conftest import [^\n]*\bSTACKS\b", text) or (
            re.search(r"def test_\w+\([^)]*\brendered\b", text)
        )
        if reads_shipped and not any(path == p or p in path.parents for p in listed):
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []
