"""The README stays true: its set-up commands, its config table, its links."""

import re
from pathlib import Path

from tools.config_table import config_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_config_table_matches_pulumi_yaml():
    table = README.split("<!-- config-table:start -->\n", 1)[1].split("<!-- config-table:end -->")[
        0
    ]
    assert table == config_table(), "run: .venv/bin/python -m tools.config_table"


def test_readme_has_exactly_two_setup_commands_and_ci_runs_them():
    setup = README.split("## Set up and test", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", setup, flags=re.MULTILINE)
    assert commands == ["make install", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make install$", ci, flags=re.MULTILINE)
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


def test_relative_links_in_the_readme_resolve():
    targets = re.findall(r"\]\(((?!https?://|#)[^)#\s]+)", README)
    assert targets
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert missing == []


def test_readme_secret_values_command_satisfies_the_dev_stack_as_shipped(monkeypatch, capsys):
    """The deploy section's `secretValues` snippet, run with answers typed at its prompts,
    gives exactly what dev as shipped needs (the fixture copy: a user who adds a secret adds
    its value too): `load` accepts it (no missing or extra secret)."""
    import getpass

    from stacks.load import load
    from tests.conftest import FIXTURES
    from tools.pulumi_mocks import PROJECT, stack_config

    deploy = README.split("<!-- section:deploy -->", 1)[1].split("<!-- /section:deploy -->")[0]
    snippet = re.search(r"secretValues \"\$\(\.venv/bin/python -c '\n(.*?)'\)\"", deploy, re.S)
    assert snippet, "the deploy section no longer sets secretValues with the python snippet"
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": f"typed-at-{prompt.strip()}")
    exec(compile(snippet.group(1), "README.md", "exec"), {})  # our own README
    config = stack_config("dev", directory=FIXTURES)
    config[f"{PROJECT}:secretValues"] = capsys.readouterr().out
    cfg = load(config.get, stack="dev", keys=list(config))
    created = sorted(s.name for s in cfg.secrets if s.is_created)
    assert created == ["demo-app-credentials", "demo-podid-credentials", "redis-password"]
