"""Checks a stack's config without running the program: `make check STACK=dev`.

Reads `Pulumi.<stack>.yaml` as the Pulumi CLI does (YAML 1.2, duplicate keys refused, each
value against its declared type; `stacks.config.stack_file`), then runs every config rule
of the program (`stacks.load.load`). Prints each problem on one line and exits 1, or prints
one OK line and exits 0; exits 2 when there is no such stack file. The encrypted
`secretValues` cannot be read offline: when it is encrypted or absent, every secret the stack
creates gets a placeholder value, so only its presence per secret goes unchecked.

    python -m tools.check --stack dev
    python -m tools.check --stack qa --dir path/to/project -c nodeMaxSize=3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stacks.config.reader import ConfigError  # noqa: E402
from stacks.config.stack_file import config_strings, is_secure, read_stack_file  # noqa: E402
from tools.render import (  # noqa: E402
    SECRET_VALUES_KEY,
    add_config_option,
    created_secret_names,
    parse_overrides,
)


def check(stack: str, directory: Path, overrides: dict[str, str] | None = None) -> list[str]:
    """Every problem of the stack's config, one line each; empty when it is good."""
    from stacks.load import load as load_config

    path = directory / f"Pulumi.{stack}.yaml"
    try:
        config = config_strings(path, overrides)
        secret_in_file = read_stack_file(path, stack).get(SECRET_VALUES_KEY)
    except ConfigError as exc:
        return exc.problems
    if SECRET_VALUES_KEY not in (overrides or {}) and (
        secret_in_file is None or is_secure(secret_in_file)
    ):
        placeholders = dict.fromkeys(created_secret_names(config), "<placeholder>")
        config[SECRET_VALUES_KEY] = json.dumps(placeholders)
    try:
        load_config(config.get, stack=stack, keys=list(config))
    except ConfigError as exc:
        return exc.problems
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.check",
        description="Check a stack's config (the stack file and every config rule) without "
        "running the program.",
    )
    parser.add_argument("--stack", required=True, help="reads Pulumi.<stack>.yaml")
    parser.add_argument(
        "--directory",
        "--dir",
        dest="dir",
        type=Path,
        default=ROOT,
        help="directory of the stack file (default: project)",
    )
    add_config_option(parser)
    args = parser.parse_args(argv)
    path = args.dir / f"Pulumi.{args.stack}.yaml"
    if not path.is_file():
        stacks = sorted(p.name.split(".")[1] for p in args.dir.glob("Pulumi.*.yaml"))
        print(f"no stack file {path}; stacks: {', '.join(stacks) or 'none'}", file=sys.stderr)
        return 2
    # As under `pulumi up`: the program finds the stack file in the current directory, and
    # names the file's line of a YAML error in the `secrets` or `apps` block.
    os.chdir(args.dir)
    problems = check(args.stack, Path(), parse_overrides(args.config))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"{path.name}: OK (stack file and every config rule)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
