"""Reading raw stack config with every problem collected, not just the first.

Pulumi project config can only declare strings, integers, booleans and arrays, so
structured settings (lists of secrets) are YAML documents held in string keys; this
reader parses them and reports errors by key and path, e.g. `secrets[1].name`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from components.validation import (  # noqa: F401  (re-exported for stacks)
    DNS1123_SUBDOMAIN,
    check_cidr,
    check_dns1123_label,
    check_dns1123_subdomain,
)

RawGetter = Callable[[str], "str | None"]


class ConfigError(ValueError):
    """All problems found in a stack's config, raised before any resource exists."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")


class ConfigReader:
    """Typed accessors over raw config strings; failures are collected in `problems`."""

    def __init__(self, namespace: str, get_raw: RawGetter):
        self.namespace = namespace
        self._get_raw = get_raw
        self.problems: list[str] = []

    def key(self, name: str) -> str:
        return f"{self.namespace}:{name}"

    def fail(self, key: str, value: object, allowed: str) -> None:
        """Records one problem: which key, which value, what is allowed."""
        self.problems.append(f"{self.key(key)} = {value!r}: {allowed}")

    def raw(self, key: str) -> str | None:
        return self._get_raw(self.key(key))

    def string(
        self,
        key: str,
        default: str,
        *,
        choices: Iterable[str] | None = None,
        pattern: re.Pattern[str] | None = None,
        allowed: str = "",
    ) -> str:
        value = self.raw(key)
        if value is None:
            return default
        if choices is not None and value not in (options := list(choices)):
            self.fail(key, value, f"must be one of {', '.join(options)}")
            return default
        if pattern is not None and value and not pattern.fullmatch(value):
            self.fail(key, value, allowed or f"must match {pattern.pattern}")
            return default
        return value

    def integer(self, key: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self.raw(key)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(key, value, "must be a whole number")
            return default
        if not minimum <= number <= maximum:
            self.fail(key, number, f"must be between {minimum} and {maximum}")
            return default
        return number

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.fail(key, value, "must be true or false")
        return default

    def string_list(
        self,
        key: str,
        default: Iterable[str] = (),
        *,
        item: Callable[[str], str | None] | None = None,
    ) -> tuple[str, ...]:
        """An array of strings; `item` returns a message for a bad element, else None."""
        value = self.raw(key)
        if value is None:
            return tuple(default)
        try:
            items = json.loads(value)
        except json.JSONDecodeError:
            self.fail(key, value, "must be a list of strings")
            return tuple(default)
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self.fail(key, items, "must be a list of strings")
            return tuple(default)
        good = []
        for index, element in enumerate(items):
            message = item(element) if item else None
            if message:
                self.problems.append(f"{self.key(key)}[{index}] = {element!r}: {message}")
            else:
                good.append(element)
        return tuple(good)

    def yaml_list(self, key: str, default: str) -> list[dict[str, Any]]:
        """A YAML list of mappings held in a string key."""
        value = self.raw(key)
        text = default if value is None else value
        try:
            items = yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            self.fail(key, "<yaml>", f"must be a YAML list of mappings ({exc.__class__.__name__})")
            return []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            self.fail(key, items, "must be a YAML list of mappings")
            return []
        return items
