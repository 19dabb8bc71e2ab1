"""What lets the permissions-admin role create IAM without being able to escalate.

That role (ci/iam/permissions-admin-policy.json; CI's roles hold no IAM write at all) may
create roles only under the path `/eks-secrets-platform/<stack>/` and only with the
permissions boundary `eks-secrets-platform-boundary`, may manage only policies under that
path, and has no `iam:CreatePolicyVersion`. This transformation makes every role and policy
of the program fit: roles get the path and the boundary, policies get the path and are
replaced (a new policy, then the old one deleted) when their document changes instead of
getting a new version.
Applied once, before any resource is registered, so no component needs to know about it.
A team's own stack applies it too, under a path below the platform stack's (the contract's
`iamPath`), so the same administrator may apply it (examples/team-stack).

Limits: pulumi-eks is a remote component, so a role it created itself would not be
transformed (the program passes its own roles to it, so it creates none). Moving an
existing role or policy to the path replaces it.
"""

from __future__ import annotations

import pulumi

PATH_ROOT = "eks-secrets-platform"
BOUNDARY_NAME = "eks-secrets-platform-boundary"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"


def iam_path(stack: str) -> str:
    return f"/{PATH_ROOT}/{stack}/"


def boundary_arn(partition: str, account_id: str) -> str:
    return f"arn:{partition}:iam::{account_id}:policy/{BOUNDARY_NAME}"


def guardrails(stack: str, boundary: pulumi.Input[str]):
    """The transformation for the stack `stack`: see `guardrails_at`."""
    return guardrails_at(iam_path(stack), boundary)


def guardrails_at(path: pulumi.Input[str], boundary: pulumi.Input[str]):
    """The transformation: `path` and the boundary on roles, `path` and replace-on-change on
    policies; every other resource unchanged."""

    def transform(args: pulumi.ResourceTransformationArgs):
        if args.type_ == ROLE:
            props = {**args.props, "path": path, "permissions_boundary": boundary}
            return pulumi.ResourceTransformationResult(props, args.opts)
        if args.type_ == POLICY:
            props = {**args.props, "path": path}
            opts = pulumi.ResourceOptions.merge(
                args.opts, pulumi.ResourceOptions(replace_on_changes=["policy"])
            )
            return pulumi.ResourceTransformationResult(props, opts)
        return None

    return transform
