"""A managed IAM policy granting read access to exactly the secrets one workload reads."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .iam_policies import secret_read_policy

POLICY_SUFFIX = "-policy"
"""The managed policy is the resource `<name>-policy`, autonamed by Pulumi."""


@dataclass(frozen=True)
class SecretReadPolicyArgs:
    """Inputs of SecretReadPolicy."""

    secret_arns: Sequence[pulumi.Input[str]]
    """ARNs of the Secrets Manager secrets the policy grants, and nothing else. Required (or
    `parameter_arns`)."""
    parameter_arns: Sequence[pulumi.Input[str]] = ()
    """ARNs of the SSM parameters the policy grants. Default: none."""
    kms_key_arns: Sequence[pulumi.Input[str]] = ()
    """Customer-managed keys of those secrets; an empty string is skipped (a key that may not
    exist). Default: none, they use the AWS managed key."""
    region: str = ""
    """The stack's region, whose Secrets Manager and SSM may use the keys (`kms:ViaService`).
    Default: empty; required when `kms_key_arns` is given."""
    failover_region: str = ""
    """Lets kms:Decrypt also go through this region's services. Default: empty, none."""
    description: pulumi.Input[str] = "Read the secrets of one workload"
    """The IAM policy's description. Default: `Read the secrets of one workload`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""

    def __post_init__(self) -> None:
        if not self.secret_arns and not self.parameter_arns:
            raise ValueError("SecretReadPolicyArgs needs at least one secret or parameter ARN")


class SecretReadPolicy(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: SecretReadPolicyArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:identity:SecretReadPolicy", name, None, opts)
        counts = (len(args.secret_arns), len(args.parameter_arns))
        document = pulumi.Output.all(
            *args.secret_arns, *args.parameter_arns, *args.kms_key_arns
        ).apply(
            lambda arns: json.dumps(
                secret_read_policy(
                    arns[: counts[0]],
                    parameter_arns=arns[counts[0] : sum(counts)],
                    kms_key_arns=arns[sum(counts) :],
                    region=args.region,
                    failover_region=args.failover_region,
                )
            )
        )
        self.policy = aws.iam.Policy(
            f"{name}{POLICY_SUFFIX}",
            description=args.description,
            policy=document,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.policy_arn: pulumi.Output[str] = self.policy.arn
        self.register_outputs({"policy_arn": self.policy_arn})
