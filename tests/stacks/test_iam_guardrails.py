"""The transformation that makes every role and policy fit the CI deploy role's fences."""

import pulumi
from eksplatform.iam_guardrails import guardrails_at

from stacks.iam_guardrails import POLICY, ROLE, boundary_arn, guardrails, iam_path


def _args(type_: str, props: dict) -> pulumi.ResourceTransformationArgs:
    return pulumi.ResourceTransformationArgs(
        resource=None, type_=type_, name="x", props=props, opts=pulumi.ResourceOptions()
    )


def test_roles_get_the_stack_path_and_the_boundary():
    boundary = boundary_arn("aws", "123456789012")

    result = guardrails("prod", boundary)(_args(ROLE, {"assume_role_policy": "{}"}))

    assert result.props == {
        "assume_role_policy": "{}",
        "path": "/eks-secrets-platform/prod/",
        "permissions_boundary": "arn:aws:iam::123456789012:policy/eks-secrets-platform-boundary",
    }


def test_policies_get_the_path_and_are_replaced_instead_of_versioned():
    result = guardrails("dev", "b")(_args(POLICY, {"policy": "{}"}))

    assert result.props == {"policy": "{}", "path": iam_path("dev")}
    assert result.opts.replace_on_changes == ["policy"]


def test_other_resources_are_left_alone():
    assert guardrails("dev", "b")(_args("aws:kms/key:Key", {"description": "k"})) is None


def test_a_team_stack_puts_its_roles_under_the_path_it_is_given_with_the_boundary():
    path = "/eks-secrets-platform/prod/teams/orders/"
    role = guardrails_at(path, "b")(_args(ROLE, {"assume_role_policy": "{}"}))
    policy = guardrails_at(path, "b")(_args(POLICY, {"policy": "{}"}))
    assert role.props == {"assume_role_policy": "{}", "path": path, "permissions_boundary": "b"}
    assert policy.props == {"policy": "{}", "path": path}
    assert policy.opts.replace_on_changes == ["policy"]
