"""What a change does to a stack, offline: `python -m tools.diff A B --stack dev`.

A and B are each a render directory (`make render` output, it has inventory.json), a project
checkout (a directory with Pulumi.yaml: its stack is rendered), or a git revision (its tree
is exported to a temporary directory and rendered there, with that revision's own code).
The output lists every resource added, removed and changed, with the changed fields, and
the apps added or removed, so a reviewer sees what a config change does before `pulumi
preview` has credentials. Secret values never reach a render, so never reach the diff.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MISSING = "(absent)"


@dataclass
class Change:
    """One resource that differs, by `(type, name)`."""

    type: str
    name: str
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)
    """(dotted path, before, after) of each changed leaf."""


@dataclass
class RenderDiff:
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[Change]
    apps_added: list[str]
    apps_removed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def load_render(directory: Path) -> dict[str, Any]:
    """inventory.json with each resource's written files read back into it: a Kubernetes
    object or Helm release as `manifest`, an IAM document as `documents.<file name>`."""
    inventory = json.loads((directory / "inventory.json").read_text())
    for resource in inventory.get("resources") or []:
        if resource.get("file"):
            resource["manifest"] = yaml.safe_load((directory / resource["file"]).read_text())
        for path in resource.get("files") or []:
            documents = resource.setdefault("documents", {})
            documents[Path(path).name] = json.loads((directory / path).read_text())
    return inventory


def _fields(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            found += _fields(before.get(key, MISSING), after.get(key, MISSING), sub)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            found += _fields(b, a, f"{path}[{i}]")
        return found
    return [] if before == after else [(path, before, after)]


def diff_inventories(before: dict[str, Any], after: dict[str, Any]) -> RenderDiff:
    """Resources matched by (type, name), as Pulumi names them; everything the render
    records of a resource (inputs, file, parent, protect, dependencies) is compared."""

    def index(inventory: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["type"], r["name"]): r for r in inventory.get("resources") or []}

    old, new = index(before), index(after)
    changed = []
    for key in sorted(old.keys() & new.keys()):
        fields = _fields(old[key], new[key])
        if fields:
            changed.append(Change(*key, fields))

    def apps(inventory: dict[str, Any]) -> set[str]:
        return set(((inventory.get("stackOutputs") or {}).get("apps") or {}).keys())

    return RenderDiff(
        added=[new[k] for k in sorted(new.keys() - old.keys())],
        removed=[old[k] for k in sorted(old.keys() - new.keys())],
        changed=changed,
        apps_added=sorted(apps(after) - apps(before)),
        apps_removed=sorted(apps(before) - apps(after)),
    )


def _short(value: Any, limit: int = 80) -> str:
    text = MISSING if value == MISSING else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_diff(diff: RenderDiff, before: str, after: str) -> str:
    lines = [
        f"{before} -> {after}: {len(diff.added)} to add, {len(diff.changed)} to change, "
        f"{len(diff.removed)} to remove"
    ]
    lines += [f"  apps added: {', '.join(diff.apps_added)}"] if diff.apps_added else []
    lines += [f"  apps removed: {', '.join(diff.apps_removed)}"] if diff.apps_removed else []
    for r in diff.added:
        where = f"  ({r['file']})" if r.get("file") else ""
        lines.append(f"+ {r['type']}  {r['name']}{where}")
    for change in diff.changed:
        lines.append(f"~ {change.type}  {change.name}")
        lines += [f"    {p}: {_short(b)} -> {_short(a)}" for p, b, a in change.fields]
    for r in diff.removed:
        lines.append(f"- {r['type']}  {r['name']}")
    return "\n".join(lines)


def _render_project(project: Path, stack: str, out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "tools.render", "--stack", stack, "--out", str(out)],
        cwd=project,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"rendering {stack} in {project} failed:\n{done.stderr.strip()}")
    return out


def export_revision(revision: str, target: Path, repository: Path = ROOT) -> Path:
    """The tree of a git revision written to `target` (no worktree, no checkout)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision],
        cwd=repository,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip()
        raise SystemExit(f"{revision!r} is not a render directory, project or revision: {message}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


def resolve(source: str, stack: str, scratch: Path) -> Path:
    """A render directory for `source` (see the module docstring)."""
    path = Path(source)
    if (path / "inventory.json").is_file():
        return path
    label = "".join(c if c.isalnum() else "-" for c in source)
    if (path / "Pulumi.yaml").is_file():
        return _render_project(path.resolve(), stack, scratch / f"render-{label}")
    tree = export_revision(source, scratch / f"tree-{label}")
    # The exported tree has no `../shared` beside it; rendering needs no chart archive.
    return _render_project(tree, stack, scratch / f"render-{label}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.diff",
        description="What changes between two renders of a stack: resources added, changed "
        "(with the fields) and removed. Each side is a render directory, a project "
        "directory or a git revision.",
    )
    parser.add_argument("before", help="render directory, project directory or git revision")
    parser.add_argument("after", help="render directory, project directory or git revision")
    parser.add_argument("--stack", default="dev", help="stack to render (default dev)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stack-diff-") as scratch:
        before = resolve(args.before, args.stack, Path(scratch))
        after = resolve(args.after, args.stack, Path(scratch))
        diff = diff_inventories(load_render(before), load_render(after))
    print(format_diff(diff, args.before, args.after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
