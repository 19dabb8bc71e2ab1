"""Whether CI may apply a saved Pulumi update plan, or the stack's permissions administrator
must (ci/iam/README.md, "Who applies what").

CI's deploy roles hold no permissions-management action: parliament's community auditor
finds none in their policies. So a plan that creates or changes an IAM role, policy,
attachment or OIDC provider, creates or re-keys a KMS key, or passes a role to EKS (a new
cluster, node group or Pod Identity association) would fail half-way under CI's role.
This gate reads the plan that `pulumi preview --save-plan` wrote, which is exactly what
`pulumi up --plan` will do, and stops before `up` with the list of such steps and what to
run instead.

    python ci/plan_gate.py --plan plan-dev.json --stack dev [--summary FILE] [--report-only]

Exit 0: CI may apply it (or --report-only). 1: the administrator must apply it; nothing
was changed. 2: the plan cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Pulumi's step operations (sdk/go/common/apitype, OpType) that change a resource. "same",
# "read", "refresh", "discard" and "import" (adopting as is) call only read actions.
CREATES = frozenset({"create", "replace", "create-replacement", "import-replacement"})
DELETES = frozenset({"delete", "delete-replaced"})
CHANGES = CREATES | DELETES | {"update"}
# Providers and components that call no AWS API of their own: Kubernetes objects go through
# the cluster's API with the role's access entry, tls and random compute locally, and a
# component is only a parent in the state.
NO_AWS_API = ("kubernetes:", "tls:", "random:", "pulumi:", "eks:index:", "eksplatform:")
ROLE_KEYS = ("serviceAccountRoleArn", "podIdentityAssociations")


def _changed_inputs(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    diff = (entry.get("goal") or {}).get("inputDiff") or {}
    return [diff.get("adds") or {}, diff.get("updates") or {}]


def passes_a_role(entry: Mapping[str, Any]) -> bool:
    """An add-on with a role for its service account: EKS checks iam:PassRole on every
    create and update of it, whether the role changed or not, so the planned outputs
    (`state`) count too."""
    sources = [entry.get("state") or {}, *_changed_inputs(entry)]
    return any(source.get(key) for source in sources for key in ROLE_KEYS)


def adds_encryption(entry: Mapping[str, Any]) -> bool:
    """A cluster update that sets its envelope encryption (AssociateEncryptionConfig):
    EKS creates a grant on the key, which needs kms:CreateGrant."""
    return any(source.get("encryptionConfig") for source in _changed_inputs(entry))


@dataclass(frozen=True)
class Rule:
    """What one resource type's steps call. A step in `admin_ops`, or any changing step for
    which `admin_when` holds, needs one of `admin_actions`, each one parliament's community
    auditor counts as permissions management, which CI's roles never hold; every other
    changing step calls only `ci_actions`, which the CI deploy role holds
    (tests/test_plan_gate.py checks both against the rendered policies)."""

    admin_ops: frozenset[str]
    admin_actions: tuple[str, ...]
    ci_actions: tuple[str, ...]
    admin_when: Callable[[Mapping[str, Any]], bool] | None = None


NONE = frozenset[str]()  # CI applies every step
RULES: dict[str, Rule] = {
    # Identity: every change.
    "aws:iam/role:Role": Rule(
        CHANGES,
        ("iam:CreateRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy",
         "iam:PutRolePermissionsBoundary"),
        (),
    ),
    "aws:iam/policy:Policy": Rule(CHANGES, ("iam:CreatePolicy", "iam:DeletePolicy"), ()),
    "aws:iam/rolePolicy:RolePolicy": Rule(
        CHANGES, ("iam:PutRolePolicy", "iam:DeleteRolePolicy"), ()
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Rule(
        CHANGES, ("iam:AttachRolePolicy", "iam:DetachRolePolicy"), ()
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": Rule(
        CHANGES,
        ("iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider",
         "iam:UpdateOpenIDConnectProviderThumbprint"),
        (),
    ),
    # Keys: creating one, or changing its policy. Scheduling its deletion is not.
    "aws:kms/key:Key": Rule(
        CHANGES - DELETES,
        ("kms:CreateKey", "kms:PutKeyPolicy"),
        ("kms:ScheduleKeyDeletion",),
    ),
    "aws:kms/replicaKey:ReplicaKey": Rule(
        CHANGES - DELETES,
        ("kms:CreateKey", "kms:PutKeyPolicy"),
        ("kms:ReplicateKey", "kms:ScheduleKeyDeletion"),
    ),
    # Passing a role to EKS: creating the cluster (its role, and grants on the secrets key),
    # a node group (the node role), a Pod Identity association (the workload's role).
    "aws:eks/cluster:Cluster": Rule(
        CREATES,
        ("iam:PassRole", "kms:CreateGrant", "iam:CreateServiceLinkedRole"),
        ("eks:UpdateClusterConfig", "eks:UpdateClusterVersion", "eks:DeleteCluster"),
        admin_when=adds_encryption,
    ),
    "aws:eks/nodeGroup:NodeGroup": Rule(
        CREATES,
        ("iam:PassRole", "iam:CreateServiceLinkedRole"),
        ("eks:UpdateNodegroupConfig", "eks:UpdateNodegroupVersion", "eks:DeleteNodegroup"),
    ),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": Rule(
        CREATES | {"update"}, ("iam:PassRole",), ("eks:DeletePodIdentityAssociation",)
    ),
    "aws:eks/addon:Addon": Rule(
        NONE,
        ("iam:PassRole",),
        ("eks:CreateAddon", "eks:UpdateAddon", "eks:DeleteAddon"),
        admin_when=passes_a_role,
    ),
    # What CI applies on its own.
    "aws:eks/accessEntry:AccessEntry": Rule(
        NONE, (), ("eks:CreateAccessEntry", "eks:UpdateAccessEntry", "eks:DeleteAccessEntry")
    ),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": Rule(
        NONE, (), ("eks:AssociateAccessPolicy", "eks:DisassociateAccessPolicy")
    ),
    "aws:cloudwatch/logGroup:LogGroup": Rule(
        NONE, (), ("logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteLogGroup")
    ),
    "aws:ec2/vpc:Vpc": Rule(NONE, (), ("ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteVpc")),
    "aws:ec2/subnet:Subnet": Rule(
        NONE, (), ("ec2:CreateSubnet", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet")
    ),
    "aws:ec2/internetGateway:InternetGateway": Rule(
        NONE,
        (),
        ("ec2:CreateInternetGateway", "ec2:AttachInternetGateway",
         "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway"),
    ),
    "aws:ec2/eip:Eip": Rule(NONE, (), ("ec2:AllocateAddress", "ec2:ReleaseAddress")),
    "aws:ec2/natGateway:NatGateway": Rule(
        NONE, (), ("ec2:CreateNatGateway", "ec2:DeleteNatGateway")
    ),
    "aws:ec2/routeTable:RouteTable": Rule(
        NONE,
        (),
        ("ec2:CreateRouteTable", "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:DeleteRouteTable"),
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Rule(
        NONE, (), ("ec2:AssociateRouteTable", "ec2:DisassociateRouteTable")
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": Rule(
        NONE, (), ("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress")
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": Rule(
        NONE,
        (),
        ("ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:DeleteLaunchTemplate"),
    ),
    "aws:kms/alias:Alias": Rule(
        NONE, (), ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")
    ),
    "aws:secretsmanager/secret:Secret": Rule(
        NONE,
        (),
        ("secretsmanager:CreateSecret", "secretsmanager:UpdateSecret",
         "secretsmanager:DeleteSecret", "secretsmanager:ReplicateSecretToRegions",
         "secretsmanager:RemoveRegionsFromReplication"),
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": Rule(
        NONE, (), ("secretsmanager:PutSecretValue",)
    ),
    "aws:secretsmanager/secretRotation:SecretRotation": Rule(
        NONE, (), ("secretsmanager:RotateSecret", "secretsmanager:CancelRotateSecret")
    ),
    "aws:ssm/parameter:Parameter": Rule(NONE, (), ("ssm:PutParameter", "ssm:DeleteParameter")),
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    ops: tuple[str, ...]
    reason: str


def resource_type(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<parent$...$type>::<name>` -> `<type>`."""
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return parts[2].rsplit("$", 1)[-1]


def administrator_steps(plan: Mapping[str, Any]) -> list[Step]:
    """The steps of a saved plan (apitype.DeploymentPlanV1) that CI's deploy role cannot
    apply, in URN order. A changing step of an AWS type this gate does not know is one of
    them: nobody has checked what it calls."""
    if not isinstance(plan, Mapping) or not isinstance(plan.get("resourcePlans", {}), Mapping):
        raise ValueError("not a Pulumi update plan: no resourcePlans object")
    found = []
    for urn, entry in sorted((plan.get("resourcePlans") or {}).items()):
        if not isinstance(entry, Mapping):
            raise ValueError(f"{urn}: a resource plan must be an object")
        type_ = resource_type(urn)
        ops = tuple(entry.get("steps") or ())
        changing = [op for op in ops if op in CHANGES]
        if not changing or type_.startswith(NO_AWS_API):
            continue
        rule = RULES.get(type_)
        if rule is None:
            reason = "a type this gate does not know: add it to RULES in ci/plan_gate.py"
        elif set(changing) & rule.admin_ops or (
            rule.admin_when is not None and set(changing) - DELETES and rule.admin_when(entry)
        ):
            reason = ", ".join(rule.admin_actions)
        else:
            continue
        found.append(Step(urn, type_, ops, reason))
    return found


def report(stack: str, steps: list[Step]) -> str:
    if not steps:
        return f"CI may apply this plan of {stack}: it changes no permissions.\n"
    lines = [
        f"This plan of {stack} changes permissions, which CI's deploy role may not do "
        f"({len(steps)} step{'s' if len(steps) != 1 else ''}):",
        "",
        "| steps | type | resource | needs |",
        "| --- | --- | --- | --- |",
        *(
            f"| {' '.join(s.ops)} | `{s.type}` | `{s.urn.rsplit('::', 1)[-1]}` | {s.reason} |"
            for s in steps
        ),
        "",
        f"The {stack} permissions administrator applies it from a checkout of this commit "
        f'(docs/operations.md, "The permissions gate stopped a deploy"):',
        "",
        f"    pulumi up --stack <org>/{stack}   # as the {stack} permissions-admin role",
        "",
        "then re-runs this workflow, whose plan then holds no such step.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--plan", required=True, type=Path, help="pulumi preview --save-plan")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--summary", type=Path, help="append the report here (markdown)")
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 either way (pull-request previews)"
    )
    args = parser.parse_args(argv)
    try:
        steps = administrator_steps(json.loads(args.plan.read_text()))
    except (OSError, ValueError) as err:
        print(f"{args.plan}: {err}", file=sys.stderr)
        return 2
    text = report(args.stack, steps)
    print(text, end="")
    if args.summary:
        with args.summary.open("a") as summary:
            summary.write(text)
    return 0 if args.report_only or not steps else 1


if __name__ == "__main__":
    sys.exit(main())
