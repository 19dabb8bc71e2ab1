"""A table of stack files the Pulumi CLI refuses, or whose `secrets`/`apps` block the program
refuses, each with the one line a user gets: `file:line:column` (or the block's line and
column and the file's line) and the problem. The files are read as the CLI reads them
(`stacks.config.stack_file`): YAML 1.2, duplicate keys refused, types as Pulumi.yaml
declares them; `tools.check` prints these lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stacks.config.stack_file import StackFileError, config_strings
from stacks.config.yaml_loader import YamlError, load
from tools import check, render
from tools.pulumi_mocks import ROOT

GOOD = """\
# A small stack: one value of each declared type, two secrets, two apps.
config:
  aws:region: ap-southeast-1
  eks-secrets-platform:owner: platform-team
  eks-secrets-platform:availabilityZoneCount: 2
  eks-secrets-platform:enableSecretRotation: true
  eks-secrets-platform:nodeInstanceTypes: ["t3.large"]
  eks-secrets-platform:secrets: |
    - name: eks-secrets-qa/credentials
      namespace: qa-app
    - name: eks-secrets-qa/token
      namespace: qa-app
  eks-secrets-platform:apps: |
    - name: qa-app
      serviceAccount: qa-reader
      secrets: [eks-secrets-qa/credentials]
    - name: qa-other
      serviceAccount: qa-other-reader
      secrets: [eks-secrets-qa/token]
"""
NS = "eks-secrets-platform"


def edited(*edits: tuple[str, str]) -> str:
    text = GOOD
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def case(message: str, *edits: tuple[str, str]):
    return pytest.param(edited(*edits), message, id=message[:70])


CASES = [
    # --- YAML 1.2 scalars, and types as Pulumi.yaml declares them -----------------------
    case(
        f"Pulumi.qa.yaml:6:3: {NS}:enableSecretRotation = 'yes': Stack 'qa' with configuration "
        "key 'enableSecretRotation' must be of type 'boolean' (YAML 1.2: only true and false "
        "are booleans)",
        ("enableSecretRotation: true", "enableSecretRotation: yes"),
    ),
    case(
        f"Pulumi.qa.yaml:6:3: {NS}:enableSecretRotation = 'on': Stack 'qa' with configuration "
        "key 'enableSecretRotation' must be of type 'boolean' (YAML 1.2: only true and false "
        "are booleans)",
        ("enableSecretRotation: true", "enableSecretRotation: on"),
    ),
    case(
        f"Pulumi.qa.yaml:13:3: {NS}:apps = [{{'name': 'qa-app', 'serviceAccount': 'qa-reader', 'secre...: "
        "Stack 'qa' with configuration key 'apps' must be of type 'string' (a YAML document in "
        "a string key is written after `|`)",
        ("eks-secrets-platform:apps: |", "eks-secrets-platform:apps:"),
    ),
    case(
        f"Pulumi.qa.yaml:5:3: {NS}:availabilityZoneCount = 'two': Stack 'qa' with "
        "configuration key 'availabilityZoneCount' must be of type 'integer'",
        ("availabilityZoneCount: 2", "availabilityZoneCount: two"),
    ),
    case(
        f"Pulumi.qa.yaml:7:3: {NS}:nodeInstanceTypes = [3]: Stack 'qa' with configuration key "
        "'nodeInstanceTypes' must be of type 'array<string>'",
        ('nodeInstanceTypes: ["t3.large"]', "nodeInstanceTypes: [3]"),
    ),
    case(
        f"Pulumi.qa.yaml:7:3: {NS}:nodeInstanceTypes = 't3.large': Stack 'qa' with "
        "configuration key 'nodeInstanceTypes' must be of type 'array<string>'",
        ('nodeInstanceTypes: ["t3.large"]', "nodeInstanceTypes: t3.large"),
    ),
    case(
        f"Pulumi.qa.yaml:4:3: {NS}:secretValues is not encrypted: Stack 'qa' with configuration "
        "key 'secretValues' must be encrypted as it's secret (set it with `pulumi config set "
        "--secret secretValues`)",
        ("  eks-secrets-platform:owner", '  eks-secrets-platform:secretValues: "{}"\n  x:owner'),
    ),
    # --- duplicate keys: the CLI (yaml.v3) refuses them; PyYAML let the last one win ---------
    case(
        'Pulumi.qa.yaml:6:3: mapping key "eks-secrets-platform:availabilityZoneCount" already '
        "defined at line 5",
        (
            "  eks-secrets-platform:enableSecretRotation",
            "  eks-secrets-platform:availabilityZoneCount: 3\n  eks-secrets-platform:enableSecretRotation",
        ),
    ),
    case(
        'Pulumi.qa.yaml:20:1: mapping key "config" already defined at line 2',
        (
            "      secrets: [eks-secrets-qa/token]\n",
            "      secrets: [eks-secrets-qa/token]\nconfig:\n  aws:region: us-east-1\n",
        ),
    ),
    case(
        f"{NS}:apps = '<yaml>': must be a YAML list of mappings: line 4, column 3 of the block, "
        'Pulumi.qa.yaml line 17: mapping key "name" already defined at line 1',
        ("    - name: qa-other", "      name: qa-other"),
    ),
    case(
        f"{NS}:secrets = '<yaml>': must be a YAML list of mappings: line 3, column 3 of the "
        'block, Pulumi.qa.yaml line 11: mapping key "namespace" already defined at line 2',
        (
            "    - name: eks-secrets-qa/token",
            "      namespace: qa-other\n    - name: eks-secrets-qa/token",
        ),
    ),
    # --- syntax errors: where, in one line ---------------------------------------------
    case(
        "Pulumi.qa.yaml:8:3: expected ',' or ']', but got '<scalar>' (while parsing a flow "
        "sequence at line 7, column 43)",
        (
            'nodeInstanceTypes: ["t3.large"]',
            'nodeInstanceTypes: ["t3.large"\n  eks-secrets-platform:x: 1',
        ),
    ),
    case(
        f"{NS}:apps = '<yaml>': must be a YAML list of mappings: line 4, column 7 of the block, "
        "Pulumi.qa.yaml line 17: expected ',' or ']', but got ':' (while parsing a flow sequence "
        "at line 3, column 12)",
        ("secrets: [eks-secrets-qa/credentials]", "secrets: [eks-secrets-qa/credentials"),
    ),
    case(
        "Pulumi.qa.yaml:4:2: expected <block end>, but found '<block mapping start>' (while "
        "parsing a block mapping at line 2, column 1); check this line's indentation",
        ("  eks-secrets-platform:owner", " eks-secrets-platform:owner"),
    ),
    case(
        "Pulumi.qa.yaml:4:31: mapping values are not allowed here; check this line's indentation",
        ("  eks-secrets-platform:owner", "    eks-secrets-platform:owner"),
    ),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_bad_stack_file_is_refused_with_one_line_naming_where(tmp_path, monkeypatch, text, message):
    (tmp_path / "Pulumi.qa.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)  # as under `pulumi up`: the program finds the stack file here
    found = check.check("qa", tmp_path)
    assert message in found, "\n".join(found)
    if message.startswith("Pulumi.qa.yaml:"):
        assert found == [message]  # the CLI refuses the file: the program never runs


def test_the_good_stack_file_passes_and_reads_yes_as_a_string_where_a_string_is_declared(
    tmp_path,
):
    (tmp_path / "Pulumi.qa.yaml").write_text(edited(("owner: platform-team", "owner: yes")))
    assert check.check("qa", tmp_path) == []
    config = config_strings(tmp_path / "Pulumi.qa.yaml")
    assert config[f"{NS}:owner"] == "yes"
    assert config[f"{NS}:enableSecretRotation"] == "true"
    assert config[f"{NS}:availabilityZoneCount"] == "2"
    assert config[f"{NS}:nodeInstanceTypes"] == '["t3.large"]'


def test_every_type_problem_is_reported_not_only_the_first(tmp_path):
    (tmp_path / "Pulumi.qa.yaml").write_text(
        edited(
            ("enableSecretRotation: true", "enableSecretRotation: yes"),
            ("availabilityZoneCount: 2", "availabilityZoneCount: [2]"),
        )
    )
    with pytest.raises(StackFileError) as caught:
        config_strings(tmp_path / "Pulumi.qa.yaml")
    assert [p.split(":")[1] for p in caught.value.problems] == ["5", "6"]
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_a_block_error_names_no_file_line_when_the_value_is_not_the_files(tmp_path, monkeypatch):
    """`-c apps=...` gives another block than the file's: its line would be a lie."""
    (tmp_path / "Pulumi.qa.yaml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    found = check.check("qa", tmp_path, {f"{NS}:apps": "- name: a\n  name: b\n"})
    assert found == [
        f"{NS}:apps = '<yaml>': must be a YAML list of mappings: line 2, column 3 of the block: "
        'mapping key "name" already defined at line 1'
    ]


# --- the commands: make check / python -m tools.check, and tools.render --------------------


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_passes_a_good_stack_file_with_one_ok_line(tmp_path):
    (tmp_path / "Pulumi.qa.yaml").write_text(GOOD)
    done = run_check("--stack", "qa", "--dir", str(tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "Pulumi.qa.yaml: OK (stack file and every config rule)\n",
        "",
    )


def test_check_prints_every_problem_one_line_each_and_fails(tmp_path):
    (tmp_path / "Pulumi.qa.yaml").write_text(
        edited(
            ("owner: platform-team", "owner: team|a"),
            ("    - name: qa-other", "      name: qa-other"),
        )
    )
    done = run_check("--stack", "qa", "--dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{NS}:owner = 'team|a': must be a valid AWS tag value",
        f"{NS}:apps = '<yaml>': must be a YAML list of mappings: line 4, column 3 of the "
        'block, Pulumi.qa.yaml line 17: mapping key "name" already defined at line 1',
    ]


def test_check_prints_a_top_level_indentation_error_as_one_line(tmp_path):
    (tmp_path / "Pulumi.qa.yaml").write_text(
        edited(("  eks-secrets-platform:owner", " eks-secrets-platform:owner"))
    )
    done = run_check("--stack", "qa", "--dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Pulumi.qa.yaml:4:2: expected <block end>, but found '<block mapping start>' (while "
        "parsing a block mapping at line 2, column 1); check this line's indentation"
    ]


def test_check_without_the_stack_file_says_so_and_exits_2(tmp_path):
    done = run_check("--stack", "nope", "--dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == f"no stack file {tmp_path / 'Pulumi.nope.yaml'}; stacks: none\n"


def test_check_of_every_shipped_stack_passes():
    """Any valid stack passes: the shipped ones are valid (the suite runs them too)."""
    stacks = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    for stack in stacks:
        assert check.main(["--stack", stack, "--dir", str(ROOT)]) == 0, stack


def test_render_prints_a_stack_file_error_without_a_traceback(tmp_path, capsys):
    (tmp_path / "Pulumi.qa.yaml").write_text(
        edited(("  eks-secrets-platform:owner", " eks-secrets-platform:owner"))
    )
    out = str(tmp_path / "out")
    assert render.main(["--stack", "qa", "--directory", str(tmp_path), "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "Pulumi.qa.yaml:4:2: expected <block end>, but found '<block mapping start>' (while "
        "parsing a block mapping at line 2, column 1); check this line's indentation"
    ]
    assert not Path(tmp_path / "out").exists()


# --- the loader itself ----------------------------------------------------------------------


def test_loader_reads_yaml_1_2_scalars_as_the_pulumi_cli_does():
    data = load("a: yes\nb: no\nc: on\nd: off\ne: true\nf: false\ng: 2\nh: '2'\n")
    assert data == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": "off",
        "e": True,
        "f": False,
        "g": 2,
        "h": "2",
    }


def test_loader_names_the_first_definition_of_a_nested_duplicate_key():
    with pytest.raises(YamlError) as caught:
        load("a:\n  b: 1\n  c: 2\n  b: 3\n", "x.yaml")
    assert str(caught.value) == 'x.yaml:4:3: mapping key "b" already defined at line 2'
    assert (caught.value.line, caught.value.column) == (4, 3)


def test_values_the_cli_accepts_pass_the_type_check(tmp_path):
    """Integers as quoted text (strconv.Atoi reads them) and encrypted values pass, as with
    the CLI; only what `pulumi up` refuses is refused."""
    (tmp_path / "Pulumi.qa.yaml").write_text(
        edited(
            ("availabilityZoneCount: 2", 'availabilityZoneCount: "2"'),
            ("enableSecretRotation: true", "enableSecretRotation: 'false'"),
            (
                "  eks-secrets-platform:owner",
                "  eks-secrets-platform:secretValues:\n    secure: AAABAJxyz\n"
                "  eks-secrets-platform:owner",
            ),
        )
    )
    config = config_strings(tmp_path / "Pulumi.qa.yaml")
    assert config[f"{NS}:availabilityZoneCount"] == "2"
    assert config[f"{NS}:enableSecretRotation"] == "false"
    assert check.check("qa", tmp_path) == []
