"""The EKS Pod Identity agent add-on: deployed when some app or enabled example of the stack
reads its secrets through Pod Identity, unless the existing cluster already runs it
(existingClusterRunsPodIdentityAgent). Pod Identity associations wait for it."""

from __future__ import annotations

from dataclasses import dataclass

from eksplatform.pod_identity import PodIdentityAgent, PodIdentityAgentArgs

from stacks.config.model import StackBase
from stacks.config.reader import ConfigReader
from stacks.platform import Platform

NAME = "pod-identity-agent"


@dataclass(frozen=True)
class Settings:
    already_running: bool
    """existingClusterRunsPodIdentityAgent: nothing to deploy. The agent's Args are built at
    deploy, and only when a workload uses Pod Identity: whether one does is known once the apps
    and examples are parsed, and a version without the agent's pin must not fail an IRSA-only
    stack."""


def parse(r: ConfigReader, base: StackBase) -> Settings:
    return Settings(already_running=r.boolean("existingClusterRunsPodIdentityAgent"))


def deploy(platform: Platform, settings: Settings) -> None:
    config = platform.config
    if settings.already_running or not config.uses_pod_identity:
        return
    platform.pod_identity_agent = PodIdentityAgent(
        NAME,
        PodIdentityAgentArgs(
            cluster_name=platform.cluster.cluster_name,
            kubernetes_version=config.kubernetes_version,
            tags=config.tags,
            wait_for=list(platform.nodes),
        ),
    )
