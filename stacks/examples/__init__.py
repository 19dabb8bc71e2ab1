"""The pattern examples, one module each, found by name: adding one is adding its module
(plus its test and docs), nothing else in the stack.

Each module has `Settings` (frozen; `enabled`, `namespaces()`, `reads()`), `parse(r,
secrets) -> Settings` and `deploy(platform, settings) -> Deployed`, and builds itself as
one App (stacks/app.py) with its workload beneath it.

Unlike an add-on, whose settings are its one component's Args, an example's settings describe
the unit: whether it runs, the namespace both its App and its workload use, and the secrets
its App reads or creates. The workload's Args are built in `deploy` from them and from the
App's outputs; where a key feeds a workload Args field with a default of its own,
tests/stacks/test_layers.py keeps the two defaults equal.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType

import pulumi


@dataclass(frozen=True)
class Deployed:
    """What an example adds to the stack outputs `exampleNamespaces` and
    `exampleVerifyCommands`, keyed by the example's output name."""

    namespaces: dict[str, str] = field(default_factory=dict)
    commands: dict[str, pulumi.Input[str]] = field(default_factory=dict)


@functools.cache
def modules() -> dict[str, ModuleType]:
    """Every example module of this package, by module name, in name order."""
    return {
        info.name: importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    }
