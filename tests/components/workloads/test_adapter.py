"""Adapter: redis + redis_exporter, a Service on 9121, a ServiceMonitor Prometheus selects."""

import pytest
from cloudcoil.models.prometheus_operator.v1 import ServiceMonitor
from eksplatform.namespace_baseline import NamespaceBaselineArgs, namespace_metadata
from eksplatform.prometheus import (
    PROMETHEUS_POD_LABELS,
    SCRAPE_SELECTOR,
    Prometheus,
    PrometheusArgs,
)
from eksplatform.prometheus import (
    selects as prom_selects,
)
from eksplatform.workloads.adapter import (
    METRICS_PORT,
    AdapterExample,
    AdapterExampleArgs,
    adapter_labels,
    adapter_pod_spec,
    network_rules,
    service_monitor_spec,
    service_spec,
)

from tests.workload_checks import assert_hardened, container, mounts, selects, volumes_are_declared


def test_pod_pairs_loopback_redis_with_the_exporter_on_9121():
    spec = adapter_pod_spec()
    assert_hardened(spec)
    assert volumes_are_declared(spec)
    redis = container(spec, "redis")
    exporter = container(spec, "redis-exporter")
    assert redis["command"][:3] == ["redis-server", "--bind", "127.0.0.1"]
    assert mounts(redis) == {"/data": "data"}
    assert "emptyDir" in spec["volumes"][0]
    assert exporter["image"].startswith("oliver006/redis_exporter:v")
    assert exporter["ports"] == [{"name": "metrics", "containerPort": 9121, "protocol": "TCP"}]
    assert {"name": "REDIS_ADDR", "value": "redis://127.0.0.1:6379"} in exporter["env"]
    assert exporter["readinessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}
    assert redis["livenessProbe"]["exec"]["command"][-1] == "ping"
    assert exporter["securityContext"]["runAsUser"] == 59000
    assert redis["securityContext"]["runAsUser"] == 999


def test_service_exposes_the_named_metrics_port_of_the_pod():
    spec = service_spec()
    assert spec["ports"] == [
        {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"}
    ]
    assert selects(spec["selector"], adapter_labels())


def test_service_monitor_selects_the_service_and_is_a_valid_custom_resource():
    spec = service_monitor_spec("adapter-example")
    assert selects(spec["selector"]["matchLabels"], adapter_labels())
    assert spec["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    assert spec["namespaceSelector"] == {"matchNames": ["adapter-example"]}
    ServiceMonitor.model_validate(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": "redis-adapter", "namespace": "adapter-example"},
            "spec": spec,
        }
    )


def test_only_prometheus_may_scrape_the_exporter():
    (rule,) = network_rules("monitoring", PROMETHEUS_POD_LABELS)
    assert selects(rule.pod_labels, adapter_labels())
    assert rule.from_namespace == "monitoring"
    assert rule.from_pod_labels == PROMETHEUS_POD_LABELS
    assert list(rule.ports) == [METRICS_PORT]


def test_service_monitor_needs_what_installs_its_crd():
    with pytest.raises(ValueError, match="crd_ready must name"):
        AdapterExampleArgs(namespace="adapter-example")


def test_component_creates_the_service_monitor_after_the_crd_and_prometheus_scrapes_it(build):
    def program():
        prometheus = Prometheus("prometheus", PrometheusArgs())
        AdapterExample(
            "adapter",
            AdapterExampleArgs(
                namespace="adapter-example",
                service_monitor_labels=SCRAPE_SELECTOR,
                crd_ready=[prometheus.release],
            ),
        )

    rec = build(program)
    monitor = rec.named("adapter-servicemonitor")
    assert monitor.inputs["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor.inputs["kind"] == "ServiceMonitor"
    assert rec.depends_on(monitor, rec.named("prometheus-release"))
    service = rec.named("adapter-service")
    deployment = rec.named("adapter-deployment")
    pod_labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
    assert selects(service.inputs["spec"]["selector"], pod_labels)
    assert selects(
        monitor.inputs["spec"]["selector"]["matchLabels"], service.inputs["metadata"]["labels"]
    )
    namespace_labels = namespace_metadata(NamespaceBaselineArgs(name="adapter-example"))["labels"]
    assert prom_selects(PrometheusArgs(), monitor.inputs["metadata"]["labels"], namespace_labels)
