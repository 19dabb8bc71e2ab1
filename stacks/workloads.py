"""Config and composition of the example workloads (multi-container pod patterns)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacks.reader import ConfigReader

if TYPE_CHECKING:
    from stacks.platform import Platform


@dataclass(frozen=True)
class WorkloadsConfig:
    """Which example workloads a stack deploys, and their settings."""


def parse_workloads(r: ConfigReader) -> WorkloadsConfig:
    return WorkloadsConfig()


def build_workloads(platform: Platform, cfg: WorkloadsConfig) -> dict[str, Any]:
    """Builds the enabled examples; returns their stack outputs."""
    return {}
