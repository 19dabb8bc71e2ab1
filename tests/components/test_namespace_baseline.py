"""NamespaceBaseline: PSA labels, defaults and quota, default-deny plus declared allows."""

import pulumi
import pytest
from eksplatform.namespace_baseline import (
    NAME_LABEL,
    ContainerDefaults,
    EgressAllow,
    IngressAllow,
    NamespaceBaseline,
    NamespaceBaselineArgs,
    Quota,
    limit_range_spec,
    namespace_metadata,
    network_policy_specs,
    resource_quota_spec,
)

WEB = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
CLIENT = {"app.kubernetes.io/name": "client", "app.kubernetes.io/instance": "client"}


def test_namespace_enforces_restricted_by_default():
    labels = namespace_metadata(NamespaceBaselineArgs(name="apps"))["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["app.kubernetes.io/part-of"] == "eks-secrets-platform"


def test_baseline_level_is_allowed_but_privileged_is_not():
    args = NamespaceBaselineArgs(name="apps", pod_security_level="baseline")
    assert namespace_metadata(args)["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    with pytest.raises(ValueError, match="pod_security_level 'privileged' is not one of"):
        NamespaceBaselineArgs(name="apps", pod_security_level="privileged")


def test_extra_labels_cannot_weaken_pod_security():
    args = NamespaceBaselineArgs(
        name="apps", labels={"pod-security.kubernetes.io/enforce": "privileged", "team": "a"}
    )
    labels = namespace_metadata(args)["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["team"] == "a"


def test_limit_range_fills_requests_and_limits_for_containers():
    spec = limit_range_spec(ContainerDefaults("10m", "16Mi", "100m", "32Mi"))
    assert spec == {
        "limits": [
            {
                "type": "Container",
                "defaultRequest": {"cpu": "10m", "memory": "16Mi"},
                "default": {"cpu": "100m", "memory": "32Mi"},
            }
        ]
    }


def test_quota_caps_cpu_memory_and_pods():
    hard = resource_quota_spec(Quota(pods=4))["hard"]
    assert set(hard) == {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods"}
    assert hard["pods"] == "4"
    with pytest.raises(ValueError, match="quota pods must be at least 1"):
        Quota(pods=0)


def test_default_deny_covers_ingress_and_egress_with_dns_allowed():
    specs = network_policy_specs(NamespaceBaselineArgs(name="apps"))
    assert specs["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = specs["allow-dns-egress"]["egress"][0]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_egress_stays_open_only_when_asked_and_then_needs_no_dns_rule():
    specs = network_policy_specs(NamespaceBaselineArgs(name="mon", deny_egress=False))
    assert specs == {"default-deny": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def test_ingress_rule_admits_only_the_named_peer_and_ports():
    rule = IngressAllow(
        "web-from-client", WEB, [8080], from_pod_labels=CLIENT, from_namespace="other"
    )
    spec = network_policy_specs(NamespaceBaselineArgs(name="apps", ingress=[rule]))[
        "allow-ingress-web-from-client"
    ]
    assert spec["podSelector"] == {"matchLabels": WEB}
    assert spec["policyTypes"] == ["Ingress"]
    assert spec["ingress"] == [
        {
            "ports": [{"protocol": "TCP", "port": 8080}],
            "from": [
                {
                    "podSelector": {"matchLabels": CLIENT},
                    "namespaceSelector": {"matchLabels": {NAME_LABEL: "other"}},
                }
            ],
        }
    ]


def test_ingress_from_anywhere_has_no_from_clause():
    rule = IngressAllow("web-https", WEB, [8443], from_anywhere=True)
    spec = network_policy_specs(NamespaceBaselineArgs(name="apps", ingress=[rule]))
    assert spec["allow-ingress-web-https"]["ingress"] == [
        {"ports": [{"protocol": "TCP", "port": 8443}]}
    ]


def test_egress_to_cidr_keeps_the_exceptions():
    rule = EgressAllow(
        "web-out", WEB, [443], to_cidr="0.0.0.0/0", except_cidrs=["169.254.169.254/32"]
    )
    spec = network_policy_specs(NamespaceBaselineArgs(name="apps", egress=[rule]))
    assert spec["allow-egress-web-out"]["egress"][0]["to"] == [
        {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: IngressAllow("r", {}, [80], from_anywhere=True), "an empty selector opens"),
        (lambda: IngressAllow("r", WEB, [0], from_anywhere=True), "ports between 1 and 65535"),
        (lambda: IngressAllow("r", WEB, [80]), "needs from_pod_labels or from_anywhere"),
        (
            lambda: IngressAllow("r", WEB, [80], from_pod_labels=CLIENT, from_anywhere=True),
            "from_anywhere excludes other peers",
        ),
        (lambda: EgressAllow("r", WEB, [80]), "exactly one of to_pod_labels, to_cidr"),
        (lambda: EgressAllow("r", WEB, [80], to_cidr="10.0.0.1/8"), "has host bits set"),
        (lambda: NamespaceBaselineArgs(name="Apps"), "namespace 'Apps' must be a DNS-1123"),
        (
            lambda: NamespaceBaselineArgs(
                name="apps",
                ingress=[IngressAllow("r", WEB, [80], from_anywhere=True)],
                egress=[EgressAllow("r", WEB, [80], to_pod_labels=CLIENT)],
            ),
            "rule names must be unique",
        ),
    ],
)
def test_bad_rules_and_args_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_component_registers_namespace_limits_quota_and_policies_in_it(build):
    rule = IngressAllow("web-https", WEB, [8443], from_anywhere=True)

    def program():
        NamespaceBaseline("apps", NamespaceBaselineArgs(name="apps", ingress=[rule]))

    rec = build(program)
    ns = rec.named("apps-namespace")
    assert ns.inputs["metadata"]["name"] == "apps"
    policies = rec.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert sorted(p.inputs["metadata"]["name"] for p in policies) == [
        "allow-dns-egress",
        "allow-ingress-web-https",
        "default-deny",
    ]
    for child in (
        rec.named("apps-limits"),
        rec.named("apps-quota"),
        *policies,
    ):
        assert child.inputs["metadata"]["namespace"] == "apps"
        assert rec.depends_on(child, ns), f"{child.name} does not wait for the namespace"


def test_namespace_alias_keeps_an_adopted_namespace(build):
    captured = {}

    def program():
        alias = pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)
        baseline = NamespaceBaseline(
            "demo", NamespaceBaselineArgs(name="secrets-demo", namespace_aliases=[alias])
        )
        captured["ready"] = baseline.ready

    rec = build(program)
    assert rec.named("demo-namespace").parent.endswith("NamespaceBaseline::demo")
    assert len(captured["ready"]) == 5  # namespace, limits, quota, deny, dns


def _long(n: int) -> str:
    """A DNS-1123 subdomain of exactly n characters (labels of at most 63)."""
    labels, left = [], n
    while left > 0:
        size = min(63, left if left <= 63 else left - 2)
        labels.append("a" * size)
        left -= size + 1
    return ".".join(labels)


def test_rule_names_are_refused_once_the_policy_name_passes_253_characters():
    """NetworkPolicy names are Kubernetes object names: `allow-ingress-<rule>` <= 253."""
    assert len(_long(239)) == 239 and len(_long(240)) == 240
    IngressAllow(_long(239), WEB, [80], from_anywhere=True)
    EgressAllow(_long(240), WEB, [80], to_cidr="10.0.0.0/8")
    with pytest.raises(ValueError, match="NetworkPolicy name allow-ingress-<name> 254"):
        IngressAllow(_long(240), WEB, [80], from_anywhere=True)
    with pytest.raises(ValueError, match="NetworkPolicy name allow-egress-<name> 254"):
        EgressAllow(_long(241), WEB, [80], to_cidr="10.0.0.0/8")


def test_a_rule_opens_at_most_24_distinct_ports():
    """The VPC CNI's agent takes at most 24 ports per protocol in one ingress/egress rule."""
    IngressAllow("r", WEB, [*range(1, 25), 1], from_anywhere=True)  # 24 distinct
    with pytest.raises(ValueError, match="lists 25 distinct ports"):
        IngressAllow("r", WEB, list(range(1, 26)), from_anywhere=True)
    with pytest.raises(ValueError, match="lists 25 distinct ports"):
        EgressAllow("r", WEB, list(range(1, 26)), to_cidr="10.0.0.0/8")
