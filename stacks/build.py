"""Builds one environment: the platform, its add-ons, then every app and enabled example on
it."""

from __future__ import annotations

from typing import Any

import pulumi

from stacks.addons import modules as addon_modules
from stacks.app import deploy_app
from stacks.config.model import StackConfig
from stacks.examples import modules
from stacks.platform import build_platform


def build(cfg: StackConfig, secret_values: pulumi.Output[str] | None) -> dict[str, Any]:
    """The whole stack; returns the stack outputs."""
    platform = build_platform(cfg, secret_values)
    for name, addon in addon_modules().items():
        addon.deploy(platform, cfg.addons[name])
    apps = {app.name: deploy_app(platform, app) for app in cfg.apps}
    namespaces: dict[str, str] = {}
    commands: dict[str, str] = {}
    for name, module in modules().items():
        settings = cfg.examples[name]
        if settings.enabled:
            deployed = module.deploy(platform, settings)
            namespaces.update(deployed.namespaces)
            commands.update(deployed.commands)
    outputs: dict[str, Any] = {**platform.outputs}
    if apps:
        outputs["apps"] = apps
    if namespaces:
        outputs["exampleNamespaces"] = namespaces
        outputs["exampleVerifyCommands"] = commands
    return outputs
