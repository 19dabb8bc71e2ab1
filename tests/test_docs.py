"""The README and docs/ stay true: the set-up commands, the generated pages, the links, and
pages that say what they are for."""

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pulumi
import pytest
from eksplatform import versions

from tools import docs
from tools.config_table import config_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PAGES = sorted((ROOT / "docs").glob("*.md"))


def test_config_reference_matches_pulumi_yaml():
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert docs.region(page, "config-table") == config_table(), (
        "run: .venv/bin/python -m tools.docs"
    )


@pytest.mark.parametrize("page", sorted(docs.GENERATED), ids=str)
def test_generated_page_equals_what_the_generator_writes_now(page):
    name, generate = docs.GENERATED[page]
    text = (ROOT / page).read_text()
    assert docs.region(text, name) == generate(), "run: .venv/bin/python -m tools.docs"


def test_regenerating_replaces_only_the_marked_part_and_notices_a_change():
    page = "# Title\n\nPurpose.\n\n<!-- t:start -->\nold\n<!-- t:end -->\nafter\n"
    fresh = docs.with_region(page, "t", "new\n")
    assert fresh == "# Title\n\nPurpose.\n\n<!-- t:start -->\nnew\n<!-- t:end -->\nafter\n"
    assert docs.with_region(fresh, "t", "new\n") == fresh
    with pytest.raises(ValueError, match="markers"):
        docs.with_region("no markers", "t", "x")


def _public_components() -> list[tuple[type, type | None]]:
    """(component class, its Args dataclass) of every ComponentResource in components/."""
    found = []
    for path in sorted((ROOT / "components").rglob("*.py")):
        if path.name == "provider.py":  # hosted adapters: test_component_reference_lists_hosted
            continue
        module_name = ".".join(
            ("eksplatform", *path.relative_to(ROOT / "components").with_suffix("").parts)
        )
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, pulumi.ComponentResource)
                and cls.__module__ == module_name
                and not cls.__name__.startswith("_")
            ):
                args = inspect.signature(cls.__init__).parameters.get("args")
                hint = args.annotation if args else None
                args_cls = getattr(module, hint, None) if isinstance(hint, str) else hint
                found.append((cls, args_cls))
    return found


def test_component_reference_lists_every_component_with_every_input_and_output():
    reference = docs.component_reference()
    components = _public_components()
    assert len(components) >= 20
    for cls, args in components:
        section = reference.split(f"### {cls.__name__}\n", 1)[1].split("\n### ", 1)[0]
        assert args is not None and dataclasses.is_dataclass(args), cls.__name__
        for field in dataclasses.fields(args):
            assert re.search(rf"^\| `{field.name}` \| `[^`]+` \| ", section, re.M), (
                f"{cls.__name__}.{field.name}"
            )
        assert "Outputs: " in section


def test_component_reference_lists_every_component_hosted_for_other_languages():
    from eksplatform import provider

    reference = docs.component_reference()
    assert provider.HOSTED
    for cls in provider.HOSTED:
        assert f"| `eksplatform:index:{cls.__name__}` | `{cls.__name__}` |" in reference


def test_component_reference_shows_type_default_and_docstring_of_a_field():
    section = docs.component_reference().split("### IrsaRole\n", 1)[1].split("\n### ", 1)[0]
    assert "type `eksplatform:identity:IrsaRole` · args `IrsaRoleArgs`" in section
    assert (
        "| `policy_arns` | `Sequence[pulumi.Input[str]]` | `()` | IAM policy ARNs attached to "
        "the role. Default: none (the role can do nothing). |"
    ) in section
    assert "| `namespace` | `pulumi.Input[str]` | *required* |" in section
    assert "| `create_service_account` | `bool` | `True` |" in section
    assert "Outputs: `role_arn` (`pulumi.Output[str]`)." in section


def test_pins_table_lists_every_pin_with_the_evidence_beside_it():
    table = docs.pins_table()
    rows = {r.split(" | ")[0].strip("| `"): r for r in table.splitlines() if r.startswith("| `")}
    images = {n: v for n, v in vars(versions).items() if n.endswith("_IMAGE")}
    charts = {n: v for n, v in vars(versions).items() if isinstance(v, versions.ChartPin)}
    assert images and charts
    for name, image in images.items():
        assert f"`{image.rpartition(':')[2]}`" in rows[name]
    for name, chart in charts.items():
        assert f"`{chart.version}`" in rows[name] and chart.repo in rows[name]
    for name in [*images, *charts, "EKS_STANDARD_SUPPORT"]:
        assert "Evidence" in rows[name], f"{name} shows no evidence"
    for builds in versions.EKS_ADDON_VERSIONS.values():
        assert all(f"`{build}`" in table for build in builds.values())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_doc_page_has_a_title_then_one_line_saying_what_it_is_for(page):
    lines = page.read_text().splitlines()
    assert lines[0].startswith("# ") and lines[1] == "" and lines[3] == "", page.name
    assert lines[2] and not lines[2].startswith(("#", "|", "-", "`", "<")), page.name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_doc_pages_speak_of_using_the_project_not_of_how_it_was_built(page):
    history = re.compile(
        r"\bseeds? \d|\bthe seeds\b|\bissue \d|\bstop \d|\bsession \d|\bbefore issue", re.I
    )
    assert history.findall(page.read_text()) == []


def test_readme_fits_on_a_few_screens_and_names_every_prerequisite():
    assert len(README.splitlines()) <= 250
    setup = README.split("## Set up and test", 1)[1].split("\n## ", 1)[0]
    for prerequisite in ("Python 3.11+", "`make`", "Node.js 20+", "`npm`", "`git`"):
        assert prerequisite in setup


def test_readme_draws_what_it_builds_in_mermaid_not_ascii_art():
    picture = README.split("<!-- section:diagram -->", 1)[1].split("<!-- /section:diagram -->")[0]
    assert "```mermaid\nflowchart" in picture
    assert not re.search(r"[\u2500-\u257f]", picture), "box-drawing characters"


def test_readme_offers_the_three_ways_to_use_it():
    ways = README.split("## Three ways to use it", 1)[1].split("\n## ", 1)[0]
    for way in ("A new cluster", "An existing cluster", "Your own program or stack"):
        assert f"**{way}**" in ways


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


def test_readme_links_every_doc_page():
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", README))
    assert linked == {p.name for p in PAGES}


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
