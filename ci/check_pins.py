"""Every version pinned in components/versions.py, and an online check that each exists.

    python ci/check_pins.py --list            # the pins, one per line (offline)
    python ci/check_pins.py --check           # helm pull / docker manifest inspect each one
    python ci/check_pins.py --check --dry-run # print those commands instead of running them

The pins are found by introspecting the module, never listed here, so a pin added to
versions.py is checked without touching this file:
- every ChartPin (a value with `chart`, `version` and `repo`), also inside a dict, list or
  tuple bound at module level: `helm pull --repo <repo> <chart> --version <version>`;
- every module-level string named `*_IMAGE`: `docker manifest inspect <image>`;
- every module-level dict whose name contains `ADDON` (EKS add-on name -> version): listed,
  but not checked here, because `aws eks describe-addon-versions` needs AWS credentials and
  this job has none on purpose (docs/pins.md).
Standard library only: the pins job installs nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "components" / "versions.py"


@dataclass(frozen=True, order=True)
class Pin:
    kind: str
    """`chart`, `image` or `addon`."""
    name: str
    """The module-level name that holds it (with `[key]` inside a container)."""
    reference: str
    """chart: `<repo> <chart> <version>`; image: the image reference; addon: `<addon> <version>`."""

    def command(self, workdir: str) -> list[str] | None:
        """The command that proves the pin exists, or None when it needs AWS credentials."""
        if self.kind == "chart":
            repo, chart, version = self.reference.split(" ")
            return ["helm", "pull", "--repo", repo, chart, "--version", version, "-d", workdir]
        if self.kind == "image":
            return ["docker", "manifest", "inspect", self.reference]
        return None


def load_versions(path: Path = VERSIONS) -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("_pinned_versions", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _is_chart(value: Any) -> bool:
    return all(isinstance(getattr(value, f, None), str) for f in ("chart", "version", "repo"))


def _members(name: str, value: Any) -> list[tuple[str, Any]]:
    """The value itself, or the items of a module-level dict, list or tuple."""
    if isinstance(value, dict):
        return [(f"{name}[{k!r}]", v) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return [(name, value)]


def pins(module: ModuleType | None = None) -> list[Pin]:
    module = module or load_versions()
    found: set[Pin] = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, type | ModuleType):
            continue
        for where, member in _members(name, value):
            if _is_chart(member):
                ref = f"{member.repo.rstrip('/')} {member.chart} {member.version}"
                found.add(Pin("chart", where, ref))
        if name.endswith("_IMAGE") and isinstance(value, str):
            found.add(Pin("image", name, value))
        if "ADDON" in name.upper() or _is_addon(value):
            found.update(_addon_pins(name, value))
    return sorted(found)


def _is_addon(value: Any) -> bool:
    return "addon" in type(value).__name__.lower() and hasattr(value, "version")


def _addon_pins(where: str, value: Any, addon: str = "") -> list[Pin]:
    """An add-on version table in any of the shapes it may take: name -> version, Kubernetes
    version -> (name -> version), a list of pins, or pin objects with `version`."""
    if isinstance(value, str):
        return [Pin("addon", where, f"{addon or where} {value}")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _addon_pins(f"{where}[{k!r}]", v, str(k))]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _addon_pins(f"{where}[{i}]", v, addon)]
    version = getattr(value, "version", None)
    if isinstance(version, str) and not _is_chart(value):
        name = getattr(value, "name", None) or getattr(value, "addon", None) or addon or where
        return [Pin("addon", where, f"{name} {version}")]
    return []


def check(found: list[Pin], *, dry_run: bool) -> int:
    failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for pin in found:
            command = pin.command(workdir)
            if command is None:
                print(f"SKIP {pin.kind} {pin.reference} ({pin.name}): needs AWS credentials")
                continue
            if dry_run:
                print(" ".join(command))
                continue
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            status = "ok" if result.returncode == 0 else "MISSING"
            print(f"{status} {pin.kind} {pin.reference} ({pin.name})")
            if result.returncode:
                failed += 1
                print(result.stderr.strip(), file=sys.stderr)
    print(f"{len(found)} pins, {failed} missing")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--list", action="store_true", help="print the pins")
    action.add_argument("--check", action="store_true", help="prove each pin exists online")
    parser.add_argument("--dry-run", action="store_true", help="with --check: print commands")
    args = parser.parse_args(argv)
    found = pins()
    if args.list:
        for pin in found:
            print(f"{pin.kind}\t{pin.name}\t{pin.reference}")
        return 0
    return check(found, dry_run=args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
