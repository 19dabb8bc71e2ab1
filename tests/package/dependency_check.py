"""Which loaded third-party modules the installed wheel does not declare.

The fresh virtualenv of these tests reaches every package of the repository's virtualenv
through a `.pth`, so an import of something undeclared (boto3, ruamel.yaml ...) would still
succeed there. An outside program copies this file beside itself and calls `undeclared()`
after it ran: every module loaded from a site-packages directory must be a file of the wheel's
distribution or of a distribution in the closure of its `Requires-Dist` (markers evaluated,
extras followed). Standard library only until the modules are listed; then `packaging` (or
the copy vendored in pip) evaluates the markers.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

DISTRIBUTION = "eks-secrets-platform"


def normalize(name: str) -> str:
    """PEP 503 name normalization."""
    return re.sub(r"[-_.]+", "-", name).lower()


def loaded_files(modules: Mapping[str, Any], site_dirs: Iterable[str]) -> dict[str, str]:
    """Module name -> real path of its file, for modules loaded from a site-packages dir."""
    roots = [os.path.realpath(d) + os.sep for d in site_dirs]
    found: dict[str, str] = {}
    for name, module in list(modules.items()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue
        path = os.path.realpath(file)
        if any(path.startswith(root) for root in roots):
            found[name] = path
    return found


def site_directories() -> list[str]:
    """The sys.path entries third-party code is installed in (the virtualenv's own and the
    one the `.pth` names)."""
    return [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]


def _packaging() -> tuple[Any, Any]:
    try:
        from packaging.markers import default_environment
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - only where packaging is not installed
        from pip._vendor.packaging.markers import default_environment  # type: ignore[no-redef]
        from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    return Requirement, default_environment


def closure(root: str) -> dict[str, metadata.Distribution]:
    """Normalized name -> distribution, for `root` and everything it requires, transitively."""
    requirement_type, default_environment = _packaging()
    environment = default_environment()
    found: dict[str, metadata.Distribution] = {}
    pending: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, extras = pending.pop()
        if (normalize(name), extras) in seen:
            continue
        seen.add((normalize(name), extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement not installed cannot own a loaded file
        found.setdefault(normalize(name), dist)
        for text in dist.requires or []:
            requirement = requirement_type(text)
            marker = requirement.marker
            wanted = marker is None or any(
                marker.evaluate({**environment, "extra": extra}) for extra in {"", *extras}
            )
            if wanted:
                pending.append((requirement.name, frozenset(requirement.extras)))
    return found


def owners() -> dict[str, str]:
    """Real path of every installed file -> normalized name of the distribution owning it."""
    owned: dict[str, str] = {}
    for dist in metadata.distributions():
        name = normalize(dist.metadata["Name"] or "")
        for file in dist.files or []:
            owned.setdefault(os.path.realpath(str(dist.locate_file(file))), name)
    return owned


def undeclared_in(
    files: Mapping[str, str], owned: Mapping[str, str], allowed: Iterable[str]
) -> list[str]:
    """`top-level module (distribution)`, once, for the loaded modules whose file belongs to a
    distribution outside `allowed` (or to none)."""
    allowed_names = {normalize(a) for a in allowed}
    problems = set()
    for module, path in files.items():
        owner = owned.get(path)
        if owner not in allowed_names:
            problems.add(f"{module.partition('.')[0]} ({owner or 'no distribution'})")
    return sorted(problems)


def undeclared(distribution: str = DISTRIBUTION) -> dict[str, Any]:
    """Check the modules loaded so far in this process against `distribution`'s requirements.

    Returns its `Requires-Dist` as installed, the closure and the offending modules.
    """
    files = loaded_files(sys.modules, site_directories())  # before packaging is imported
    allowed = closure(distribution)
    return {
        "requires": metadata.requires(distribution) or [],
        "location": str(metadata.distribution(distribution).locate_file("")),
        "closure": sorted(allowed),
        "checked_modules": len(files),
        "undeclared": undeclared_in(files, owners(), allowed),
    }
