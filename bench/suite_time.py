"""Wall-clock time of the full test suite (`python -m pytest`, as `make test` runs it), median
of N fresh runs, with the machine's load average beside each run so a busy machine shows.

    python bench/suite_time.py [--runs 3] [-- extra pytest args]

The figure is the whole process, interpreter start to exit, not pytest's own "in N s", which
leaves out start-up, collection imports and teardown.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(extra: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    if done.returncode != 0:
        raise SystemExit(f"the suite failed (exit {done.returncode}): {last}")
    return seconds, re.sub(r"=+", "", last).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*", help="after --, passed to pytest")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {args.runs} fresh runs of the full suite, wall-clock seconds")
    samples = []
    for index in range(args.runs):
        load = os.getloadavg()[0]
        seconds, summary = one_run(args.pytest_args)
        samples.append(seconds)
        print(f"run {index + 1}: {seconds:6.2f}s  (load {load:4.2f} before)  {summary}")
    print(f"median {statistics.median(samples):.2f}s  min {min(samples):.2f}s")


if __name__ == "__main__":
    main()
