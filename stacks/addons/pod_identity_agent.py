"""The EKS Pod Identity agent add-on: deployed when some app or enabled example of the stack
reads its secrets through Pod Identity, unless the existing cluster already runs it
(existingClusterRunsPodIdentityAgent). Pod Identity associations wait for it."""

from __future__ import annotations

from dataclasses import dataclass

from eksplatform.pod_identity import PodIdentityAgent, PodIdentityAgentArgs

from stacks.config.model import ClusterSettings
from stacks.config.reader import ConfigReader
from stacks.platform import Platform

NAME = "pod-identity-agent"


@dataclass(frozen=True)
class Settings:
    already_running: bool
    """The existing cluster already runs the agent: nothing to deploy."""
    kubernetes_version: str


def parse(r: ConfigReader, cluster: ClusterSettings) -> Settings:
    return Settings(
        already_running=cluster.runs_pod_identity_agent,
        kubernetes_version=cluster.kubernetes_version,
    )


def deploy(platform: Platform, settings: Settings) -> None:
    if settings.already_running or not platform.config.uses_pod_identity:
        return
    platform.pod_identity_agent = PodIdentityAgent(
        NAME,
        PodIdentityAgentArgs(
            cluster_name=platform.cluster.cluster_name,
            kubernetes_version=settings.kubernetes_version,
            tags=platform.config.tags,
            wait_for=list(platform.nodes),
        ),
    )
