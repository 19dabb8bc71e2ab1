"""IAM Roles for Service Accounts: an IAM role only one Kubernetes service account can assume."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam_policies import irsa_trust_policy
from components.k8s import app_labels
from components.validation import check_dns1123_label, check_dns1123_subdomain

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class IrsaRoleArgs:
    """Inputs of IrsaRole."""

    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer, with or without https://."""
    namespace: str
    service_account: str
    policy_arns: Sequence[pulumi.Input[str]] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    create_service_account: bool = True
    """Create the annotated Kubernetes ServiceAccount (needs a Kubernetes provider)."""
    wait_for: Sequence[pulumi.Resource] = ()
    """Resources the ServiceAccount must wait for, such as its Namespace."""

    def __post_init__(self) -> None:
        if problem := check_dns1123_label(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} {problem}")
        if problem := check_dns1123_subdomain(self.service_account):
            raise ValueError(f"service_account {self.service_account!r} {problem}")


class IrsaRole(pulumi.ComponentResource):
    """The role, its policy attachments and the annotated ServiceAccount."""

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:identity:IrsaRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
            lambda v: json.dumps(
                irsa_trust_policy(v[0], v[1], args.namespace, args.service_account)
            )
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust,
            description=f"IRSA for {args.namespace}/{args.service_account}",
            max_session_duration=3600,
            tags=dict(args.tags),
            opts=child,
        )
        self.attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-policy-{index}", role=self.role.name, policy_arn=arn, opts=child
            )
            for index, arn in enumerate(args.policy_arns)
        ]
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.service_account: k8s.core.v1.ServiceAccount | None = None
        if args.create_service_account:
            self.service_account = k8s.core.v1.ServiceAccount(
                f"{name}-sa",
                metadata={
                    "name": args.service_account,
                    "namespace": args.namespace,
                    "labels": app_labels(args.service_account, "identity"),
                    "annotations": {ROLE_ARN_ANNOTATION: self.role.arn},
                },
                automount_service_account_token=False,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
            )
        self.register_outputs({"role_arn": self.role_arn})
