"""A stack with many applications, built in code rather than in a stack file: what the
scale tests (tests/test_ci_iam.py) and bench/scaling.py run under the mocks."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tools.pulumi_mocks import PROJECT, stack_config

EXAMPLES = (
    "enableSidecarExample",
    "enableAmbassadorExample",
    "enableAdapterExample",
    "enableInitContainerExample",
    "enableRedisSecretExample",
)


def app_secrets(index: int, prefix: str) -> list[dict[str, Any]]:
    """The secrets of app `index`: its credentials, and for every other app a second one
    (an SSM parameter for every sixth app), all named under `prefix`."""
    team = f"team-{index:03d}"
    found: list[dict[str, Any]] = [{"name": f"{prefix}{team}/credentials", "namespace": team}]
    if index % 2:
        if index % 6 == 5:
            found.append({"name": f"/{prefix}{team}/db-url", "type": "ssmparameter"})
        else:
            found.append({"name": f"{prefix}{team}/api-key", "namespace": team})
    return found


def config_with_apps(count: int, *, stack: str = "dev") -> dict[str, str]:
    """`stack`'s config with `count` apps in place of its own and the examples off; each app
    reads one or two secrets of its own, named under the stack's secretNamePrefix, so
    secretNamesOutsidePrefix is empty."""
    base = stack_config(stack)
    cluster = base.get(f"{PROJECT}:clusterName") or f"eks-secrets-{stack}"
    prefix = base.get(f"{PROJECT}:secretNamePrefix") or f"{cluster}/"
    apps, secrets = [], []
    for index in range(count):
        own = app_secrets(index, prefix)
        secrets += own
        apps.append({"name": f"team-{index:03d}", "secrets": [s["name"] for s in own]})
    overrides = {f"{PROJECT}:{key}": "false" for key in EXAMPLES}
    overrides[f"{PROJECT}:secrets"] = yaml.safe_dump(secrets)
    overrides[f"{PROJECT}:apps"] = yaml.safe_dump(apps)
    overrides[f"{PROJECT}:secretNamesOutsidePrefix"] = "[]"
    overrides[f"{PROJECT}:secretValues"] = json.dumps({s["name"]: "x" for s in secrets})
    return stack_config(stack, overrides)
