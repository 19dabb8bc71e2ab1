"""The configuration reference table (docs/configuration.md) from the declarations in
Pulumi.yaml.

`python -m tools.config_table` prints it; `python -m tools.docs` writes it into the page, and a
test keeps the page in step with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stacks.config.yaml_loader import load  # noqa: E402


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
    config = load((ROOT / "Pulumi.yaml").read_text(), "Pulumi.yaml")["config"]
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, decl in config.items():
        kind = decl["type"] + (f" of {decl['items']['type']}" if "items" in decl else "")
        description = " ".join(str(decl.get("description", "")).split()).replace("|", "\\|")
        rows.append(f"| `{key}` | {kind} | {_default(decl)} | {description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(config_table(), end="")
