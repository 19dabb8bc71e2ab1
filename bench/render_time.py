"""Render time of a stack as a ratio to the floor any render pays, median of N fresh runs.

The floor is a fresh Python process that imports the Pulumi SDKs the program uses and runs an
empty program under the same mocks. The SDKs load their modules lazily, so "the SDKs the
program uses" means the SDK modules of every resource type the stack registers (read from a
warm-up render's inventory); the bare top-level imports, alone and with the empty program,
are printed too, for comparison. The
render is the documented command (`python -m tools.render --stack dev`) in a fresh process.
Every sample is a new process, so interpreter start-up and imports count in all of them. The
floors disable the cyclic GC as the render does; the import-only line does not.

    python bench/render_time.py [--stack dev] [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDKS = ("pulumi", "pulumi_aws", "pulumi_eks", "pulumi_kubernetes", "pulumi_tls")

FLOOR = """
import gc, importlib, sys, tempfile
gc.disable()  # as the render does (tools/render.py), so the floor is like for like
from pathlib import Path
sys.path.insert(0, {root!r})
for module in {modules!r}:
    importlib.import_module(module)
from tools.pulumi_mocks import run_program, stack_config
empty = Path(tempfile.mkdtemp()) / "__main__.py"
empty.write_text("")
assert run_program({stack!r}, stack_config({stack!r}), program=empty).resources == []
"""


def sdk_module(type_token: str) -> str | None:
    """The SDK module a resource type lives in: aws:iam/role:Role -> pulumi_aws.iam."""
    package, module, _ = type_token.split(":")
    if package == "aws":
        return f"pulumi_aws.{module.split('/')[0]}"
    if package in ("eks", "tls"):
        return f"pulumi_{package}"
    if package == "pulumi" and module == "providers":
        return f"pulumi_{type_token.rsplit(':', 1)[-1]}"
    if package == "kubernetes":
        group, _, version = module.rpartition("/")
        candidate = f"pulumi_kubernetes.{group.split('.')[0]}.{version}"
        try:
            if importlib.util.find_spec(candidate) is not None:
                return candidate
        except ModuleNotFoundError:
            pass
        return "pulumi_kubernetes.apiextensions"  # a custom resource
    return None


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def _samples(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    render_command = [sys.executable, "-m", "tools.render", "--stack", args.stack, "--out"]
    with tempfile.TemporaryDirectory() as out:
        _wall([*render_command, out])  # warm-up (disk caches), and the types it registers
        inventory = json.loads((Path(out) / "inventory.json").read_text())
        modules = sorted(
            {m for r in inventory["resources"] if (m := sdk_module(r["type"]))} | set(SDKS)
        )
        bare = FLOOR.format(root=str(ROOT), stack=args.stack, modules=list(SDKS))
        floor = FLOOR.format(root=str(ROOT), stack=args.stack, modules=modules)
        imports = f"import {', '.join(SDKS)}"
        imported, bares, floors, renders = [], [], [], []
        for _ in range(args.runs):  # interleaved, so drift affects all alike
            imported.append(_wall([sys.executable, "-c", imports]))
            bares.append(_wall([sys.executable, "-c", bare]))
            floors.append(_wall([sys.executable, "-c", floor]))
            renders.append(_wall([*render_command, out]))
    import_s, bare_s, floor_s, render_s = (
        statistics.median(v) for v in (imported, bares, floors, renders)
    )
    print(
        f"stack {args.stack}: {inventory['resourceCount']} resources; "
        f"{args.runs} fresh processes each, wall-clock seconds, median"
    )
    print(f"imports      {import_s:5.2f}s  python -c '{imports}' [{_samples(imported)}]")
    print(
        f"bare floor   {bare_s:5.2f}s  top-level SDK imports + empty program under mocks "
        f"[{_samples(bares)}]"
    )
    print(
        f"floor        {floor_s:5.2f}s  + the {len(modules) - len(SDKS)} SDK modules of the "
        f"stack's resource types [{_samples(floors)}]"
    )
    print(
        f"render       {render_s:5.2f}s  python -m tools.render --stack {args.stack} "
        f"[{_samples(renders)}]"
    )
    print(
        f"ratio render/floor {render_s / floor_s:.2f} "
        f"(render/bare floor {render_s / bare_s:.2f}); "
        f"above the floor: {render_s - floor_s:.2f}s"
    )


if __name__ == "__main__":
    main()
