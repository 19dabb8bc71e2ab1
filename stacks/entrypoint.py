"""Reads the running stack's config through Pulumi and hands typed config to the builder."""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import CONFIG, get_config

from stacks.config.model import StackConfig
from stacks.config.schema import PROJECT
from stacks.load import load


def load_stack_config() -> StackConfig:
    """Raises ConfigError, listing every problem, before any resource is registered."""
    return load(get_config, stack=pulumi.get_stack(), keys=list(CONFIG.get()))


def secret_values(cfg: StackConfig) -> pulumi.Output[str] | None:
    if not any(s.is_created for s in cfg.secrets):
        return None
    return pulumi.Config(PROJECT).require_secret("secretValues")
