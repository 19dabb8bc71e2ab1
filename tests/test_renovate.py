"""renovate.json covers every pin: its regex managers, applied here as Renovate applies them
(JavaScript named groups, `recursive` strategy), find every chart, image and add-on build
of components/versions.py, and its pip manager covers both requirements files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eksplatform import versions

from tests.conftest import PIN, requirement_lines

ROOT = Path(__file__).resolve().parent.parent
CONFIG = json.loads((ROOT / "renovate.json").read_text())
VERSIONS = ROOT / "components" / "versions.py"


def _file_patterns(manager: dict) -> list[re.Pattern[str]]:
    """`managerFilePatterns` entries are `/regex/` (or globs, which this config does not use)."""
    patterns = manager.get("managerFilePatterns") or manager.get("fileMatch") or []
    return [re.compile(p.strip("/")) for p in patterns]


def _python_regex(js: str) -> re.Pattern[str]:
    return re.compile(js.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!"))


def extract(manager: dict, text: str) -> list[dict[str, str]]:
    """What a regex custom manager extracts from `text`: one dict of groups per dependency."""
    patterns = [_python_regex(m) for m in manager["matchStrings"]]
    if manager.get("matchStringsStrategy") == "recursive":
        found: list[dict[str, str]] = []

        def walk(chunk: str, level: int, groups: dict[str, str]) -> None:
            for match in patterns[level].finditer(chunk):
                merged = {**groups, **{k: v for k, v in match.groupdict().items() if v}}
                if level == len(patterns) - 1:
                    found.append(merged)
                else:
                    walk(match.group(0), level + 1, merged)

        walk(text, 0, {})
        return found
    return [m.groupdict() for p in patterns for m in p.finditer(text)]


def _regex_managers_for(path: str) -> list[dict]:
    return [m for m in CONFIG["customManagers"] if any(p.search(path) for p in _file_patterns(m))]


def renovate_deps(path: str = "components/versions.py") -> dict[str, set[tuple[str, str]]]:
    """Datasource -> {(depName or packageName, currentValue)} found in versions.py."""
    text = (ROOT / path).read_text()
    deps: dict[str, set[tuple[str, str]]] = {}
    for manager in _regex_managers_for(path):
        for groups in extract(manager, text):
            name = groups["depName"]
            if "kubernetesVersion" in groups:
                name = f"{groups['kubernetesVersion']}/{name}"
            deps.setdefault(manager["datasourceTemplate"], set()).add(
                (name, groups["currentValue"])
            )
    return deps


def pins_in_versions() -> dict[str, set[tuple[str, str]]]:
    """Every pin by introspection, in the shapes another job relies on: ChartPin instances,
    module-level `*_IMAGE` strings, EKS_ADDON_VERSIONS[kubernetes version][add-on]."""
    charts = {
        (v.chart, v.version) for v in vars(versions).values() if isinstance(v, versions.ChartPin)
    }
    images = {
        tuple(value.rsplit(":", 1))
        for name, value in vars(versions).items()
        if name.endswith("_IMAGE") and isinstance(value, str)
    }
    addons = {
        (f"{k8s}/{addon}", build)
        for k8s, row in versions.EKS_ADDON_VERSIONS.items()
        for addon, build in row.items()
    }
    return {"helm": charts, "docker": images, "aws-eks-addon": addons}


def test_every_pin_in_versions_py_is_matched_by_a_renovate_manager():
    found = renovate_deps()
    for datasource, pins in pins_in_versions().items():
        assert pins, datasource
        assert found.get(datasource, set()) == pins, datasource


def test_chart_pins_carry_their_repository_to_renovate():
    manager = next(m for m in CONFIG["customManagers"] if m["datasourceTemplate"] == "helm")
    extracted = extract(manager, VERSIONS.read_text())
    repos = {(g["depName"], g["registryUrl"]) for g in extracted}
    expected = {
        (v.chart, v.repo) for v in vars(versions).values() if isinstance(v, versions.ChartPin)
    }
    assert repos == expected


def test_addon_package_names_are_the_datasource_filter():
    manager = next(
        m for m in CONFIG["customManagers"] if m["datasourceTemplate"] == "aws-eks-addon"
    )
    template = manager["packageNameTemplate"]
    rendered = template.replace("{{{kubernetesVersion}}}", "1.35").replace(
        "{{{depName}}}", "coredns"
    )
    assert json.loads(rendered) == {"kubernetesVersion": "1.35", "addonName": "coredns"}


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-tools.txt"])
def test_pip_manager_covers_the_requirements_files(name):
    assert "pip_requirements" in CONFIG["enabledManagers"]
    patterns = _file_patterns(CONFIG["pip_requirements"])
    assert any(p.search(name) for p in patterns)
    lines = requirement_lines((ROOT / name).read_text())
    pins = [line for line in lines if line != "-e ."]  # but the project itself
    assert pins and all(PIN.fullmatch(p) for p in pins), pins


def test_a_pin_outside_the_managed_shapes_would_be_caught(tmp_path):
    """An image written another way (not a module-level *_IMAGE string) is not extracted."""
    manager = next(m for m in CONFIG["customManagers"] if m["datasourceTemplate"] == "docker")
    text = 'X = 1\nNGINX_IMAGE = "nginx:1.2.3"\nimages = {"redis": "redis:8"}\n'
    assert [(g["depName"], g["currentValue"]) for g in extract(manager, text)] == [
        ("nginx", "1.2.3")
    ]
