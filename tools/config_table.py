"""The configuration reference table (docs/configuration.md) from the declarations in
Pulumi.yaml.

`python -m tools.config_table` prints it; `python -m tools.docs` writes it into the page, and a
test keeps the page in step with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _default(decl: dict) -> str:
    if decl.get("secret"):
        return "*(secret, required)*"
    if "default" not in decl:
        return "*(required)*"
    value = decl["default"]
    if decl.get("type") == "string" and isinstance(value, str) and "\n" in value:
        return "*(YAML, see Pulumi.yaml)*"
    return f"`{json.dumps(value)}`" if not isinstance(value, str) else f"`{value}`"


def config_table() -> str:
    config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, decl in config.items():
        kind = decl["type"] + (f" of {decl['items']['type']}" if "items" in decl else "")
        description = " ".join(str(decl.get("description", "")).split()).replace("|", "\\|")
        rows.append(f"| `{key}` | {kind} | {_default(decl)} | {description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(config_table(), end="")
