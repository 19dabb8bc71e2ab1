"""Runs the team stack example (examples/team-stack/__main__.py) under Pulumi mocks, with the
package known only as the installed `eksplatform`.

Run by test_team_stack.py with the fresh virtualenv's interpreter, from a temporary copy of
the example: `python team_stack_program.py <contract.json> <config.json>`. The mocks answer
the StackReference with the contract a platform stack exported; the program prints, as JSON,
every resource registered (type, name, inputs, provider), the stack's outputs and the loaded
modules no declared dependency of the package provides.
"""

import json
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi
from dependency_check import undeclared  # copied beside this program
from pulumi.runtime import settings
from pulumi.runtime.config import set_all_config

contract = json.loads(Path(sys.argv[1]).read_text())
config: dict[str, str] = json.loads(Path(sys.argv[2]).read_text())
ACCOUNT = "123456789012"


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append(
            {
                "type": args.typ,
                "name": args.name,
                "inputs": args.inputs,
                "provider": args.provider,
            }
        )
        outputs = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            # The engine reads the referenced stack's outputs into `outputs`.
            return args.name, {"name": args.name, "outputs": {"platform": contract}}
        if args.typ == "aws:iam/role:Role":
            outputs["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{args.name}"
        if args.typ == "aws:iam/policy:Policy":
            outputs["arn"] = f"arn:aws:iam::{ACCOUNT}:policy/{args.name}"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:role/team", "userId": "x"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com"}
        return {}


mocks = Mocks()
settings.set_root_resource(None)  # type: ignore[arg-type]
pulumi.runtime.set_mocks(mocks, project="orders-team", stack="dev", preview=False)
set_all_config(config, [])
outputs: dict[str, Any] = {}


@pulumi.runtime.test
def run() -> pulumi.Output[Any]:
    runpy.run_path(str(Path.cwd() / "__main__.py"), run_name="__main__")
    exported = pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]
    return pulumi.Output.from_input(dict(exported)).apply(outputs.update)


error = ""
try:
    run()
except Exception as exc:  # the test asserts on the message of a refused contract
    error = f"{type(exc).__name__}: {exc}"
json.dump(
    {
        "registered": mocks.registered,
        "outputs": outputs,
        "error": error,
        "dependencies": undeclared(),
    },
    sys.stdout,
    default=str,
)
