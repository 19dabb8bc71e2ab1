"""Extra Helm values checked against the pinned charts' own values, where the caller builds
the component: Helm ignores a misspelled key silently, so `driver_values={"linux":
{"toleration": ...}}` would deploy the chart's default and look fine.

The structure of each pinned chart's default values (`values.yaml`: which keys exist, and
which take free-form content) is shipped in the package as data, `chart_shapes.json`,
generated from the pinned archives by `python -m tools.charts shapes` (a test keeps it equal
to them).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from .versions import ChartPin

SHAPES_FILE = "chart_shapes.json"

KUBERNETES_OBJECT_VALUES = frozenset(
    {"securityContext", "podSecurityContext", "resources", "affinity", "nodeSelector"}
)
"""Chart values that are Kubernetes objects passed through verbatim: their inner keys are
Kubernetes fields, not chart values (the strict schema validation of rendered objects checks
them)."""

LEAF = 0
"""The shape of a value that is neither a map nor null: a scalar or a list."""


def shape(values: Any) -> Any:
    """Which keys a chart's default values have: a map becomes the map of its keys' shapes;
    null and `{}` stay (free-form content below them); anything else is a LEAF."""
    if values is None or values == {}:
        return values
    if isinstance(values, Mapping):
        return {str(k): shape(v) for k, v in values.items()}
    return LEAF


def unknown_value_keys(given: Any, defaults: Any, path: str = "") -> list[str]:
    """Dotted paths of keys in `given` that the chart's default values (or their `shape`) do
    not have. The key itself must exist; below it nothing is checked when its default is null
    or an empty map (`resources: {}`, `podAnnotations: {}`: the chart takes free-form content)
    or when it is a Kubernetes object passed through verbatim (KUBERNETES_OBJECT_VALUES).
    Lists are values, not structure, and are never descended into."""
    if not isinstance(given, Mapping):
        return []
    if defaults is None or defaults == {} or path.rsplit(".", 1)[-1] in KUBERNETES_OBJECT_VALUES:
        return []
    if not isinstance(defaults, Mapping):
        kind = "a scalar or list" if defaults == LEAF else type(defaults).__name__
        return [f"{path}: the chart's default is {kind}, not a map"]
    problems = []
    for key, value in given.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in defaults:
            problems.append(where)
        else:
            problems += unknown_value_keys(value, defaults[key], where)
    return problems


def shape_key(pin: ChartPin) -> str:
    return f"{pin.chart}@{pin.version}"


@functools.cache
def chart_shapes() -> dict[str, Any]:
    """`chart@version` -> the shape of that chart's default values, as shipped."""
    package = files(__name__.rpartition(".")[0])  # eksplatform (components/ in this repository)
    return json.loads((package / SHAPES_FILE).read_text(encoding="utf-8"))


def check_values(field_name: str, pin: ChartPin, given: Mapping[str, Any]) -> None:
    """Raises when `given` (a component's extra values for `pin`) has a key the pinned chart
    does not; a chart version without a shipped shape is not checked."""
    if not given:
        return
    defaults = chart_shapes().get(shape_key(pin))
    if defaults is None:
        return
    if unknown := unknown_value_keys(given, defaults):
        raise ValueError(
            f"{field_name} has keys that chart {pin.chart} {pin.version} does not: "
            f"{', '.join(unknown)} (Helm would ignore them silently)"
        )
