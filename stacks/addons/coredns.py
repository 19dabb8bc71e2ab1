"""CoreDNS as a pinned EKS add-on, on a cluster this stack creates (an existing cluster's DNS
is its owner's)."""

from __future__ import annotations

from dataclasses import dataclass

from eksplatform.cluster import CoreDns, CoreDnsArgs

from stacks.config.model import ClusterSettings
from stacks.config.reader import ConfigReader
from stacks.platform import Platform

NAME = "coredns"


@dataclass(frozen=True)
class Settings:
    enabled: bool
    """Only on a cluster this stack creates."""
    kubernetes_version: str


def parse(r: ConfigReader, cluster: ClusterSettings) -> Settings:
    return Settings(enabled=not cluster.existing, kubernetes_version=cluster.kubernetes_version)


def deploy(platform: Platform, settings: Settings) -> None:
    if not settings.enabled:
        return
    CoreDns(
        NAME,
        CoreDnsArgs(
            cluster_name=platform.cluster.cluster_name,
            kubernetes_version=settings.kubernetes_version,
            tags=platform.config.tags,
            wait_for=list(platform.nodes),
        ),
    )
