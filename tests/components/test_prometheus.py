"""Prometheus: pinned, trimmed kube-prometheus-stack whose Prometheus finds our monitors."""

import pytest
from eksplatform.prometheus import (
    FULLNAME,
    SCRAPE_SELECTOR,
    Prometheus,
    PrometheusArgs,
    chart_values,
    selects,
)
from eksplatform.versions import KUBE_PROMETHEUS_STACK

from tests.pod_security import violations


def test_only_the_operator_and_one_prometheus_are_installed():
    values = chart_values(PrometheusArgs())
    for component in ("alertmanager", "grafana", "kubeStateMetrics", "nodeExporter"):
        assert values[component] == {"enabled": False}, component
    assert values["defaultRules"] == {"create": False}
    assert values["kubeApiServer"] == {"enabled": False}
    assert values["crds"] == {"enabled": True}
    assert values["prometheusOperator"]["admissionWebhooks"]["enabled"] is False
    assert values["prometheus"]["prometheusSpec"]["replicas"] == 1


def test_prometheus_selects_labelled_monitors_in_labelled_namespaces():
    spec = chart_values(PrometheusArgs())["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["serviceMonitorSelector"] == {"matchLabels": SCRAPE_SELECTOR}
    # nil would mean Prometheus's own namespace only
    assert spec["serviceMonitorNamespaceSelector"] == {"matchLabels": SCRAPE_SELECTOR}
    assert selects(PrometheusArgs(), SCRAPE_SELECTOR, SCRAPE_SELECTOR)
    assert not selects(PrometheusArgs(), {}, SCRAPE_SELECTOR)
    assert not selects(PrometheusArgs(), SCRAPE_SELECTOR, {"team": "x"})


def test_pod_monitor_and_rule_selectors_are_scoped_not_empty():
    spec = chart_values(PrometheusArgs())["prometheus"]["prometheusSpec"]
    for kind in ("podMonitor", "rule"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False
        assert spec[f"{kind}Selector"] == {"matchLabels": SCRAPE_SELECTOR}, kind
        assert spec[f"{kind}NamespaceSelector"] == {"matchLabels": SCRAPE_SELECTOR}, kind


def test_prometheus_pod_settings_fit_the_restricted_profile():
    spec = chart_values(PrometheusArgs())["prometheus"]["prometheusSpec"]
    pod = {
        "securityContext": spec["securityContext"],
        "containers": [
            {
                "name": "prometheus",
                # what the operator sets on its containers
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    assert violations(pod, "restricted") == []


def test_empty_selectors_are_refused():
    with pytest.raises(ValueError, match="would scrape every ServiceMonitor"):
        PrometheusArgs(service_monitor_selector={})


def test_release_is_pinned_and_waits_for_its_hardened_namespace(build):
    rec = build(lambda: Prometheus("prometheus", PrometheusArgs(namespace="monitoring")))
    release = rec.named("prometheus-release")
    assert release.inputs["chart"] == "kube-prometheus-stack"
    assert release.inputs["version"] == KUBE_PROMETHEUS_STACK.version
    assert release.inputs["repositoryOpts"]["repo"] == KUBE_PROMETHEUS_STACK.repo
    assert release.inputs["name"] == FULLNAME
    assert release.inputs["namespace"] == "monitoring"
    assert release.inputs["createNamespace"] is False
    namespace = rec.named("prometheus-namespace-namespace")
    labels = namespace.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert rec.depends_on(release, namespace)
    assert rec.depends_on(release, rec.named("prometheus-namespace-quota"))
    policy_types = rec.named("prometheus-namespace-default-deny").inputs["spec"]["policyTypes"]
    assert policy_types == ["Ingress"]
