"""The version is stated once (`eksplatform.__version__`); the changelog and every install
line in the docs follow it, so a release cannot leave the README pinning the old tag."""

from __future__ import annotations

import re
from pathlib import Path

from eksplatform import __version__

ROOT = Path(__file__).resolve().parents[2]
TAG = re.compile(r"@v(\d+\.\d+\.\d+)\b")
SEMVER = re.compile(r"\d+\.\d+\.\d+")


def _documents() -> list[Path]:
    found = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    found += sorted(p for p in (ROOT / "examples").rglob("*") if p.is_file())
    return found


def stale_tags(documents: dict[str, str], version: str) -> list[str]:
    """`name: @vX.Y.Z` for each release tag in `documents` (name to text) other than
    `v<version>`."""
    return [
        f"{name}: @v{found}"
        for name, text in documents.items()
        for found in TAG.findall(text)
        if found != version
    ]


def test_the_version_is_semver():
    assert SEMVER.fullmatch(__version__)


def test_every_install_line_pins_the_current_release():
    documents = {str(p.relative_to(ROOT)): p.read_text(errors="replace") for p in _documents()}
    assert stale_tags(documents, __version__) == []
    readme = (ROOT / "README.md").read_text()
    assert f"@v{__version__}" in readme


def test_the_check_finds_a_stale_tag():
    page = (
        'pip install "eks-secrets-platform @ git+https://x/y@v0.0.9"; pulumi package add y@v1.2.3'
    )
    assert stale_tags({"page.md": page}, "1.2.3") == ["page.md: @v0.0.9"]


def test_the_changelog_has_the_release_dated_under_unreleased():
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    assert headings[0] == ("Unreleased", "")
    assert headings[1][0] == __version__ and headings[1][1], headings[:2]


def test_the_pulumi_clis_own_install_gives_the_program_its_package():
    """With `toolchain: pip`, the Pulumi CLI (and every workflow) builds .venv from
    requirements.txt alone; the program imports `eksplatform`, so that file installs the
    project itself."""
    import yaml

    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["options"] == {"toolchain": "pip", "virtualenv": ".venv"}
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "-e ." in lines
