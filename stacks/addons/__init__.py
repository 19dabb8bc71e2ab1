"""The platform's add-ons, one module each, found by name like the examples: adding one is
adding its module (plus its test and docs), nothing else in the stack.

Each module has `NAME`, `Settings` (its component's Args where config alone decides them,
else a frozen dataclass), `parse(r, base) -> Settings` (from the config keys and the
`StackBase` parsed before it: region, cluster Args, tags; the loader calls it once per
stack) and `deploy(platform, settings)`, which builds the add-on on the shared platform
handle once the cluster, its nodes and the stack's secrets exist, before any app or example,
wiring in what other resources output (`dataclasses.replace`; cdk-eks-blueprints style:
props, defaults and deploy(clusterInfo)). An add-on decides itself whether the stack needs
it.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from types import ModuleType


@functools.cache
def modules() -> dict[str, ModuleType]:
    """Every add-on module of this package, by module name, in name order."""
    return {
        info.name: importlib.import_module(f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    }
