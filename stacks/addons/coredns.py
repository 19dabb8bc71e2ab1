"""CoreDNS as a pinned EKS add-on, on a cluster this stack creates (an existing cluster's DNS
is its owner's)."""

from __future__ import annotations

import dataclasses

from eksplatform.cluster import CoreDns, CoreDnsArgs

from stacks.config.model import StackBase
from stacks.config.reader import ConfigReader
from stacks.platform import Platform

NAME = "coredns"

Settings = CoreDnsArgs | None
"""The component's Args; None on an existing cluster."""


def parse(r: ConfigReader, base: StackBase) -> Settings:
    if base.existing_cluster:
        return None
    return r.build(CoreDnsArgs, **base.eks_addon_fields)


def deploy(platform: Platform, settings: Settings) -> None:
    if settings is None:
        return
    CoreDns(
        NAME,
        dataclasses.replace(
            settings, cluster_name=platform.cluster.cluster_name, wait_for=list(platform.nodes)
        ),
    )
