"""IAM Roles for Service Accounts: an IAM role only one Kubernetes service account can assume."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .iam_policies import irsa_trust_policy
from .k8s import app_labels, when_known
from .validation import check_dns1123_label, check_dns1123_subdomain

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
ROLE_SUFFIX = "-role"
"""A workload identity's role is the resource `<name>-role`, autonamed by Pulumi."""


def check_identity_names(namespace: pulumi.Input[str], service_account: pulumi.Input[str]) -> None:
    """Raises ValueError unless both are valid Kubernetes names; a value that is not a plain
    `str` (an Output) is not known yet and is not checked here."""
    if isinstance(namespace, str) and (problem := check_dns1123_label(namespace)):
        raise ValueError(f"namespace {namespace!r} {problem}")
    if not isinstance(service_account, str):
        return
    if problem := check_dns1123_subdomain(service_account):
        raise ValueError(f"service_account {service_account!r} {problem}")
    if len(service_account) > 63:
        # It is also the ServiceAccount's app.kubernetes.io/name label value, and Kubernetes
        # label values have at most 63 characters ("Labels and Selectors").
        raise ValueError(
            f"service_account {service_account!r} is over 63 characters, the most a label "
            "value (app.kubernetes.io/name) may have"
        )


def workload_role(
    name: str,
    *,
    trust: pulumi.Input[str],
    description: pulumi.Input[str],
    policy_arns: Sequence[pulumi.Input[str]],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """A workload identity's role (one-hour sessions) and one attachment per policy ARN:
    `<name>-role`, `<name>-policy-<index>`."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}{ROLE_SUFFIX}",
        assume_role_policy=trust,
        description=description,
        max_session_duration=3600,
        tags=dict(tags),
        opts=child,
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-policy-{index}", role=role.name, policy_arn=arn, opts=child
        )
        for index, arn in enumerate(policy_arns)
    ]
    return role, attachments


def identity_service_account(
    name: str,
    *,
    namespace: pulumi.Input[str],
    service_account: pulumi.Input[str],
    annotations: Mapping[str, pulumi.Input[str]] | None,
    wait_for: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> k8s.core.v1.ServiceAccount:
    """`<name>-sa`: the workload's ServiceAccount, no token automounted (the CSI driver asks
    for its own audience-bound token)."""
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {
        "name": service_account,
        "namespace": namespace,
        "labels": when_known(service_account, lambda sa: app_labels(sa, "identity")),
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    return k8s.core.v1.ServiceAccount(
        f"{name}-sa",
        metadata=metadata,
        automount_service_account_token=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(wait_for)),
    )


@dataclass(frozen=True)
class IrsaRoleArgs:
    """Inputs of IrsaRole."""

    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider, the trusted federated principal. Required."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL, with or without https:// (the trust conditions use it
    without). Required."""
    namespace: pulumi.Input[str]
    """Namespace of the ServiceAccount the role trusts (DNS-1123 label; checked when plain).
    Required."""
    service_account: pulumi.Input[str]
    """The only ServiceAccount the role trusts (`system:serviceaccount:<namespace>:<name>`;
    DNS-1123 subdomain of at most 63 characters, checked when plain). Required."""
    policy_arns: Sequence[pulumi.Input[str]] = ()
    """IAM policy ARNs attached to the role. Default: none (the role can do nothing)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags added to every AWS resource it creates. Default: none."""
    create_service_account: bool = True
    """Create the annotated Kubernetes ServiceAccount (needs a Kubernetes provider).
    Default: True."""
    wait_for: Sequence[pulumi.Resource] = ()
    """Resources the ServiceAccount waits for, such as its Namespace. Default: none."""

    def __post_init__(self) -> None:
        check_identity_names(self.namespace, self.service_account)


class IrsaRole(pulumi.ComponentResource):
    """The role, its policy attachments and the annotated ServiceAccount."""

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:identity:IrsaRole", name, None, opts)
        trust = pulumi.Output.all(
            args.oidc_provider_arn, args.oidc_issuer, args.namespace, args.service_account
        ).apply(lambda v: json.dumps(irsa_trust_policy(v[0], v[1], v[2], v[3])))
        self.role, self.attachments = workload_role(
            name,
            trust=trust,
            description=pulumi.Output.format(
                "IRSA for {0}/{1}", args.namespace, args.service_account
            ),
            policy_arns=args.policy_arns,
            tags=args.tags,
            parent=self,
        )
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.service_account: k8s.core.v1.ServiceAccount | None = None
        if args.create_service_account:
            self.service_account = identity_service_account(
                name,
                namespace=args.namespace,
                service_account=args.service_account,
                annotations={ROLE_ARN_ANNOTATION: self.role.arn},
                wait_for=args.wait_for,
                parent=self,
            )
        self.register_outputs({"role_arn": self.role_arn})
