"""What Pulumi.yaml declares: every key, its type and its default.

Pulumi.yaml is what users read, so it is the one place a default lives; the reader takes
defaults from here and nothing in Python repeats them.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.config.yaml_loader import load

PROJECT = "eks-secrets-platform"
PROJECT_FILE = Path(__file__).resolve().parents[2] / "Pulumi.yaml"


@dataclass(frozen=True)
class Declaration:
    """One key under `config:` in Pulumi.yaml."""

    name: str
    type: str
    description: str
    default: Any = None
    """None only for keys without a default (the secret `secretValues`)."""
    secret: bool = False
    items: dict[str, Any] | None = None
    """An array's `items:` declaration (`{"type": "string"}`), else None."""


@functools.cache
def declarations() -> dict[str, Declaration]:
    """Every declared key of this project, by short name (no `eks-secrets-platform:`).
    Pulumi.yaml is read as the CLI reads it (YAML 1.2, a duplicate key refused)."""
    project = load(PROJECT_FILE.read_text(encoding="utf-8-sig"), PROJECT_FILE.name)
    return {
        name: Declaration(
            name=name,
            type=decl["type"],
            description=" ".join(str(decl.get("description", "")).split()),
            default=decl.get("default"),
            secret=bool(decl.get("secret", False)),
            items=decl.get("items"),
        )
        for name, decl in (project.get("config") or {}).items()
        if ":" not in name
    }


def default(name: str) -> Any:
    """The default Pulumi.yaml gives `name`; a KeyError names an undeclared key."""
    return declarations()[name].default


def undeclared(keys: Iterable[str]) -> list[str]:
    """A problem for each project key that Pulumi.yaml does not declare, with the closest
    declared key: a typo such as `clusterVersion` must fail, not be silently ignored."""
    known = sorted(declarations())
    problems = []
    for key in sorted(keys):
        namespace, _, name = key.rpartition(":")
        if namespace != PROJECT or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {PROJECT}:{close[0]}?" if close else ""
        problems.append(f"{key} is not a key of this project (Pulumi.yaml declares none){hint}")
    return problems
