"""Adapter pattern (seeds 001, 004): redis knows nothing of Prometheus; the
redis_exporter beside it translates redis's INFO into Prometheus metrics on :9121, and a
ServiceMonitor tells the prometheus-operator to scrape them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..k8s import (
    Wire,
    app_labels,
    exec_probe,
    http_probe,
    object_meta,
    resources,
    restricted_container_security_context,
    restricted_pod_security_context,
    selector_labels,
    when_known,
)
from ..namespace_baseline import IngressAllow
from ..validation import check_dns1123_label
from ..versions import REDIS_EXPORTER_IMAGE, REDIS_IMAGE
from ..workloads.common import check_service_ports, deployment_spec, service_port

APP_NAME = "redis-adapter"
REDIS_PORT = 6379
METRICS_PORT = 9121
REDIS_UID = 999
"""The redis user of the official image (gid 1000)."""
REDIS_GID = 1000
EXPORTER_UID = 59000
"""The user redis_exporter's scratch image declares."""
SERVICE_MONITOR_API = "monitoring.coreos.com/v1"
REDIS_COMMAND = [
    *("redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT)),
    *("--protected-mode", "yes", "--dir", "/data", "--save", "", "--appendonly", "no"),
]


def adapter_labels() -> dict[str, str]:
    return app_labels(APP_NAME, "cache")


def redis_container() -> dict[str, Any]:
    """redis on loopback only (only the adapter reads it), no persistence, data in emptyDir."""
    ping = ["redis-cli", "-h", "127.0.0.1", "-p", str(REDIS_PORT), "ping"]
    return {
        "name": "redis",
        "image": REDIS_IMAGE,
        "command": REDIS_COMMAND,
        "resources": resources("25m", "32Mi", cpu_limit="200m", memory_limit="128Mi"),
        "readinessProbe": exec_probe(ping),
        "livenessProbe": exec_probe(ping, initial_delay=10, period=20),
        "securityContext": {
            **restricted_container_security_context(),
            "runAsUser": REDIS_UID,
            "runAsGroup": REDIS_GID,
        },
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }


def exporter_container() -> dict[str, Any]:
    return {
        "name": "redis-exporter",
        "image": REDIS_EXPORTER_IMAGE,
        "env": [
            {"name": "REDIS_ADDR", "value": f"redis://127.0.0.1:{REDIS_PORT}"},
            {"name": "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", "value": f":{METRICS_PORT}"},
        ],
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
        "resources": resources("10m", "16Mi", cpu_limit="100m", memory_limit="64Mi"),
        "readinessProbe": http_probe("/health", "metrics"),
        "livenessProbe": http_probe("/health", "metrics", initial_delay=10, period=20),
        "securityContext": {
            **restricted_container_security_context(),
            "runAsUser": EXPORTER_UID,
            "runAsGroup": EXPORTER_UID,
        },
    }


def adapter_pod_spec() -> dict[str, Any]:
    return {
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod_security_context(REDIS_UID, REDIS_GID),
        "containers": [redis_container(), exporter_container()],
        "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "64Mi"}}],
    }


def service_spec() -> Wire:
    return {
        "type": "ClusterIP",
        "selector": selector_labels(adapter_labels()),
        "ports": [service_port("metrics", METRICS_PORT)],
    }


def service_monitor_spec(namespace: str, interval: str = "30s") -> dict[str, Any]:
    """Selects the adapter's Service (by its labels) and scrapes its named `metrics` port."""
    return {
        "selector": {"matchLabels": selector_labels(adapter_labels())},
        "namespaceSelector": {"matchNames": [namespace]},
        "endpoints": [{"port": "metrics", "path": "/metrics", "interval": interval}],
    }


def network_rules(
    prometheus_namespace: str, prometheus_pod_labels: Mapping[str, str]
) -> list[IngressAllow]:
    """Only Prometheus may reach the exporter, and only its metrics port; redis itself
    listens on loopback and needs no rule."""
    return [
        IngressAllow(
            name="metrics-from-prometheus",
            pod_labels=selector_labels(adapter_labels()),
            ports=[METRICS_PORT],
            from_pod_labels=dict(prometheus_pod_labels),
            from_namespace=prometheus_namespace,
        )
    ]


def verify_command(namespace: str) -> str:
    return (
        f"kubectl -n {namespace} port-forward svc/{APP_NAME} {METRICS_PORT} & sleep 3; "
        f"curl -s localhost:{METRICS_PORT}/metrics | grep -E '^redis_(up|connected_clients) '; "
        "kill %1"
    )


@dataclass(frozen=True)
class AdapterExampleArgs:
    """Inputs of AdapterExample."""

    namespace: pulumi.Input[str]
    """Kubernetes namespace of the workload (DNS-1123 label, checked when plain); it must exist.
    Required."""
    service_monitor_labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels the Prometheus serviceMonitorSelector matches. Default: none."""
    crd_ready: Sequence[pulumi.Resource] = ()
    """What installs the ServiceMonitor CRD (the Prometheus Helm release). Default: none, which
    is refused: name at least one."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The namespace baseline. Default: none."""

    def __post_init__(self) -> None:
        if isinstance(self.namespace, str) and (problem := check_dns1123_label(self.namespace)):
            raise ValueError(f"namespace {self.namespace!r} {problem}")
        if not self.crd_ready:
            raise ValueError("crd_ready must name what installs the ServiceMonitor CRD")


class AdapterExample(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: AdapterExampleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:workloads:AdapterExample", name, None, opts)
        ns = args.namespace
        labels = adapter_labels()
        pod_spec = adapter_pod_spec()
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for))
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=object_meta(APP_NAME, ns, labels),
            spec=deployment_spec(labels, pod_spec),
            opts=in_namespace,
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=object_meta(APP_NAME, ns, labels),
            spec=check_service_ports(service_spec(), pod_spec),
            opts=in_namespace,
        )
        self.service_monitor = k8s.apiextensions.CustomResource(
            f"{name}-servicemonitor",
            api_version=SERVICE_MONITOR_API,
            kind="ServiceMonitor",
            metadata=object_meta(APP_NAME, ns, {**labels, **dict(args.service_monitor_labels)}),
            spec=when_known(ns, service_monitor_spec),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*args.wait_for, *args.crd_ready, self.service]
            ),
        )
        self.verify_command: pulumi.Input[str] = when_known(ns, verify_command)
        self.register_outputs({"verify_command": self.verify_command})
