"""Loading a stack's config in tests: a FIXTURE stack file (tests/fixtures/stacks, frozen, so
the exact messages and values pinned here do not move when a user edits Pulumi.dev.yaml)
with overrides, a value for every secret it creates, every problem returned."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
import yaml

from stacks.config.model import StackConfig
from stacks.config.reader import ConfigError
from stacks.config.yaml_loader import YamlError
from stacks.config.yaml_loader import load as load_yaml
from stacks.load import load
from tests.conftest import FIXTURES
from tools.pulumi_mocks import PROJECT, stack_config

NS = PROJECT
TODAY = date(2026, 11, 21)
LAMBDA = "arn:aws:lambda:ap-southeast-1:123456789012:function:rotate-db"


def key(name: str) -> str:
    return f"{NS}:{name}"


def fixture_config(stack: str = "dev", overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """The fixture stack file's config, as the CLI would pass it."""
    return stack_config(stack, overrides, directory=FIXTURES)


def stack_secrets(stack: str = "dev") -> list[dict[str, Any]]:
    return load_yaml(fixture_config(stack)[key("secrets")])


def stack_apps(stack: str = "dev") -> list[dict[str, Any]]:
    return load_yaml(fixture_config(stack)[key("apps")])


def outside_prefix(*names: str, stack: str = "dev") -> dict[str, str]:
    """secretNamesOutsidePrefix override: the stack file's names plus `names`, the secrets a
    test adds and keeps outside the stack's secretNamePrefix (as an existing secret would)."""
    listed = json.loads(fixture_config(stack)[key("secretNamesOutsidePrefix")])
    return {key("secretNamesOutsidePrefix"): json.dumps([*listed, *names])}


def raw_config(
    overrides: dict[str, Any] | None = None,
    *,
    stack: str = "dev",
    secrets: list[dict[str, Any]] | None = None,
    apps: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    """The stack file's config with `overrides`; `secrets` and `apps` replace those lists
    (as YAML), and every created secret gets a value unless `secretValues` is overridden."""
    values: dict[str, Any] = {}
    if secrets is not None:
        values[key("secrets")] = yaml.safe_dump(secrets)
    if apps is not None:
        values[key("apps")] = yaml.safe_dump(apps)
    values.update(overrides or {})
    if key("secretValues") not in values:
        try:
            listed = load_yaml(values.get(key("secrets")) or fixture_config(stack)[key("secrets")])
        except YamlError:
            listed = []
        values[key("secretValues")] = json.dumps(
            {
                s["name"]: f"test-value-of-{s['name']}"
                for s in (listed if isinstance(listed, list) else [])
                if isinstance(s, dict) and "name" in s and not s.get("existingArn")
            }
        )
    return fixture_config(stack, values)


def all_default_config(**overrides: str) -> dict[str, str]:
    """Stack `x` setting only what has no default: aws:region, a value for Pulumi.yaml's default
    secret, and that secret kept outside the default secretNamePrefix (`eks-secrets-x/`); plus
    `overrides` (short keys)."""
    return {
        "aws:region": "eu-west-1",
        key("secretValues"): json.dumps(
            {"demo-app-credentials": {"username": "u", "password": "p"}}
        ),
        key("secretNamesOutsidePrefix"): '["demo-app-credentials"]',
        **{key(k): v for k, v in overrides.items()},
    }


def load_all_default(**overrides: str) -> StackConfig:
    raw = all_default_config(**overrides)
    return load(raw.get, stack="x", keys=list(raw), today=TODAY)


def load_config(overrides=None, *, stack="dev", today=TODAY, **lists) -> StackConfig:
    raw = raw_config(overrides, stack=stack, **lists)
    return load(raw.get, stack=stack, keys=list(raw), today=today)


def problems(overrides=None, *, stack="dev", today=TODAY, **lists) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(overrides, stack=stack, today=today, **lists)
    return caught.value.problems


def has(found: list[str], message: str) -> None:
    assert any(message in p for p in found), "\n".join(found)
