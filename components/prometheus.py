"""Prometheus for the adapter example: the prometheus-operator and one Prometheus from the
pinned kube-prometheus-stack chart, trimmed to those two (no Grafana, Alertmanager,
node-exporter, kube-state-metrics, default rules or control-plane monitors).

Prometheus selects ServiceMonitors by label in namespaces chosen by label, so a workload
opts in explicitly; `selects(...)` says whether a given ServiceMonitor will be scraped.
The chart's CRDs are installed by the Helm release, so custom resources (ServiceMonitor)
must depend on `release`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .k8s import PART_OF
from .namespace_baseline import NamespaceBaseline, NamespaceBaselineArgs, Quota
from .versions import KUBE_PROMETHEUS_STACK, ChartPin

FULLNAME = "kps"
"""Short object names: operator `kps-operator`, Prometheus `kps-prometheus`."""
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
"""Set by the operator on every Prometheus pod; NetworkPolicies admit scrapes by it."""
PROMETHEUS_UID = 1000
PROMETHEUS_GID = 2000
SCRAPE_SELECTOR = {"app.kubernetes.io/part-of": PART_OF}
"""The label a ServiceMonitor, and its namespace, must carry to be scraped."""


@dataclass(frozen=True)
class PrometheusArgs:
    """Inputs of Prometheus."""

    namespace: str = "monitoring"
    """Namespace of the operator and Prometheus, created here. Default: monitoring."""
    retention: str = "24h"
    """How long Prometheus keeps samples (a Prometheus duration). Default: 24h."""
    service_monitor_selector: Mapping[str, str] = field(default_factory=lambda: SCRAPE_SELECTOR)
    """Labels a ServiceMonitor (and a PodMonitor or PrometheusRule) must carry to be used; never
    empty. Default: SCRAPE_SELECTOR."""
    namespace_selector: Mapping[str, str] = field(default_factory=lambda: SCRAPE_SELECTOR)
    """Labels its namespace must carry; never empty. Default: SCRAPE_SELECTOR."""
    chart: ChartPin = KUBE_PROMETHEUS_STACK
    """The kube-prometheus-stack chart. Default: the pin in components/versions.py."""
    wait_for: tuple[pulumi.Resource, ...] = ()
    """The nodegroup, so the pods can schedule. Default: none."""

    def __post_init__(self) -> None:
        if not self.service_monitor_selector or not self.namespace_selector:
            raise ValueError("empty selectors would scrape every ServiceMonitor in the cluster")


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def chart_values(args: PrometheusArgs) -> dict[str, Any]:
    """kube-prometheus-stack values: operator plus one Prometheus, restricted-profile ready."""
    off = {"enabled": False}
    return {
        "fullnameOverride": FULLNAME,
        "crds": {"enabled": True},
        "defaultRules": {"create": False},
        "alertmanager": off,
        "grafana": off,
        "kubeStateMetrics": off,
        "nodeExporter": off,
        "windowsMonitoring": off,
        **{
            monitor: off
            for monitor in (
                "kubeApiServer",
                "kubelet",
                "kubeControllerManager",
                "coreDns",
                "kubeDns",
                "kubeEtcd",
                "kubeScheduler",
                "kubeProxy",
            )
        },
        "prometheusOperator": {
            # The admission webhook only validates PrometheusRules (none here); without it
            # there is no certificate Job to run and no API-server-to-pod traffic to allow.
            "admissionWebhooks": {"enabled": False, "patch": {"enabled": False}},
            "tls": {"enabled": False},
            "kubeletService": {"enabled": False},
            "serviceMonitor": {"selfMonitor": False},
            "resources": _resources("50m", "64Mi", "200m", "128Mi"),
            "prometheusConfigReloader": {
                "resources": _resources("10m", "32Mi", "50m", "64Mi"),
            },
        },
        "prometheus": {
            "serviceMonitor": {"selfMonitor": False},
            "prometheusSpec": {
                "replicas": 1,
                "retention": args.retention,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "serviceMonitorSelector": {"matchLabels": dict(args.service_monitor_selector)},
                # A nil namespace selector means "Prometheus's own namespace only".
                "serviceMonitorNamespaceSelector": {"matchLabels": dict(args.namespace_selector)},
                # Scoped like ServiceMonitors: with NilUsesHelmValues off, an empty selector
                # would pick up every PodMonitor and PrometheusRule in the cluster.
                "podMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelector": {"matchLabels": dict(args.service_monitor_selector)},
                "podMonitorNamespaceSelector": {"matchLabels": dict(args.namespace_selector)},
                "ruleSelectorNilUsesHelmValues": False,
                "ruleSelector": {"matchLabels": dict(args.service_monitor_selector)},
                "ruleNamespaceSelector": {"matchLabels": dict(args.namespace_selector)},
                "resources": _resources("100m", "256Mi", "500m", "512Mi"),
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": PROMETHEUS_UID,
                    "runAsGroup": PROMETHEUS_GID,
                    "fsGroup": PROMETHEUS_GID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            },
        },
    }


def selects(
    args: PrometheusArgs, monitor_labels: Mapping[str, str], namespace_labels: Mapping[str, str]
) -> bool:
    """True when this Prometheus scrapes a ServiceMonitor with these labels in a namespace
    with these labels (matchLabels semantics)."""
    return all(
        monitor_labels.get(k) == v for k, v in args.service_monitor_selector.items()
    ) and all(namespace_labels.get(k) == v for k, v in args.namespace_selector.items())


class Prometheus(pulumi.ComponentResource):
    """Exposes `release` (custom resources depend on it for the CRDs), `namespace` and
    `pod_labels` for NetworkPolicies that admit its scrapes."""

    def __init__(self, name: str, args: PrometheusArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:monitoring:Prometheus", name, None, opts)
        # Restricted fits: the chart and the operator set non-root, drop-ALL, read-only root
        # and RuntimeDefault seccomp on the operator and Prometheus pods. Egress stays open:
        # Prometheus scrapes across namespaces and watches the API server.
        self.baseline = NamespaceBaseline(
            f"{name}-namespace",
            NamespaceBaselineArgs(
                name=args.namespace,
                labels=dict(args.namespace_selector),
                quota=Quota(requests_memory="1Gi", limits_memory="2Gi", pods=6),
                deny_egress=False,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        chart = args.chart
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=FULLNAME,
            chart=chart.chart,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
            namespace=args.namespace,
            create_namespace=False,
            values=chart_values(args),
            timeout=600,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*self.baseline.ready, *args.wait_for]
            ),
        )
        self.namespace = args.namespace
        self.pod_labels = dict(PROMETHEUS_POD_LABELS)
        self.verify_command = (
            f"kubectl -n {args.namespace} exec prometheus-{FULLNAME}-prometheus-0 -c prometheus"
            " -- wget -qO- 'http://localhost:9090/api/v1/query?query=redis_up'"
        )
        self.register_outputs(
            {
                "namespace": self.namespace,
                "pod_labels": self.pod_labels,
                "verify_command": self.verify_command,
            }
        )
