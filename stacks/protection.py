"""How hard a stack resists deletion, decided in one pure function.

Protection is about state and identity that cannot be recreated as it was: the KMS keys
(data encrypted with them is lost), the secrets, and the cluster with its OIDC provider
(every IRSA trust policy names that provider).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRODUCTION_STACK = re.compile(r"(prod|production)([-_].*)?")


@dataclass(frozen=True)
class Protection:
    protect: bool
    """Pulumi `protect` on the KMS keys, the secrets and the cluster (with its OIDC provider)."""
    cluster_deletion_protection: bool
    """EKS deletion protection: the API refuses to delete the cluster."""
    secret_recovery_window_days: int
    """Days a deleted secret stays recoverable; 0 deletes at once."""
    kms_deletion_window_days: int
    """Days a deleted KMS key can still be cancelled (7-30)."""


def is_production(stack: str) -> bool:
    return bool(PRODUCTION_STACK.fullmatch(stack))


def protection_for(
    stack: str,
    *,
    enable_resource_protection: bool,
    enable_cluster_deletion_protection: bool,
    secret_recovery_window_days: int,
) -> Protection:
    """Production stacks are always protected, whatever the flags say; others opt in."""
    protect = enable_resource_protection or is_production(stack)
    return Protection(
        protect=protect,
        cluster_deletion_protection=enable_cluster_deletion_protection or is_production(stack),
        secret_recovery_window_days=(
            max(secret_recovery_window_days, 30) if protect else secret_recovery_window_days
        ),
        kms_deletion_window_days=30 if protect else 7,
    )
