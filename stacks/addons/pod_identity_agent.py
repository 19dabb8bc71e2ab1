"""The EKS Pod Identity agent add-on: deployed when some app or enabled example of the stack
reads its secrets through Pod Identity, unless the existing cluster already runs it
(existingClusterRunsPodIdentityAgent). Pod Identity associations wait for it."""

from __future__ import annotations

import dataclasses

from eksplatform.pod_identity import PodIdentityAgent, PodIdentityAgentArgs

from stacks.config.model import StackBase
from stacks.config.reader import ConfigReader
from stacks.platform import Platform

NAME = "pod-identity-agent"

Settings = PodIdentityAgentArgs | None
"""The component's Args; None when the existing cluster already runs the agent."""


def parse(r: ConfigReader, base: StackBase) -> Settings:
    if r.boolean("existingClusterRunsPodIdentityAgent"):
        return None
    return r.build(PodIdentityAgentArgs, **base.eks_addon_fields)


def deploy(platform: Platform, settings: Settings) -> None:
    if settings is None:
        platform.pod_identity_agent_preinstalled = True
        return
    if not platform.config.uses_pod_identity:
        return
    platform.pod_identity_agent = PodIdentityAgent(
        NAME,
        dataclasses.replace(
            settings, cluster_name=platform.cluster.cluster_name, wait_for=list(platform.nodes)
        ),
    )
