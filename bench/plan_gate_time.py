"""How long the permissions gate (ci/plan_gate.py) takes on a saved plan, against the
plan's size: the first deploy of dev with N apps (every resource a `create` step, plus
pulumi-eks's children), for N = 1, 10, 100. The plans are built from runs of the program
under the mocks (tools/plans.py); only the gate's own work is timed, median of --runs.

    python bench/plan_gate_time.py [--apps 1 10 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description="Time ci/plan_gate.py on first-deploy plans.")
    parser.add_argument("--apps", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from bench.scaling import config_with_apps
    from ci.plan_gate import administrator_steps
    from tools.plans import plan_of
    from tools.pulumi_mocks import run_program

    print(f"{'apps':>5} {'steps':>6} {'plan KiB':>9} {'for admin':>10} {'gate ms':>8}")
    for count in args.apps:
        plan = plan_of(None, run_program("dev", config_with_apps(count)))
        # What the workflow does: parse the file the CLI wrote, then classify.
        text = json.dumps(plan)
        times = []
        steps = administrator_steps(json.loads(text))
        for _ in range(args.runs):
            start = time.perf_counter()
            steps = administrator_steps(json.loads(text))
            times.append(time.perf_counter() - start)
        print(
            f"{count:>5} {len(plan['resourcePlans']):>6} {len(text) / 1024:>9.0f} "
            f"{len(steps):>10} {statistics.median(times) * 1000:>8.1f}"
        )


if __name__ == "__main__":
    main()
