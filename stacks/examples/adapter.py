"""Adapter pattern: redis plus a redis_exporter adapter that turns its INFO into
Prometheus metrics, scraped through a ServiceMonitor by a trimmed kube-prometheus-stack."""

from __future__ import annotations

from dataclasses import dataclass

from eksplatform.prometheus import (
    PROMETHEUS_POD_LABELS,
    SCRAPE_SELECTOR,
    Prometheus,
    PrometheusArgs,
)
from eksplatform.workloads import adapter

from stacks.app import App, AppArgs, Previously
from stacks.config import rules
from stacks.config.model import SecretRead, SecretSpec
from stacks.config.reader import ConfigReader
from stacks.examples import Deployed
from stacks.platform import Platform, root_alias

NAME = "adapter"


@dataclass(frozen=True)
class Settings:
    enabled: bool
    namespace: str
    monitoring_namespace: str
    """Where the prometheus-operator and Prometheus run; no other unit may use it."""

    def namespaces(self) -> list[tuple[str, str]]:
        return [
            (self.monitoring_namespace, "monitoringNamespace"),
            (self.namespace, "adapterNamespace"),
        ]

    def reads(self) -> list[SecretRead]:
        return []

    def created_secrets(self, prefix: str) -> list[tuple[str, str]]:
        return []


def parse(r: ConfigReader, secrets: tuple[SecretSpec, ...]) -> Settings:
    return Settings(
        enabled=r.boolean("enableAdapterExample"),
        namespace=r.string("adapterNamespace", check=rules.namespace),
        monitoring_namespace=r.string("monitoringNamespace", check=rules.namespace),
    )


def deploy(platform: Platform, settings: Settings) -> Deployed:
    app = App(
        NAME,
        AppArgs(
            platform=platform,
            namespace=settings.namespace,
            namespace_labels=SCRAPE_SELECTOR,
            ingress=adapter.network_rules(settings.monitoring_namespace, PROMETHEUS_POD_LABELS),
            previously=Previously(baseline=[root_alias()]),
        ),
        opts=platform.opts(),
    )
    prometheus = Prometheus(
        f"{NAME}-prometheus",
        PrometheusArgs(namespace=settings.monitoring_namespace, wait_for=tuple(platform.nodes)),
        opts=platform.opts(app, [root_alias("prometheus")]),
    )
    workload = adapter.AdapterExample(
        f"{NAME}-workload",
        adapter.AdapterExampleArgs(
            namespace=settings.namespace,
            service_monitor_labels=SCRAPE_SELECTOR,
            crd_ready=[prometheus.release],
            wait_for=app.ready,
        ),
        opts=platform.opts(app, [root_alias(NAME)]),
    )
    return Deployed(
        {"adapter": settings.namespace, "monitoring": settings.monitoring_namespace},
        {"adapter": workload.verify_command, "prometheus": prometheus.verify_command},
    )
