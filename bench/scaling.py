"""How the program scales with the applications on it: the dev stack with N entries in
`apps` (each reading its own secret), for N = 1, 10, 100, printing the program's time and
resource count, and what the apps alone add over a stack with none.

Each app is what a team's onboarding gives: an App with its NamespaceBaseline (Pod Security
labels, LimitRange, ResourceQuota, default-deny NetworkPolicies), its identity (IRSA role,
policy, ServiceAccount), its SecretProviderClass, and the secret itself. The examples are
off; the nginx demo apps of dev are replaced by the N apps. Each N runs the whole program
(`__main__.py`) under the test mocks in a fresh process, after a warm-up run.

    python bench/scaling.py [--apps 1 10 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXAMPLES_OFF = (
    "enableSidecarExample",
    "enableAmbassadorExample",
    "enableAdapterExample",
    "enableInitContainerExample",
    "enableRedisSecretExample",
)


def config_with_apps(count: int) -> dict[str, str]:
    """dev's config with `count` apps, each reading a secret of its own, examples off."""
    import yaml

    from tools.pulumi_mocks import PROJECT, stack_config

    names = [f"team-{index:03d}" for index in range(count)]
    secrets = [{"name": f"{n}-credentials", "namespace": n} for n in names]
    apps = [{"name": n, "secrets": [f"{n}-credentials"]} for n in names]
    overrides = {f"{PROJECT}:{key}": "false" for key in EXAMPLES_OFF}
    overrides[f"{PROJECT}:secrets"] = yaml.safe_dump(secrets or [])
    overrides[f"{PROJECT}:apps"] = yaml.safe_dump(apps or [])
    overrides[f"{PROJECT}:secretValues"] = json.dumps({s["name"]: "x" for s in secrets})
    return stack_config("dev", overrides)


def measure_once(count: int) -> dict[str, float]:
    """One timed program run after an untimed one, so imports are not counted."""
    from tools.pulumi_mocks import run_program

    run_program("dev", config_with_apps(1))
    config = config_with_apps(count)
    start = time.perf_counter()
    recorder = run_program("dev", config)
    return {"seconds": time.perf_counter() - start, "resources": len(recorder.resources)}


def sample(count: int, runs: int) -> tuple[float, int]:
    found = [
        json.loads(
            subprocess.run(
                [sys.executable, __file__, "--one", str(count)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(s["seconds"] for s in found), int(found[0]["resources"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--apps", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_once(args.one)))
        return
    base_seconds, base_resources = sample(0, args.runs)
    print(f"platform alone (0 apps): {base_resources} resources in {base_seconds:.2f} s")
    print(f"apps  resources  seconds (median of {args.runs})  app resources  ms/app resource")
    for count in args.apps:
        seconds, resources = sample(count, args.runs)
        added = resources - base_resources
        print(
            f"{count:>4}  {resources:>9}  {seconds:>22.2f}  {added:>13}"
            f"  {1000 * (seconds - base_seconds) / added:>15.1f}"
        )


if __name__ == "__main__":
    main()
