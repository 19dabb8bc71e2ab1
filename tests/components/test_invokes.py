"""Every provider function a component calls (`aws.get_*_output`) goes to the component's own
provider: `parent=self`, so a component given another region's or account's provider looks
up that region's zones and builds that account's ARNs."""

from __future__ import annotations

import ast

import pytest

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


@pytest.mark.parametrize("form", ["provider", "providers map", "providers list"])
def test_an_existing_cluster_is_looked_up_through_the_aws_provider_it_was_given(build, form):
    """The lookup before registration (a plain cluster name) cannot use `parent=self`: it
    takes the AWS provider from the options the caller gave, in any of their three forms."""
    import pulumi
    import pulumi_aws as aws
    from eksplatform.existing_cluster import ExistingCluster, ExistingClusterArgs

    def program() -> None:
        other = aws.Provider("eu", region="eu-west-1")
        opts = {
            "provider": pulumi.ResourceOptions(provider=other),
            "providers map": pulumi.ResourceOptions(providers={"aws": other}),
            "providers list": pulumi.ResourceOptions(providers=[other]),
        }[form]
        ExistingCluster("shared", ExistingClusterArgs("shared-apps", "1.35"), opts=opts)

    rec = build(program)
    lookups = [i for i in rec.invokes if i.token == "aws:eks/getCluster:getCluster"]
    assert len(lookups) == 1
    assert "::eu::" in lookups[0].provider, lookups[0].provider


def test_a_lookup_that_answers_nothing_in_preview_is_not_called_a_version_mismatch(monkeypatch):
    """A preview whose AWS provider is not configured yet answers invokes with an empty
    result: the early lookup then defers to the Output lookup instead of reporting `None`."""
    from types import SimpleNamespace

    import pulumi_aws as aws
    from eksplatform import existing_cluster
    from eksplatform.existing_cluster import ExistingClusterArgs

    monkeypatch.setattr(aws.eks, "get_cluster", lambda **_: SimpleNamespace(version=None))
    args = ExistingClusterArgs("shared-apps", "1.35")
    assert existing_cluster._look_up_now(args, None) is None
    monkeypatch.setattr(aws.eks, "get_cluster", lambda **_: SimpleNamespace(version="1.34"))
    with pytest.raises(ValueError, match=r"the existing cluster runs '1\.34'"):
        existing_cluster._look_up_now(args, None)
