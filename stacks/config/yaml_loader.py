"""The one YAML loader of this project's config: YAML 1.2 and duplicate keys refused, as the
Pulumi CLI reads stack files.

The Pulumi CLI (pulumi/pulumi `sdk/go/common/encoding/marshal.go`, read at commit 1b5949891b3c,
tag pkg/v3.259.0+14) parses `Pulumi.yaml` and `Pulumi.<stack>.yaml` with gopkg.in/yaml.v3
v3.0.1 into `any`: YAML 1.2 scalars, so `yes`, `on` and `no` are strings (v3 reads them as
booleans only into a Go `bool`, which config values never are), and a key given twice in one
mapping fails with `mapping key "x" already defined at line N` (yaml.v3 `decode.go`:
`newDecoder` sets `uniqueKeys: true`, and `mapping` checks every key pair). PyYAML is YAML
1.1 (`yes` is true) and lets the last duplicate win, so a stack that passed the offline
checks could fail under `pulumi up`, or the reverse.
ruamel.yaml loads YAML 1.2 and refuses duplicate keys by default; every error here carries
`source:line:column`.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, SequenceNode
from ruamel.yaml.scalarstring import LiteralScalarString

Path_ = tuple[str | int, ...]
"""Where a value sits in a document: mapping keys and sequence indexes from the root."""


class YamlError(ValueError):
    """A document that is not YAML Pulumi accepts; `str()` is `source:line:column: problem`."""

    def __init__(self, problem: str, *, source: str, line: int, column: int):
        self.problem = problem
        self.source = source
        self.line = line
        self.column = column
        super().__init__(f"{source}:{line}:{column}: {problem}")


@dataclass(frozen=True)
class Mark:
    """Where a mapping entry is written (1-based), and whether its value is a `|` block."""

    line: int
    column: int
    value_line: int
    value_column: int
    literal_block: bool


def _yaml() -> YAML:
    parser = YAML(typ="rt", pure=True)
    parser.version = (1, 2)
    parser.allow_duplicate_keys = False
    return parser


def _first_definition(text: str, line: int, column: int) -> tuple[str, int]:
    """The key written at (line, column), 0-based, and the 1-based line of its first
    definition in the same mapping (ruamel names the mapping's start, yaml.v3 the key's)."""
    stack = [_yaml().compose(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            keys = [k for k, _ in node.value]
            for key in keys:
                if (key.start_mark.line, key.start_mark.column) == (line, column):
                    first = next(k for k in keys if k.value == key.value)
                    return str(key.value), first.start_mark.line + 1
            stack.extend(v for pair in node.value for v in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return "?", 0


_INDENTATION = ("expected <block end>", "mapping values are not allowed", "<document start>")
"""Problems a line indented too far or not far enough gives."""


def _error(exc: YAMLError, text: str, source: str) -> YamlError:
    if isinstance(exc, DuplicateKeyError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        key, first = _first_definition(text, mark.line, mark.column)
        return YamlError(  # yaml.v3's wording: the Pulumi CLI's message
            f'mapping key "{key}" already defined at line {first}',
            source=source,
            line=mark.line + 1,
            column=mark.column + 1,
        )
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark, problem = exc.problem_mark, str(exc.problem or exc.__class__.__name__)
        context = exc.context_mark
        if exc.context and context is not None and context.line != mark.line:
            problem += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        if any(sign in problem for sign in _INDENTATION):
            problem += "; check this line's indentation"
        return YamlError(problem, source=source, line=mark.line + 1, column=mark.column + 1)
    return YamlError(str(exc).splitlines()[0], source=source, line=0, column=0)


def _plain(node: Any, at: Path_, marks: dict[Path_, Mark] | None) -> Any:
    """ruamel's round-trip nodes as the plain values yaml.v3 gives Pulumi."""
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            if marks is not None:
                line, column = node.lc.key(key)
                value_line, value_column = node.lc.value(key)
                marks[(*at, key)] = Mark(
                    line + 1,
                    column + 1,
                    value_line + 1,
                    value_column + 1,
                    isinstance(value, LiteralScalarString),
                )
            out[_plain(key, at, None)] = _plain(value, (*at, key), marks)
        return out
    if isinstance(node, CommentedSeq):
        return [_plain(v, (*at, i), marks) for i, v in enumerate(node)]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime.date):
        return node
    return str(node)


@functools.lru_cache(maxsize=256)
def _parse(text: str, source: str) -> tuple[Any, dict[Path_, Mark]]:
    try:
        document = _yaml().load(text)
    except YAMLError as exc:
        raise _error(exc, text, source) from None
    marks: dict[Path_, Mark] = {}
    return _plain(document, (), marks), marks


def load_marked(text: str, source: str = "<yaml>") -> tuple[Any, dict[Path_, Mark]]:
    """The document as plain values, and where each mapping entry is written. Cached by text:
    the caller must not change what it gets (`load` gives a fresh copy)."""
    return _parse(text, source)


def load(text: str, source: str = "<yaml>") -> Any:
    """The document as plain dicts, lists, strings, numbers, booleans; raises YamlError."""
    data, _ = _parse(text, source)
    return _copy(data)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
