"""Typed access to raw stack config, with every problem collected rather than the first.

Pulumi project config can only declare strings, integers, booleans and arrays, so
structured settings (the `secrets` and `apps` lists) are YAML documents held in string
keys; this reader parses them and reports errors by key and path, e.g. `apps[1].name`.
Every default comes from Pulumi.yaml (`schema.default`). The blocks are parsed by
`yaml_loader`, the loader the offline tools use for stack files: YAML 1.2 as the Pulumi CLI
reads it (`yes` is a string), a duplicate key refused (a missing `-` in `apps` otherwise drops
an app silently), errors by line and column of the block, and of `Pulumi.<stack>.yaml` when
the program runs where that file holds the block (as under `pulumi up`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from stacks.config import schema
from stacks.config.yaml_loader import YamlError, load, load_marked

RawGetter = Callable[[str], "str | None"]
Check = Callable[[str], "str | None"]
"""Returns what is allowed when a value is bad, else None."""
E = TypeVar("E", bound=StrEnum)
A = TypeVar("A")


class ConfigError(ValueError):
    """All problems found in a stack's config, raised before any resource exists."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")


def as_config_string(value: Any) -> str:
    """A value as the Pulumi CLI hands it to the program: arrays as JSON, booleans lower."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


class ConfigReader:
    """Typed accessors over raw config strings; failures are collected in `problems`."""

    def __init__(
        self, get_raw: RawGetter, namespace: str = schema.PROJECT, *, stack: str | None = None
    ):
        self.namespace = namespace
        self._get_raw = get_raw
        self.stack = stack
        """With a stack, YAML errors in a block also name their line in Pulumi.<stack>.yaml."""
        self.problems: list[str] = []

    def key(self, name: str) -> str:
        return f"{self.namespace}:{name}"

    def fail(self, key: str, value: object, allowed: str) -> None:
        """Records one problem: which key, which value, what is allowed."""
        self.problems.append(f"{self.key(key)} = {value!r}: {allowed}")

    def problems_for(self, key: str) -> list[str]:
        prefix = self.key(key)
        return [p for p in self.problems if p.startswith((f"{prefix} ", f"{prefix}["))]

    def check(self, key: str, value: str, check: Check) -> bool:
        """Records `check`'s problem with `value`; True when there was none."""
        problem = check(value)
        if problem:
            self.fail(key, value, problem)
        return not problem

    def build(self, cls: Callable[..., A], **fields: Any) -> A:
        """A component's Args from values this reader returned. A value it refused was replaced
        by its Pulumi.yaml default, so the Args' own checks hold; should they still refuse, a
        rule is missing here: the stack stops with every problem so far and the Args' reason,
        never with a traceback."""
        try:
            return cls(**fields)
        except (TypeError, ValueError) as exc:
            name = getattr(cls, "__name__", repr(cls))
            self.problems.append(f"{name} refused the config: {exc}")
            raise ConfigError(self.problems) from exc

    def raw(self, key: str) -> str | None:
        value = self._get_raw(self.key(key))
        if value is None:
            default = schema.default(key)
            return None if default is None else as_config_string(default)
        return value

    def is_default(self, key: str) -> bool:
        """The key holds its Pulumi.yaml default (arrays compared as data, not as text)."""
        value, default = self.raw(key), self._default(key)
        if value == default:
            return True
        try:
            return json.loads(value or "") == json.loads(default)
        except ValueError:
            return False

    def _default(self, key: str) -> str:
        return as_config_string(schema.default(key))

    def string(self, key: str, *, check: Check | None = None) -> str:
        """A string; with `check`, a bad value is reported and the default returned. An empty
        value is checked too, unless Pulumi.yaml's default is empty (then empty means "none",
        e.g. existingVpcId): `pulumi config set vpcCidr ""` must not pass unchecked."""
        value = self.raw(key) or ""
        if check is None or (not value and schema.default(key) in ("", None)):
            return value
        if not self.check(key, value, check):
            return self._default(key)
        return value

    def choice(self, key: str, enum: type[E]) -> E:
        value = self.raw(key) or ""
        try:
            return enum(value)
        except ValueError:
            self.fail(key, value, f"must be one of {', '.join(e.value for e in enum)}")
            return enum(self._default(key))

    def integer(self, key: str, *, minimum: int, maximum: int) -> int:
        value = self.raw(key) or ""
        try:
            number = int(value)
        except ValueError:
            self.fail(key, value, "must be a whole number")
            return int(self._default(key))
        if not minimum <= number <= maximum:
            self.fail(key, number, f"must be between {minimum} and {maximum}")
            return int(self._default(key))
        return number

    def boolean(self, key: str) -> bool:
        value = (self.raw(key) or "").lower()
        if value in ("true", "false"):
            return value == "true"
        self.fail(key, self.raw(key), "must be true or false")
        return self._default(key) == "true"

    def string_list(self, key: str, *, check: Check | None = None) -> tuple[str, ...]:
        """An array of strings; each bad element is reported by index and left out."""
        value = self.raw(key) or "[]"
        try:
            items = json.loads(value)
        except json.JSONDecodeError:
            items = None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self.fail(key, value, "must be a list of strings")
            return ()
        good = []
        for index, element in enumerate(items):
            if check is not None and (problem := check(element)):
                self.problems.append(f"{self.key(key)}[{index}] = {element!r}: {problem}")
            else:
                good.append(element)
        return tuple(good)

    def yaml_list(self, key: str) -> list[dict[str, Any]]:
        """A YAML list of mappings held in a string key."""
        text = self.raw(key) or ""
        try:
            items = load(text, key)
        except YamlError as exc:
            where = f"line {exc.line}, column {exc.column} of the block"
            if (start := self._block_start(key, text)) is not None:
                where += f", Pulumi.{self.stack}.yaml line {start + exc.line}"
            self.fail(key, "<yaml>", f"must be a YAML list of mappings: {where}: {exc.problem}")
            return []
        if items is None:  # an empty document: no entries
            return []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            # `apps: 0` or `apps: {}` is not "none": say so rather than drop every entry.
            self.fail(key, items, "must be a YAML list of mappings")
            return []
        return items

    def _block_start(self, key: str, text: str) -> int | None:
        """The stack file's line before `key`'s block, when the current directory's
        Pulumi.<stack>.yaml holds exactly this block (not when `-c` gave another value)."""
        if not self.stack:
            return None
        path = Path(f"Pulumi.{self.stack}.yaml")
        try:
            document, marks = load_marked(path.read_text(encoding="utf-8-sig"), path.name)
        except (OSError, YamlError):
            return None
        config = document.get("config") if isinstance(document, dict) else None
        if not isinstance(config, dict):
            return None
        for written in (self.key(key), key):
            mark = marks.get(("config", written))
            if mark is not None and mark.literal_block and config.get(written) == text:
                return mark.value_line  # the `|` line: block line N is file line (this + N)
        return None


class Fields:
    """One mapping of a YAML list (`apps[2]`): typed fields, unknown ones refused, problems
    reported under the entry's path."""

    def __init__(self, r: ConfigReader, where: str, item: dict[str, Any], allowed: Iterable[str]):
        self.r = r
        self.where = where
        self.item = item
        unknown = sorted(set(item) - set(allowed))
        if unknown:
            r.fail(where, unknown, f"unknown field(s); allowed: {', '.join(allowed)}")

    def path(self, field: str) -> str:
        return f"{self.where}.{field}"

    def fail(self, field: str, value: object, allowed: str) -> None:
        self.r.fail(self.path(field), value, allowed)

    def string(self, field: str, default: str = "", *, check: Check | None = None) -> str:
        value = self.item.get(field, default)
        if value is None:
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(field, value, "must be a string")
            return default
        text = str(value)
        if check is not None and text and (problem := check(text)):
            self.fail(field, text, problem)
            return default
        return text

    def boolean(self, field: str, default: bool = False) -> bool:
        value = self.item.get(field, default)
        if not isinstance(value, bool):
            self.fail(field, value, "must be true or false")
            return default
        return value

    def choice(self, field: str, enum: type[E], default: E) -> E:
        value = self.item.get(field, default.value)
        try:
            return enum(value)
        except ValueError:
            self.fail(field, value, f"must be one of {', '.join(e.value for e in enum)}")
            return default

    def strings(self, field: str, *, check: Check | None = None) -> tuple[str, ...]:
        value = self.item.get(field) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, value, "must be a list of strings")
            return ()
        good = []
        for index, element in enumerate(value):
            if check is not None and (problem := check(element)):
                self.r.fail(f"{self.path(field)}[{index}]", element, problem)
            else:
                good.append(element)
        return tuple(good)

    def mappings(self, field: str) -> list[dict[str, Any]]:
        value = self.item.get(field) or []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(field, value, "must be a list of mappings")
            return []
        return value
