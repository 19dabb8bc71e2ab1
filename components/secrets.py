"""Secrets Manager secrets and SSM parameters the workloads read.

A secret is created here, referenced by ARN (never touched), or imported (adopted: Pulumi
manages its metadata, replicas and rotation, never writes its value, never deletes it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ReplicaRegion:
    """Where a secret is replicated, and the KMS key that encrypts the replica there."""

    region: str
    """AWS region the secret is replicated to. Required."""
    kms_key_id: pulumi.Input[str] | None = None
    """A KMS key (ARN or id) in that region. Default: None, that region's aws/secretsmanager key."""


@dataclass(frozen=True)
class ManagedSecretArgs:
    """Inputs of ManagedSecret."""

    secret_name: str
    """The secret's name in Secrets Manager. Required."""
    value: pulumi.Input[str] | None = None
    """The secret string; a Pulumi secret. Default: None, only when `existing_arn` is given."""
    existing_arn: str = ""
    """Reference an existing secret instead: nothing is created, changed or deleted. Plain `str`:
    whether it is given decides which resources exist, and with `import_existing` it is the
    import id, which Pulumi needs as a plain value. Default: empty."""
    description: str = ""
    """The secret's description. Default: empty."""
    kms_key_id: pulumi.Input[str] | None = None
    """A customer-managed KMS key (ARN or id). Default: None, the AWS managed key
    aws/secretsmanager."""
    recovery_window_in_days: int = 7
    """Days a deleted secret stays recoverable (7-30), or 0 to delete at once. Default: 7."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""
    import_existing: bool = False
    """Adopt `existing_arn` into the stack (Pulumi `import`) instead of only referencing it. Its
    value is never written and `pulumi destroy` leaves it in place (retainOnDelete); its
    description, tags, KMS key, replicas and rotation then follow this stack. Default: False."""
    replicas: Sequence[ReplicaRegion] = ()
    """Regions to replicate the secret to, for cross-region failover. Default: none."""
    rotation_lambda_arn: str = ""
    """A rotation Lambda (yours; it must let secretsmanager.amazonaws.com invoke it). Plain `str`:
    whether it is given decides whether the rotation resource exists. Default: empty, no
    rotation."""
    rotation_days: int = 0
    """Rotate every N days (1-1000); or use `rotation_schedule`. Default: 0, unset."""
    rotation_schedule: str = ""
    """A `rate(...)` or `cron(...)` expression; or use `rotation_days`. Default: empty."""

    def __post_init__(self) -> None:
        if bool(self.existing_arn) == (self.value is not None):
            raise ValueError(
                f"secret {self.secret_name!r}: give exactly one of value or existing_arn"
            )
        if not (self.recovery_window_in_days == 0 or 7 <= self.recovery_window_in_days <= 30):
            raise ValueError("recovery_window_in_days must be 0 or between 7 and 30")
        if self.import_existing and not self.existing_arn:
            raise ValueError(f"secret {self.secret_name!r}: import_existing needs existing_arn")
        if (
            self.existing_arn
            and not self.import_existing
            and (self.replicas or self.rotation_lambda_arn)
        ):
            raise ValueError(
                f"secret {self.secret_name!r}: a referenced secret is never changed; "
                "import it to manage replicas or rotation"
            )
        if self.rotation_lambda_arn and bool(self.rotation_days) == bool(self.rotation_schedule):
            raise ValueError(
                f"secret {self.secret_name!r}: rotation needs exactly one of "
                "rotation_days or rotation_schedule"
            )
        if (self.rotation_days or self.rotation_schedule) and not self.rotation_lambda_arn:
            raise ValueError(f"secret {self.secret_name!r}: rotation needs rotation_lambda_arn")
        if self.rotation_days and not 1 <= self.rotation_days <= 1000:
            raise ValueError("rotation_days must be between 1 and 1000")

    @property
    def rotates(self) -> bool:
        return bool(self.rotation_lambda_arn)


class ManagedSecret(pulumi.ComponentResource):
    """Exposes `arn` whether the secret is created or referenced."""

    def __init__(
        self, name: str, args: ManagedSecretArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:secrets:ManagedSecret", name, None, opts)
        self.secret: aws.secretsmanager.Secret | None = None
        self.version: aws.secretsmanager.SecretVersion | None = None
        self.rotation: aws.secretsmanager.SecretRotation | None = None
        if args.existing_arn and not args.import_existing:
            self.arn = pulumi.Output.from_input(args.existing_arn)
        else:
            child = pulumi.ResourceOptions(parent=self)
            self.secret = aws.secretsmanager.Secret(
                f"{name}-secret",
                name=args.secret_name,
                description=args.description or None,
                kms_key_id=args.kms_key_id,
                recovery_window_in_days=args.recovery_window_in_days,
                replicas=[
                    aws.secretsmanager.SecretReplicaArgs(region=r.region, kms_key_id=r.kms_key_id)
                    for r in args.replicas
                ]
                or None,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(
                    parent=self, import_=args.existing_arn, retain_on_delete=True
                )
                if args.import_existing
                else child,
            )
            if args.value is not None:
                self.version = aws.secretsmanager.SecretVersion(
                    f"{name}-value",
                    secret_id=self.secret.id,
                    secret_string=pulumi.Output.secret(args.value),
                    # After a rotation AWSCURRENT belongs to the Lambda's version; moving the
                    # label back to this one on the next `up` would undo the rotation.
                    opts=pulumi.ResourceOptions(parent=self, ignore_changes=["versionStages"])
                    if args.rotates
                    else child,
                )
            if args.rotates:
                self.rotation = aws.secretsmanager.SecretRotation(
                    f"{name}-rotation",
                    secret_id=self.secret.id,
                    rotation_lambda_arn=args.rotation_lambda_arn,
                    rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                        automatically_after_days=args.rotation_days or None,
                        schedule_expression=args.rotation_schedule or None,
                    ),
                    # The first rotation waits for the schedule: pods mount the value set here.
                    rotate_immediately=False,
                    opts=pulumi.ResourceOptions(
                        parent=self, depends_on=[self.version] if self.version else []
                    ),
                )
            self.arn = self.secret.arn
        self.register_outputs({"arn": self.arn})


SSM_PARAMETER_NAME = re.compile(r"/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
"""SSM "Requirements and constraints for parameter names": a-zA-Z0-9_.- only, / between
levels (ASCII; `\\w` would admit any Unicode letter)."""


@dataclass(frozen=True)
class ManagedParameterArgs:
    """Inputs of ManagedParameter: an SSM SecureString, created or referenced by ARN."""

    parameter_name: str
    """The SSM parameter's name, e.g. `/app/db-url`. Required."""
    value: pulumi.Input[str] | None = None
    """The value; a Pulumi secret. Default: None, only when `existing_arn` is given."""
    existing_arn: str = ""
    """Reference an existing parameter instead: nothing is created, changed or deleted. Plain
    `str`: whether it is given decides which resources exist. Default: empty."""
    description: str = ""
    """The parameter's description. Default: empty."""
    kms_key_id: pulumi.Input[str] | None = None
    """A customer-managed KMS key (ARN or id). Default: None, the AWS managed key alias/aws/ssm."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""

    def __post_init__(self) -> None:
        if bool(self.existing_arn) == (self.value is not None):
            raise ValueError(
                f"parameter {self.parameter_name!r}: give exactly one of value or existing_arn"
            )
        if len(self.parameter_name) > 1011 or not SSM_PARAMETER_NAME.fullmatch(self.parameter_name):
            raise ValueError(f"parameter name {self.parameter_name!r} is not a valid SSM name")
        reserved = self.parameter_name.lstrip("/").lower().startswith(("aws", "ssm"))
        if self.value is not None and reserved:
            # SSM "Requirements and constraints for parameter names": a name "can't be
            # prefixed with aws or ssm (case-insensitive)"; referencing AWS's own is fine.
            raise ValueError(f"parameter name {self.parameter_name!r} begins with aws or ssm")


class ManagedParameter(pulumi.ComponentResource):
    """Exposes `arn` whether the parameter is created or referenced."""

    def __init__(
        self, name: str, args: ManagedParameterArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:secrets:ManagedParameter", name, None, opts)
        self.parameter: aws.ssm.Parameter | None = None
        if args.existing_arn:
            self.arn = pulumi.Output.from_input(args.existing_arn)
        else:
            self.parameter = aws.ssm.Parameter(
                f"{name}-parameter",
                name=args.parameter_name,
                type="SecureString",
                value=pulumi.Output.secret(args.value),
                key_id=args.kms_key_id,
                description=args.description or None,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.arn = self.parameter.arn
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True)
class SecretsKeyArgs:
    """Inputs of SecretsKey."""

    alias: str
    """The key's alias, e.g. `alias/<cluster>-secrets`. Required."""
    region: str
    """The primary key's region (the stack's). Required."""
    replica_regions: Sequence[str] = ()
    """Regions secrets are replicated to; the key is replicated there too. Default: none."""
    policy: pulumi.Input[str] | None = None
    """Key policy JSON. Default: None, KMS's default policy (the account administers it via IAM)."""
    deletion_window_days: int = 30
    """Days a deleted key waits before it is destroyed (7-30). Default: 30."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""


class SecretsKey(pulumi.ComponentResource):
    """A customer-managed, multi-Region KMS key for the secrets, with a replica in every
    region a secret is replicated to, because a replica secret needs a key in its region.

    Exposes `arn_by_region` (primary region first) and the primary `key`.
    """

    def __init__(self, name: str, args: SecretsKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:secrets:SecretsKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the stack's Secrets Manager secrets and SSM parameters",
            enable_key_rotation=True,
            multi_region=True,
            deletion_window_in_days=args.deletion_window_days,
            policy=args.policy,
            tags=dict(args.tags),
            opts=child,
        )
        aws.kms.Alias(f"{name}-alias", name=args.alias, target_key_id=self.key.key_id, opts=child)
        self.arn_by_region: dict[str, pulumi.Output[str]] = {args.region: self.key.arn}
        for region in args.replica_regions:
            replica = aws.kms.ReplicaKey(
                f"{name}-replica-{region}",
                primary_key_arn=self.key.arn,
                region=region,
                description=f"Replica of the secrets key, for secret replicas in {region}",
                deletion_window_in_days=args.deletion_window_days,
                policy=args.policy,
                tags=dict(args.tags),
                opts=child,
            )
            self.arn_by_region[region] = replica.arn
        self.register_outputs({"arn_by_region": self.arn_by_region})
