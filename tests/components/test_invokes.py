"""Every provider function a component calls (`aws.get_*_output`) goes to the component's own
provider: `parent=self`, so a component given another region's or account's provider looks
up that region's zones and builds that account's ARNs."""

from __future__ import annotations

import ast

from tests.components.test_args_documented import each_module


def invokes_without_parent(source: str) -> list[str]:
    """`line: call` of each `*.get_*_output(...)` call not given `opts=...(parent=self)`."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith("get_")
            and node.func.attr.endswith("_output")
        ):
            continue
        opts = next((k.value for k in node.keywords if k.arg == "opts"), None)
        parents = [
            k.value
            for k in (opts.keywords if isinstance(opts, ast.Call) else [])
            if k.arg == "parent"
        ]
        if not (parents and ast.unparse(parents[0]) == "self"):
            problems.append(f"{node.lineno}: {ast.unparse(node.func)}")
    return problems


@each_module
def test_every_invoke_in_a_component_asks_the_components_provider(module):
    assert invokes_without_parent(module.read_text()) == []


def test_the_check_finds_an_invoke_without_a_parent():
    source = (
        "zones = aws.get_availability_zones_output(state='available')\n"
        "region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self))\n"
    )
    assert invokes_without_parent(source) == ["1: aws.get_availability_zones_output"]
