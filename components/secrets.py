"""Secrets Manager secrets the workloads read: created here, or referenced by ARN."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ManagedSecretArgs:
    """Inputs of ManagedSecret."""

    secret_name: str
    value: pulumi.Input[str] | None = None
    """The secret string; a Pulumi secret. None when `existing_arn` is given."""
    existing_arn: str = ""
    """Reference an existing secret instead: nothing is created, changed or deleted."""
    description: str = ""
    kms_key_id: pulumi.Input[str] | None = None
    """A customer-managed KMS key; None uses the AWS managed key aws/secretsmanager."""
    recovery_window_in_days: int = 7
    """Days a deleted secret stays recoverable (7-30), or 0 to delete at once."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if bool(self.existing_arn) == (self.value is not None):
            raise ValueError(
                f"secret {self.secret_name!r}: give exactly one of value or existing_arn"
            )
        if not (self.recovery_window_in_days == 0 or 7 <= self.recovery_window_in_days <= 30):
            raise ValueError("recovery_window_in_days must be 0 or between 7 and 30")


class ManagedSecret(pulumi.ComponentResource):
    """Exposes `arn` (and `name`) whether the secret is created or referenced."""

    def __init__(
        self, name: str, args: ManagedSecretArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:secrets:ManagedSecret", name, None, opts)
        self.secret: aws.secretsmanager.Secret | None = None
        if args.existing_arn:
            self.arn = pulumi.Output.from_input(args.existing_arn)
        else:
            child = pulumi.ResourceOptions(parent=self)
            self.secret = aws.secretsmanager.Secret(
                f"{name}-secret",
                name=args.secret_name,
                description=args.description or None,
                kms_key_id=args.kms_key_id,
                recovery_window_in_days=args.recovery_window_in_days,
                tags=dict(args.tags),
                opts=child,
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-value",
                secret_id=self.secret.id,
                secret_string=pulumi.Output.secret(args.value),
                opts=child,
            )
            self.arn = self.secret.arn
        self.secret_name = args.secret_name
        self.register_outputs({"arn": self.arn})
