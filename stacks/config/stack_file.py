"""Reads `Pulumi.<stack>.yaml` the way the Pulumi CLI does, for everything that reads a stack
file without the CLI (the offline render, `make check`, the CI IAM render, the tests).

What the CLI does, read in pulumi/pulumi at commit 1b5949891b3c (tag pkg/v3.259.0+14):
- `sdk/go/common/workspace/loaders.go` `LoadProjectStackBytes`: the file is YAML parsed by
  yaml.v3 (see `yaml_loader`); keys under `config:` without a namespace get the project's.
- `sdk/go/common/resource/config/value.go`: a scalar becomes the string the program gets
  (`true`/`false`, numbers as text); an array or mapping becomes JSON ("object" values).
- `pkg/workspace/config.go` `ValidateStackConfigAndApplyProjectConfig` -> `mergeConfig` ->
  `validateStackConfigValue`: a key Pulumi.yaml declares with `secret: true` must be
  `secure:` ("Stack 'dev' with configuration key 'k' must be encrypted as it's secret"); then
  `sdk/go/common/workspace/project.go` `ValidateConfigValue` checks the declared `type`
  against the scalar's string or the object's JSON: string = a string (not an array or
  mapping); integer = text `strconv.Atoi` reads; boolean = exactly `true` or `false`; array =
  a list whose every item is of `items.type` (JSON numbers are not strings there); else
  "Stack 'dev' with configuration key 'k' must be of type 't'" (`array<string>` for arrays).
  The CLI stops at the first such key (sorted); this reader reports all of them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from stacks.config import schema
from stacks.config.reader import ConfigError, as_config_string
from stacks.config.yaml_loader import Mark, YamlError, load_marked

_ATOI = re.compile(r"[+-]?[0-9]+")
"""What Go's strconv.Atoi accepts."""


class StackFileError(ConfigError):
    """A stack file the Pulumi CLI would refuse; each problem is `file:line:column: problem`,
    one line, and `str()` is those lines alone."""

    def __str__(self) -> str:
        return "\n".join(self.problems)


def is_secure(value: Any) -> bool:
    """A `secure: <ciphertext>` value, as `pulumi config set --secret` writes it."""
    return isinstance(value, dict) and set(value) == {"secure"}


def _matches(type_name: str, items: dict[str, Any] | None, value: Any) -> bool:
    """`ValidateConfigValue` of project.go over what the CLI compares (text or JSON)."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value == int(value)):
            return True
        return isinstance(value, str) and bool(_ATOI.fullmatch(value))
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not items:
        return False
    return all(_matches(items["type"], items.get("items"), v) for v in value)


def _type_name(type_name: str, items: dict[str, Any] | None) -> str:
    if items:
        return f"array<{_type_name(items['type'], items.get('items'))}>"
    return type_name


def _as_cli_compares(value: Any) -> Any:
    """A scalar as the string the CLI holds; an array or mapping as its JSON, parsed back."""
    if isinstance(value, (list, dict)):
        return json.loads(json.dumps(value, default=str))
    return as_config_string(value)


def check_types(
    stack: str, values: dict[str, Any], marks: dict[str, Mark], source: str
) -> list[str]:
    """Each stack value the CLI refuses against what Pulumi.yaml declares for its key."""
    problems = []
    for name, decl in sorted(schema.declarations().items()):
        key = f"{schema.PROJECT}:{name}"
        if key not in values or values[key] is None:
            continue
        value, mark = values[key], marks.get(key)
        where = f"{source}:{mark.line}:{mark.column}" if mark else source
        if decl.secret and not is_secure(value):
            problems.append(
                f"{where}: {key} is not encrypted: Stack '{stack}' with configuration key "
                f"'{name}' must be encrypted as it's secret (set it with "
                f"`pulumi config set --secret {name}`)"
            )
            continue
        if is_secure(value):
            continue
        if not _matches(decl.type, decl.items, _as_cli_compares(value)):
            declared = _type_name(decl.type, decl.items)
            hint = ""
            if decl.type == "boolean" and isinstance(value, str):
                hint = " (YAML 1.2: only true and false are booleans)"
            elif decl.type == "string" and isinstance(value, (list, dict)):
                hint = " (a YAML document in a string key is written after `|`)"
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            problems.append(
                f"{where}: {key} = {shown}: Stack '{stack}' with configuration key "
                f"'{name}' must be of type '{declared}'{hint}"
            )
    return problems


def read_stack_file(path: Path, stack: str | None = None) -> dict[str, Any]:
    """The `config:` values of a stack file, keys namespaced as the CLI does, values as YAML
    1.2 gives them; raises StackFileError listing every problem the CLI would refuse."""
    stack = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    try:
        document, marks = load_marked(path.read_text(encoding="utf-8-sig"), path.name)
    except YamlError as exc:
        raise StackFileError([str(exc)]) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError([f"{path.name}:1:1: a stack file is a YAML mapping (config: ...)"])
    config = document.get("config") or {}
    if not isinstance(config, dict):
        mark = marks.get(("config",))
        where = f"{path.name}:{mark.line}:{mark.column}" if mark else path.name
        raise StackFileError([f"{where}: config must be a mapping of key: value"])
    values: dict[str, Any] = {}
    key_marks: dict[str, Mark] = {}
    for key, value in config.items():
        full = str(key) if ":" in str(key) else f"{schema.PROJECT}:{key}"
        values[full] = value
        if (mark := marks.get(("config", key))) is not None:
            key_marks[full] = mark
    problems = check_types(stack, values, key_marks, path.name)
    if problems:
        raise StackFileError(problems)
    return values


def config_strings(path: Path, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """The config the Pulumi CLI hands the program: Pulumi.yaml defaults overlaid with the
    stack file, then `overrides` (like `pulumi up -c`), every value as the string the CLI
    passes. Keys Pulumi.yaml does not declare are passed on: the program refuses them."""
    values: dict[str, Any] = {
        f"{schema.PROJECT}:{name}": decl.default
        for name, decl in schema.declarations().items()
        if decl.default is not None
    }
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name}")
    values.update(read_stack_file(path))
    values.update(overrides or {})
    return {key: as_config_string(value) for key, value in values.items() if value is not None}
