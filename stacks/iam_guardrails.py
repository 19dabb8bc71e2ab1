"""The IAM guardrails of the program: the package's transformation (eksplatform.iam_guardrails,
which a team's own stack applies too), registered for the whole program."""

import pulumi
import pulumi_aws as aws
from eksplatform.iam_guardrails import (
    BOUNDARY_NAME,
    PATH_ROOT,
    POLICY,
    ROLE,
    boundary_arn,
    guardrails,
    guardrails_at,
    iam_path,
)

__all__ = [
    "BOUNDARY_NAME",
    "PATH_ROOT",
    "POLICY",
    "ROLE",
    "apply_iam_guardrails",
    "boundary_arn",
    "guardrails",
    "iam_path",
]


def apply_iam_guardrails(stack: str) -> None:
    identity = aws.get_caller_identity_output()
    partition = aws.get_partition_output()
    boundary = pulumi.Output.all(partition.partition, identity.account_id).apply(
        lambda v: boundary_arn(*v)
    )
    pulumi.runtime.register_stack_transformation(guardrails_at(iam_path(stack), boundary))
