"""The picture of one rendered stack: `diagram.md`, a Mermaid flowchart that GitHub, the docs
site and a pull request's job summary draw.

It shows the platform (the stack's top-level components), one box per App with its
namespace, ServiceAccount, identity and workload, and the secrets each App reads, taken from
its SecretProviderClass objects. Names only: no value of any secret reaches it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import yaml

from tools.pulumi_mocks import Recorder, Registration

APP = "eksplatform:platform:App"
SECRET_TYPES = ("eksplatform:secrets:ManagedSecret", "eksplatform:secrets:ManagedParameter")
SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
IDENTITIES = {
    "eksplatform:identity:IrsaRole": "IRSA role",
    "eksplatform:identity:PodIdentityRole": "Pod Identity role",
}
ABAC_BINDING = "eksplatform:identity:PodIdentityBinding"


@dataclass
class AppBox:
    name: str
    namespaces: list[str] = field(default_factory=list)
    service_accounts: list[str] = field(default_factory=list)
    identities: list[str] = field(default_factory=list)
    workloads: list[str] = field(default_factory=list)
    secrets: list[tuple[str, str]] = field(default_factory=list)
    """(objectName, objectType) of every object its SecretProviderClasses mount."""


def _short(type_token: str) -> str:
    return type_token.rsplit(":", 1)[-1]


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return re.sub(r'["<>]', "", text)


def _node_id(prefix: str, name: str) -> str:
    return prefix + "_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def _metadata_name(resource: Registration) -> str:
    metadata = resource.inputs.get("metadata") or {}
    return str(metadata.get("name", resource.name)) if isinstance(metadata, dict) else ""


def _objects(resource: Registration) -> list[tuple[str, str]]:
    spec: Any = resource.inputs.get("spec") or {}
    text = (spec.get("parameters") or {}).get("objects", "") if isinstance(spec, dict) else ""
    try:
        objects = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return []
    return [
        (str(o["objectName"]), str(o.get("objectType", "")))
        for o in objects or []
        if isinstance(o, dict) and "objectName" in o
    ]


def app_boxes(recorder: Recorder) -> list[AppBox]:
    """One box per App, in name order, from what its components registered beneath it."""
    children: dict[str, list[Registration]] = defaultdict(list)
    for resource in recorder.resources:
        children[resource.parent].append(resource)

    def descendants(urn: str) -> list[Registration]:
        found, todo = [], list(children[urn])
        while todo:
            resource = todo.pop(0)
            found.append(resource)
            todo += children[resource.urn]
        return found

    by_urn = {r.urn: r for r in recorder.resources}
    boxes = []
    for app in sorted(recorder.of_type(APP), key=lambda r: r.name):
        box = AppBox(app.name)
        for resource in descendants(app.urn):
            if resource.type == "kubernetes:core/v1:Namespace":
                box.namespaces.append(_metadata_name(resource))
            elif resource.type == "kubernetes:core/v1:ServiceAccount":
                box.service_accounts.append(_metadata_name(resource))
            elif resource.type in IDENTITIES:
                box.identities.append(f"{IDENTITIES[resource.type]} {resource.name}")
            elif resource.type == ABAC_BINDING and (
                by_urn.get(resource.parent) is None
                or by_urn[resource.parent].type not in IDENTITIES
            ):
                box.identities.append(f"Pod Identity association {resource.name} (shared role)")
            elif resource.type.startswith("eksplatform:workloads:") and not resource.type.endswith(
                ":NamespaceBaseline"
            ):
                box.workloads.append(_short(resource.type))
            elif resource.type == SPC:
                box.secrets += [o for o in _objects(resource) if o not in box.secrets]
        boxes.append(box)
    return boxes


def stack_diagram(recorder: Recorder, stack: str) -> str:
    """Markdown with one Mermaid flowchart of what the stack builds."""
    top = sorted(
        (
            r
            for r in recorder.resources
            if r.parent.split("::")[-2:-1] == ["pulumi:pulumi:Stack"]
            and r.type.startswith("eksplatform:")
            and r.type != APP
            and r.type not in SECRET_TYPES
        ),
        key=lambda r: (r.type, r.name),
    )
    lines = ["flowchart LR", '  subgraph platform["Platform"]', "    direction TB"]
    lines += [
        f'    {_node_id("p", r.name)}["{_label(_short(r.type))}<br/>{_label(r.name)}"]' for r in top
    ]
    lines.append("  end")
    secrets: dict[str, str] = {}
    edges: list[str] = []
    for box in app_boxes(recorder):
        app_id = _node_id("app", box.name)
        title = f"App {box.name}"
        if box.namespaces:
            title += " · namespace " + ", ".join(box.namespaces)
        lines += [f'  subgraph {app_id}["{_label(title)}"]', "    direction TB"]
        identity = _node_id("id", box.name)
        who = [f"ServiceAccount {a}" for a in box.service_accounts] + box.identities
        lines.append(
            f'    {identity}["{"<br/>".join(_label(w) for w in who) or "no AWS identity"}"]'
        )
        if box.workloads:
            lines.append(f'    {_node_id("wl", box.name)}["{_label(", ".join(box.workloads))}"]')
        lines.append("  end")
        for name, kind in box.secrets:
            secrets.setdefault(name, kind)
            edges.append(f"  {identity} -- reads --> {_node_id('s', name)}")
    if secrets:
        lines += ['  subgraph secrets["Secrets"]', "    direction TB"]
        lines += [
            f'    {_node_id("s", name)}[("{_label(name)}<br/>{_label(kind)}")]'
            for name, kind in sorted(secrets.items())
        ]
        lines.append("  end")
    lines += edges
    body = "\n".join(lines)
    return f"### What stack `{stack}` builds\n\n```mermaid\n{body}\n```\n"
