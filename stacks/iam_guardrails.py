"""The IAM guardrails of the program: the package's (eksplatform.iam_guardrails), which a
team's own stack applies too."""

from eksplatform.iam_guardrails import (
    BOUNDARY_NAME,
    PATH_ROOT,
    POLICY,
    ROLE,
    apply_iam_guardrails,
    boundary_arn,
    guardrails,
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
