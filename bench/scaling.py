"""How the program scales with the applications on it: the dev stack with N entries in
`apps`, for N = 1, 10, 100, 250, printing the config layer's time (every rule, no resource),
the program's time and resource count, what the
apps alone add over a stack with none, the time of `ci/iam/render.py` (which runs the
program once more, then fills the templates), and the size of each CI policy against IAM's
6,144-character managed-policy limit.

Each app is what a team's onboarding gives: an App with its NamespaceBaseline (Pod Security
labels, LimitRange, ResourceQuota, default-deny NetworkPolicies), its identity (IRSA role,
policy, ServiceAccount), its SecretProviderClass, and one or two secrets of its own named
under dev's secretNamePrefix (tools/scale.py). The examples are off; the nginx demo apps of
dev are replaced by the N apps. Each N runs in a fresh process, after a warm-up run.

    python bench/scaling.py [--apps 1 10 100 250] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def config_with_apps(count: int) -> dict[str, str]:
    """dev's config with `count` apps (tools/scale.py), examples off."""
    from tools.scale import config_with_apps as scaled

    return scaled(count)


def measure_once(count: int) -> dict[str, Any]:
    """One timed program run and one timed render of the CI policies, after an untimed run,
    so imports are not counted."""
    from ci.iam import render as iam_render
    from stacks.load import load
    from tools.pulumi_mocks import ACCOUNT, run_program

    run_program("dev", config_with_apps(1))
    config = config_with_apps(count)
    start = time.perf_counter()
    load(config.get, stack="dev", keys=list(config))
    config_seconds = time.perf_counter() - start
    start = time.perf_counter()
    recorder = run_program("dev", config)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    documents = iam_render.render(
        "dev",
        account_id=ACCOUNT,
        repository="my-org/eks-secrets-platform",
        state_key_arn=f"arn:aws:kms:ap-southeast-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        admin_principal_arns=[f"arn:aws:iam::{ACCOUNT}:role/platform-admins"],
        config=config,
    )
    render_seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "config_seconds": config_seconds,
        "render_seconds": render_seconds,
        "resources": len(recorder.resources),
        "secrets": len(recorder.of_type("aws:secretsmanager/secret:Secret"))
        + len(recorder.of_type("aws:ssm/parameter:Parameter")),
        "policies": {
            name: [iam_render.size(documents[name])]
            + [iam_render.size(p) for p in iam_render.split(documents[name])]
            for name in ("deploy-policy.json", "preview-policy.json")
        },
    }


def sample(count: int, runs: int) -> dict[str, Any]:
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
    return {
        **found[0],
        "seconds": statistics.median(s["seconds"] for s in found),
        "config_seconds": statistics.median(s["config_seconds"] for s in found),
        "render_seconds": statistics.median(s["render_seconds"] for s in found),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--apps", type=int, nargs="+", default=[1, 10, 100, 250])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_once(args.one)))
        return
    base = sample(0, args.runs)
    print(f"platform alone (0 apps): {base['resources']} resources in {base['seconds']:.2f} s")
    print(f"medians of {args.runs} run(s); policy sizes in characters, whitespace excluded,")
    print("whole document then its managed policies (IAM's limit: 6144 each)")
    print(
        f"{'apps':>4} {'secrets':>7} {'resources':>9} {'config s':>8} {'program s':>9}"
        f" {'ms/app res':>10}"
        f" {'render s':>8}  {'deploy policy':<22} {'preview policy':<16}"
    )
    for count in args.apps:
        found = sample(count, args.runs)
        added = found["resources"] - base["resources"]
        per = 1000 * (found["seconds"] - base["seconds"]) / added if added else 0.0
        deploy, preview = (
            found["policies"][n] for n in ("deploy-policy.json", "preview-policy.json")
        )
        print(
            f"{count:>4} {found['secrets']:>7} {found['resources']:>9}"
            f" {found['config_seconds']:>8.2f} {found['seconds']:>9.2f}"
            f" {per:>10.1f} {found['render_seconds']:>8.2f}"
            f"  {deploy[0]} = {' + '.join(map(str, deploy[1:])):<14}"
            f" {preview[0]} = {' + '.join(map(str, preview[1:]))}"
        )


if __name__ == "__main__":
    main()
