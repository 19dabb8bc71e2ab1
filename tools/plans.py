"""Saved Pulumi update plans (apitype.DeploymentPlanV1, what `pulumi preview --save-plan`
writes) built from program runs under the mocks: the plan of an update from one run of
the program to another. For ci/plan_gate.py's tests and benchmark.
"""

from __future__ import annotations

from typing import Any

from tools.pulumi_mocks import Recorder

# What eks.Cluster creates from our inputs (serviceRole given, skipDefaultNodeGroup,
# skipDefaultSecurityGroups, API authentication with access entries, createOidcProvider,
# CoreDNS off): cluster.ts `new aws.eks.Cluster`, `new aws.eks.AccessEntry` and
# `AccessPolicyAssociation` (authenticationMode.ts), the kube-proxy `aws.eks.Addon`, the
# `VpcCniAddon` component and its `aws.eks.Addon` (cni-addon.ts), `new
# aws.iam.OpenIdConnectProvider`, and `new k8s.Provider`.
PULUMI_EKS_CHILDREN = {
    "aws:eks/cluster:Cluster": "eksCluster",
    "aws:eks/accessEntry:AccessEntry": "admin-0",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "admin-0-0",
    "aws:eks/addon:Addon": "kube-proxy",
    "eks:index:VpcCniAddon": "vpc-cni",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "oidcProvider",
    "pulumi:providers:kubernetes": "k8s",
}


def eks_children(after: Recorder) -> dict[str, str]:
    """URN -> type of what pulumi-eks creates under the run's eks.Cluster (a remote
    component: the mocks never see its children)."""
    (cluster,) = after.of_type("eks:index:Cluster")
    return {
        f"{cluster.urn.rsplit('::', 1)[0]}${type_}::{cluster.name}-{name}": type_
        for type_, name in PULUMI_EKS_CHILDREN.items()
    }


def plan_of(before: Recorder | None, after: Recorder) -> dict[str, Any]:
    """The saved plan of an update from the `before` run to the `after` run."""
    old = {r.urn: r for r in before.resources} if before else {}
    plans: dict[str, Any] = {}
    for resource in after.resources:
        previous = old.get(resource.urn)
        goal = {"type": resource.type, "name": resource.name, "custom": resource.custom}
        if previous is None:
            steps, diff = ["create"], {"adds": resource.inputs}
        elif previous.inputs != resource.inputs:
            changed = {k: v for k, v in resource.inputs.items() if previous.inputs.get(k) != v}
            steps, diff = ["update"], {"updates": changed}
        else:
            steps, diff = ["same"], {}
        plans[resource.urn] = {"goal": {**goal, "inputDiff": diff}, "steps": steps}
    for urn in old.keys() - plans.keys():
        plans[urn] = {"steps": ["delete"]}
    if before is None:
        for urn, type_ in eks_children(after).items():
            plans[urn] = {"goal": {"type": type_, "name": urn}, "steps": ["create"]}
    return {"manifest": {}, "resourcePlans": plans}
