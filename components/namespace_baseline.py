"""A hardened namespace: Pod Security Admission, default resources, a quota and
default-deny NetworkPolicies with the few allow rules a workload states.

Every example workload lives in one of these, so a pod that asks for more privilege,
more resources or more network than it declared is refused by the cluster, not by review.
NetworkPolicies are enforced on EKS only when the VPC CNI runs its network policy agent
(`enableNetworkPolicy`, on by default, wires `vpc_cni_options.enable_network_policy`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .k8s import Wire, app_labels, object_meta, pod_security_labels
from .validation import check_dns1123_label, check_dns1123_subdomain

NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every Namespace (1.22+): selects a namespace by its name."""
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
"""CoreDNS pods on EKS keep the historical kube-dns label."""
IMDS_CIDR = "169.254.169.254/32"
LEVELS = ("restricted", "baseline")


@dataclass(frozen=True)
class ContainerDefaults:
    """LimitRange defaults for containers that state no resources (CPU in cores, memory bytes)."""

    cpu_request: str = "50m"
    """CPU request of a container that states none, in Kubernetes CPU units (`50m` = 0.05 core).
    Default: `50m`."""
    memory_request: str = "64Mi"
    """Memory request of a container that states none, in bytes with a Kubernetes suffix. Default:
    `64Mi`."""
    cpu_limit: str = "500m"
    """CPU limit of a container that states none, in Kubernetes CPU units. Default: `500m`."""
    memory_limit: str = "256Mi"
    """Memory limit of a container that states none, in bytes with a Kubernetes suffix. Default:
    `256Mi`."""


@dataclass(frozen=True)
class Quota:
    """ResourceQuota of the namespace: the sum over all its pods."""

    requests_cpu: str = "1"
    """Sum of CPU requests over the namespace's pods, in Kubernetes CPU units (cores). Default:
    `1`."""
    requests_memory: str = "1Gi"
    """Sum of memory requests over the namespace's pods, in bytes with a suffix. Default: `1Gi`."""
    limits_cpu: str = "2"
    """Sum of CPU limits over the namespace's pods, in Kubernetes CPU units (cores).
    Default: `2`."""
    limits_memory: str = "2Gi"
    """Sum of memory limits over the namespace's pods, in bytes with a suffix. Default: `2Gi`."""
    pods: int = 10
    """Most pods the namespace may hold at once (count, at least 1). Default: 10."""

    def __post_init__(self) -> None:
        if self.pods < 1:
            raise ValueError(f"quota pods must be at least 1, not {self.pods}")


@dataclass(frozen=True)
class IngressAllow:
    """Lets some peers reach the pods matching `pod_labels` on `ports` (TCP).

    Peers: pods matching `from_pod_labels` in namespace `from_namespace` (this namespace
    when empty); with `from_anywhere`, every source (a load balancer's targets).
    """

    name: str
    """Suffix of the NetworkPolicy's name, `allow-ingress-<name>` (DNS-1123 subdomain; the
    whole name at most 253 characters, so at most 239). Required."""
    pod_labels: Mapping[str, str]
    """Labels selecting the pods that may be reached. Required."""
    ports: Sequence[int]
    """TCP port numbers (1-65535) of those pods that are opened. Required, 1-24 distinct."""
    from_pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the peer pods allowed in. Default: none (every pod of `from_namespace`)."""
    from_namespace: str = ""
    """Namespace of the peer pods. Plain `str`: whether it is given decides the rule's shape
    (a namespaceSelector or none), which must be known when the policy is built. Default:
    empty, this namespace."""
    from_anywhere: bool = False
    """Allow every source, inside the cluster or not (a load balancer's targets). Default: False."""

    def __post_init__(self) -> None:
        _check_rule(INGRESS_POLICY_PREFIX, self.name, self.pod_labels, self.ports)
        if self.from_anywhere and (self.from_pod_labels or self.from_namespace):
            raise ValueError(f"ingress rule {self.name!r}: from_anywhere excludes other peers")
        if not self.from_anywhere and not self.from_pod_labels:
            raise ValueError(f"ingress rule {self.name!r} needs from_pod_labels or from_anywhere")


@dataclass(frozen=True)
class EgressAllow:
    """Lets the pods matching `pod_labels` open connections on `ports` (TCP) to a peer:
    pods matching `to_pod_labels` (in `to_namespace`, or this namespace), or `to_cidr`."""

    name: str
    """Suffix of the NetworkPolicy's name, `allow-egress-<name>` (DNS-1123 subdomain; the
    whole name at most 253 characters, so at most 240). Required."""
    pod_labels: Mapping[str, str]
    """Labels selecting the pods whose connections are allowed out. Required."""
    ports: Sequence[int]
    """TCP port numbers (1-65535) they may connect to. Required, 1-24 distinct."""
    to_pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the peer pods. Default: none; give these or `to_cidr`."""
    to_namespace: str = ""
    """Namespace of the peer pods. Plain `str`: whether it is given decides the rule's shape
    (a namespaceSelector or none), which must be known when the policy is built. Default:
    empty, this namespace."""
    to_cidr: str = ""
    """An IPv4 CIDR block to reach instead of pods, e.g. `0.0.0.0/0`. Default: empty."""
    except_cidrs: Sequence[str] = ()
    """CIDR blocks inside `to_cidr` that stay closed. Default: none."""

    def __post_init__(self) -> None:
        _check_rule(EGRESS_POLICY_PREFIX, self.name, self.pod_labels, self.ports)
        if bool(self.to_cidr) == bool(self.to_pod_labels):
            raise ValueError(
                f"egress rule {self.name!r}: give exactly one of to_pod_labels, to_cidr"
            )
        for cidr in (self.to_cidr, *self.except_cidrs):
            if cidr:
                ipaddress.ip_network(cidr, strict=True)


INGRESS_POLICY_PREFIX = "allow-ingress-"
EGRESS_POLICY_PREFIX = "allow-egress-"
MAX_PORTS_PER_RULE = 24
"""EKS user guide "Limit Pod traffic with Kubernetes network policies", Considerations: "The
maximum number of unique combinations of ports for each protocol in each ingress: or egress:
selector in a network policy is 24" (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html).
Each rule is one selector of one protocol (TCP), so it may open at most 24 distinct ports."""


def check_policy_name(prefix: str, rule_name: str) -> str | None:
    """None when `<prefix><rule_name>` is a NetworkPolicy name Kubernetes accepts (a DNS-1123
    subdomain of at most 253 characters, "Object Names and IDs"), else what is allowed."""
    policy = f"{prefix}{rule_name}"
    if problem := check_dns1123_subdomain(rule_name):
        return problem
    if len(policy) > 253:
        return (
            f"makes the NetworkPolicy name {prefix}<name> {len(policy)} characters long; "
            f"Kubernetes object names have at most 253 (so at most {253 - len(prefix)} here)"
        )
    return None


def check_ports(ports: Sequence[int]) -> str | None:
    """None when `ports` are 1-24 distinct TCP ports, else what is allowed."""
    if not ports or any(not 1 <= p <= 65535 for p in ports):
        return "must be a non-empty list of TCP ports between 1 and 65535"
    if len(set(ports)) > MAX_PORTS_PER_RULE:
        return (
            f"lists {len(set(ports))} distinct ports; the VPC CNI network policy agent accepts "
            f"at most {MAX_PORTS_PER_RULE} per protocol in one ingress or egress rule: "
            "split it into several rules"
        )
    return None


def _check_rule(
    prefix: str, name: str, pod_labels: Mapping[str, str], ports: Sequence[int]
) -> None:
    if problem := check_policy_name(prefix, name):
        raise ValueError(f"rule name {name!r} {problem}")
    if not pod_labels:
        raise ValueError(f"rule {name!r} needs pod_labels: an empty selector opens every pod")
    if problem := check_ports(ports):
        raise ValueError(f"rule {name!r} ports {list(ports)} {problem}")


@dataclass(frozen=True)
class NamespaceBaselineArgs:
    """Inputs of NamespaceBaseline."""

    name: str
    """The namespace's name (DNS-1123 label); the Namespace is created. Required."""
    pod_security_level: str = "restricted"
    """Pod Security Standard enforced, audited and warned: `restricted` or `baseline`; a caller
    choosing baseline says why in a comment. Default: `restricted`."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels of the Namespace, e.g. ones a Prometheus namespaceSelector matches. Default:
    none."""
    container_defaults: ContainerDefaults = field(default_factory=ContainerDefaults)
    """LimitRange defaults for containers that state no resources.
    Default: `ContainerDefaults()`."""
    quota: Quota = field(default_factory=Quota)
    """ResourceQuota of the namespace. Default: `Quota()` (1 CPU, 1Gi requested, 10 pods)."""
    ingress: Sequence[IngressAllow] = ()
    """NetworkPolicies opening ingress past the default deny. Default: none."""
    egress: Sequence[EgressAllow] = ()
    """NetworkPolicies opening egress past the default deny. Default: none."""
    deny_egress: bool = True
    """Default-deny egress too (DNS stays allowed); False only where egress is unbounded, e.g.
    Prometheus scraping every namespace and the API server. Default: True."""
    namespace_aliases: Sequence[pulumi.Alias] = ()
    """Earlier identities of the Namespace resource, so adopting this component renames nothing in
    the cluster. Default: none."""

    def __post_init__(self) -> None:
        if problem := check_dns1123_label(self.name):
            raise ValueError(f"namespace {self.name!r} {problem}")
        if self.pod_security_level not in LEVELS:
            raise ValueError(
                f"pod_security_level {self.pod_security_level!r} is not one of {LEVELS}"
            )
        names = [r.name for r in (*self.ingress, *self.egress)]
        if len(names) != len(set(names)):
            raise ValueError(f"rule names must be unique in {self.name}: {names}")


def namespace_metadata(args: NamespaceBaselineArgs) -> k8s.meta.v1.ObjectMetaArgsDict:
    return {
        "name": args.name,
        "labels": {
            **app_labels(args.name, "namespace"),
            **dict(args.labels),
            **pod_security_labels(args.pod_security_level),
        },
    }


def limit_range_spec(defaults: ContainerDefaults) -> Wire:
    """Fills in requests and limits for containers that omit them, so the quota admits them."""
    return {
        "limits": [
            {
                "type": "Container",
                "defaultRequest": {"cpu": defaults.cpu_request, "memory": defaults.memory_request},
                "default": {"cpu": defaults.cpu_limit, "memory": defaults.memory_limit},
            }
        ]
    }


def resource_quota_spec(quota: Quota) -> Wire:
    return {
        "hard": {
            "requests.cpu": quota.requests_cpu,
            "requests.memory": quota.requests_memory,
            "limits.cpu": quota.limits_cpu,
            "limits.memory": quota.limits_memory,
            "pods": str(quota.pods),
        }
    }


def _ports(ports: Sequence[int], protocol: str = "TCP") -> list[dict[str, Any]]:
    return [{"protocol": protocol, "port": p} for p in ports]


def default_deny_spec(*, deny_egress: bool) -> dict[str, Any]:
    """Selects every pod and allows nothing: later policies add what is needed."""
    return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"] if deny_egress else ["Ingress"]}


def dns_egress_spec() -> dict[str, Any]:
    """Every pod may ask CoreDNS (UDP and TCP 53) in kube-system, and nothing else there."""
    return {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {NAME_LABEL: DNS_NAMESPACE}},
                        "podSelector": {"matchLabels": dict(DNS_POD_LABELS)},
                    }
                ],
                "ports": _ports([53], "UDP") + _ports([53], "TCP"),
            }
        ],
    }


def _peer(pod_labels: Mapping[str, str], namespace: str) -> dict[str, Any]:
    peer: dict[str, Any] = {"podSelector": {"matchLabels": dict(pod_labels)}}
    if namespace:
        peer["namespaceSelector"] = {"matchLabels": {NAME_LABEL: namespace}}
    return peer


def ingress_allow_spec(rule: IngressAllow) -> dict[str, Any]:
    entry: dict[str, Any] = {"ports": _ports(rule.ports)}
    if not rule.from_anywhere:
        entry["from"] = [_peer(rule.from_pod_labels, rule.from_namespace)]
    return {
        "podSelector": {"matchLabels": dict(rule.pod_labels)},
        "policyTypes": ["Ingress"],
        "ingress": [entry],
    }


def egress_allow_spec(rule: EgressAllow) -> dict[str, Any]:
    if rule.to_cidr:
        block: dict[str, Any] = {"cidr": rule.to_cidr}
        if rule.except_cidrs:
            block["except"] = list(rule.except_cidrs)
        to = [{"ipBlock": block}]
    else:
        to = [_peer(rule.to_pod_labels, rule.to_namespace)]
    return {
        "podSelector": {"matchLabels": dict(rule.pod_labels)},
        "policyTypes": ["Egress"],
        "egress": [{"to": to, "ports": _ports(rule.ports)}],
    }


def network_policy_specs(args: NamespaceBaselineArgs) -> dict[str, Wire]:
    """Every NetworkPolicy of the namespace, by object name."""
    specs = {"default-deny": default_deny_spec(deny_egress=args.deny_egress)}
    if args.deny_egress:
        specs["allow-dns-egress"] = dns_egress_spec()
    for rule in args.ingress:
        specs[f"{INGRESS_POLICY_PREFIX}{rule.name}"] = ingress_allow_spec(rule)
    for rule in args.egress:
        specs[f"{EGRESS_POLICY_PREFIX}{rule.name}"] = egress_allow_spec(rule)
    return specs


class NamespaceBaseline(pulumi.ComponentResource):
    """Exposes `namespace` (the Namespace resource), `name` and `ready`: everything a pod
    in the namespace must wait for (admission labels, defaults, quota, policies)."""

    def __init__(
        self, name: str, args: NamespaceBaselineArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:workloads:NamespaceBaseline", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=namespace_metadata(args),
            opts=pulumi.ResourceOptions(parent=self, aliases=list(args.namespace_aliases)),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        labels = app_labels(args.name, "namespace-baseline")

        def meta(object_name: str) -> k8s.meta.v1.ObjectMetaArgsDict:
            return object_meta(object_name, args.name, labels)

        self.limit_range = k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("container-defaults"),
            spec=limit_range_spec(args.container_defaults),
            opts=in_namespace,
        )
        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("namespace-quota"),
            spec=resource_quota_spec(args.quota),
            opts=in_namespace,
        )
        self.network_policies = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}", metadata=meta(policy_name), spec=spec, opts=in_namespace
            )
            for policy_name, spec in network_policy_specs(args).items()
        ]
        self.name = args.name
        self.ready: list[pulumi.Resource] = [
            self.namespace,
            self.limit_range,
            self.quota,
            *self.network_policies,
        ]
        self.register_outputs({"name": self.name})
