"""Every rendered Kubernetes object passes the stack version's strict schema and the checks
the schemas cannot express; each check also rejects a deliberately broken sample."""

from __future__ import annotations

import copy

import pytest

from tests.validation.conftest import require
from tools import gate

VERSION = "1.35"


def _deployment(name: str = "web", namespace: str = "shop") -> dict:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginxinc/nginx-unprivileged:1.29.3-alpine",
                            "ports": [{"name": "http", "containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }


def _service(selector: dict, **spec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            **spec,
        },
    }


def _namespace(labels: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}


def _cluster(*objects: dict) -> gate.Cluster:
    return gate.Cluster({f"k8s/sample/{i}.yaml": o for i, o in enumerate(objects)})


GOOD_SELECTOR = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}


# --- the render of every stack ---------------------------------------------------------------


def test_stack_renders_kubernetes_objects(rendered):
    require(rendered, rendered.manifests, "Kubernetes object")


def test_every_object_passes_the_strict_schema_of_the_stack_version(rendered):
    version = rendered.kubernetes_version
    gate.schema_version(version)  # a version newer than the bundled schemas fails here
    errors = [
        error
        for path, manifest in rendered.manifests.items()
        for error in gate.object_errors(manifest, version, gate.describe(path, manifest))
    ]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("check", sorted(gate.SEMANTIC_CHECKS))
def test_objects_pass_the_checks_schemas_miss(rendered, check):
    errors = gate.SEMANTIC_CHECKS[check](rendered.cluster)
    assert not errors, "\n".join(errors)


# --- each check can fail ---------------------------------------------------------------------


def test_schema_check_reports_every_error_not_just_the_first():
    broken = _deployment()
    broken["spec"]["replicas"] = "two"
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 7
    broken["spec"]["template"]["spec"]["containers"][0]["portz"] = []
    errors = gate.kubernetes_schema_errors(broken, VERSION, "broken")
    assert len(errors) >= 3, errors
    assert any("spec.replicas" in e for e in errors)
    assert any("portz" in e for e in errors), "strict mode must reject unknown fields"


def test_schema_check_passes_a_good_deployment():
    assert gate.kubernetes_schema_errors(_deployment(), VERSION, "good") == []


def test_object_with_no_schema_of_any_kind_fails():
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert "no schema for example.com/v1 Widget" in gate.object_errors(unknown, VERSION, "w")[0]


def test_cluster_version_newer_than_the_bundled_schemas_is_refused():
    with pytest.raises(gate.GateError, match=r"not 9\.99"):
        gate.schema_version("9.99")


def test_enum_check_rejects_bad_service_type_protocol_and_policy_type():
    service = _service(GOOD_SELECTOR, type="Loadbalancer")
    service["spec"]["ports"][0]["protocol"] = "tcp"
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Inbound"]},
    }
    errors = gate.enum_errors(_cluster(_deployment(), service, policy))
    assert len(errors) == 3, errors
    assert any("'Loadbalancer'" in e for e in errors)
    assert any("'tcp'" in e for e in errors)
    assert any("'Inbound'" in e for e in errors)


def test_deployment_whose_selector_misses_its_template_is_rejected():
    broken = _deployment()
    broken["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = "other"
    errors = gate.workload_selector_errors(_cluster(broken))
    assert len(errors) == 1 and "does not match the template labels" in errors[0]


def test_service_and_network_policy_selecting_no_pod_are_rejected():
    service = _service({"app.kubernetes.io/name": "nope"})
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "gone"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "ghost"}}}]}],
        },
    }
    errors = gate.selector_target_errors(_cluster(_deployment(), service, policy))
    assert len(errors) == 3, errors
    assert all("selects no pod" in e for e in errors)


def _egress_policy(namespace: str, labels: dict) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-egress-to-db", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": labels},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}]}],
        },
    }


def test_a_team_app_namespace_is_opaque_but_one_with_the_programs_pods_is_checked():
    """README onboarding: `payments` has no built-in workload, so its pods are the team's
    and its egress policy's selector cannot be checked against the render; `shop` has the
    program's Deployment, so a selector there that matches none of its pods still fails."""
    apps = {
        "payments": {"namespace": "payments", "serviceAccount": "payments"},
        "shop": {"namespace": "shop", "serviceAccount": "shop"},
    }
    team_policy = _egress_policy("payments", {"app": "payments"})
    stale_policy = _egress_policy("shop", {"app": "gone"})
    manifests = {
        f"k8s/sample/{i}.yaml": o for i, o in enumerate([_deployment(), team_policy, stale_policy])
    }
    assert gate.team_namespaces(manifests, apps) == {"payments"}
    opaque = gate.Cluster(manifests, opaque_namespaces=gate.team_namespaces(manifests, apps))
    errors = gate.selector_target_errors(opaque)
    assert [e.split(":")[0] for e in errors] == [
        "k8s/sample/2.yaml (NetworkPolicy/allow-egress-to-db)"
    ]
    assert "selects no pod in namespace shop" in errors[0]
    assert len(gate.selector_target_errors(gate.Cluster(manifests))) == 2


def test_a_namespace_named_but_not_rendered_is_outside_the_program_other_labels_must_match():
    """An app's `ingress: [{fromNamespace: web, ...}]` names a namespace the team created
    outside the program; a selector by any other label still has to select a namespace."""

    def ingress_from(namespace_selector: dict) -> dict:
        peer = {"namespaceSelector": namespace_selector, "podSelector": {"matchLabels": {"a": "b"}}}
        policy = _egress_policy("shop", GOOD_SELECTOR)
        policy["spec"] = {
            "podSelector": {"matchLabels": GOOD_SELECTOR},
            "ingress": [{"from": [peer]}],
        }
        return policy

    by_name = ingress_from({"matchLabels": {"kubernetes.io/metadata.name": "web"}})
    by_label = ingress_from({"matchLabels": {"team": "web"}})
    assert gate.selector_target_errors(_cluster(_deployment(), by_name)) == []
    (error,) = gate.selector_target_errors(_cluster(_deployment(), by_label))
    assert error.endswith("namespaceSelector {'matchLabels': {'team': 'web'}} selects no namespace")


def test_service_selecting_its_pods_passes_and_a_wrong_named_target_port_fails():
    assert gate.selector_target_errors(_cluster(_deployment(), _service(GOOD_SELECTOR))) == []
    service = _service(GOOD_SELECTOR)
    service["spec"]["ports"][0]["targetPort"] = "https"
    errors = gate.selector_target_errors(_cluster(_deployment(), service))
    assert len(errors) == 1 and "targetPort 'https'" in errors[0]


def test_pod_referencing_a_missing_secret_provider_class_is_rejected():
    broken = _deployment()
    broken["spec"]["template"]["spec"]["volumes"] = [
        {
            "name": "s",
            "csi": {
                "driver": "secrets-store.csi.k8s.io",
                "volumeAttributes": {"secretProviderClass": "absent"},
            },
        },
    ]
    errors = gate.reference_errors(_cluster(broken))
    assert len(errors) == 1 and "no SecretProviderClass 'absent'" in errors[0]


def test_bad_pod_security_labels_are_rejected():
    broken = _namespace(
        {
            "pod-security.kubernetes.io/enforce": "strict",
            "pod-security.kubernetes.io/warn-version": "1.35",
            "pod-security.kubernetes.io/enforcement": "restricted",
        }
    )
    errors = gate.pod_security_label_errors(_cluster(broken))
    assert len(errors) == 3, errors
    unlabelled = gate.pod_security_label_errors(_cluster(_namespace({})))
    assert unlabelled == [
        "k8s/sample/0.yaml (Namespace/shop): no pod-security.kubernetes.io/enforce label"
    ]
    assert gate.pod_security_label_errors(_cluster(_namespace(RESTRICTED))) == []


def test_selector_semantics_follow_kubernetes():
    labels = {"app": "web", "tier": "front"}
    assert gate.selector_matches({}, labels)
    assert gate.selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert not gate.selector_matches({"matchLabels": {"app": "db"}}, labels)
    expressions = [
        ({"key": "tier", "operator": "In", "values": ["front", "back"]}, True),
        ({"key": "tier", "operator": "NotIn", "values": ["front"]}, False),
        ({"key": "zone", "operator": "Exists"}, False),
        ({"key": "zone", "operator": "DoesNotExist"}, True),
    ]
    for expression, expected in expressions:
        assert gate.selector_matches({"matchExpressions": [expression]}, labels) is expected
    assert copy.deepcopy(labels) == labels


def test_service_port_other_than_its_container_port_fails_where_a_network_policy_applies():
    """EKS: "the service port must be the same as the container port" under VPC CNI policies."""
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    mapped = _service(GOOD_SELECTOR)  # port 80 -> http (8080)
    assert gate.service_port_errors(_cluster(_deployment(), mapped)) == []  # no policy there
    errors = gate.service_port_errors(_cluster(_deployment(), mapped, deny))
    assert len(errors) == 1 and "port 80 targets container port 8080" in errors[0]
    equal = _service(GOOD_SELECTOR)
    equal["spec"]["ports"][0]["port"] = 8080
    assert gate.service_port_errors(_cluster(_deployment(), equal, deny)) == []
