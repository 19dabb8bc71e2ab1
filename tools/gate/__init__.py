"""The validators of the offline validation gate, as plain functions over rendered files.

Each returns a list of human-readable problems (empty when the input passes), so a test can
assert on the whole list and a failure shows every problem at once, not just the first.
They know nothing about pytest; the tests in this folder apply them to the render of every
stack file and to deliberately broken samples.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.validators
import kubernetes_validate.utils as kv
import yaml
from packaging.version import Version
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas"
SKIPS_FILE = Path(__file__).resolve().parent / "checkov-skips.yaml"

Manifests = dict[str, dict[str, Any]]
"""Rendered path (`k8s/<ns>/<Kind>-<name>.yaml`) -> Kubernetes object."""


# --- loading a render ----------------------------------------------------------------------


def is_helm_release(path: str) -> bool:
    return Path(path).name.startswith("HelmRelease-")


def load_manifests(out: Path) -> Manifests:
    """Every rendered Kubernetes object (Helm releases are not objects the API sees)."""
    return {
        str(p.relative_to(out)): yaml.safe_load(p.read_text())
        for p in sorted((out / "k8s").rglob("*.yaml"))
        if not is_helm_release(p.name)
    }


def load_releases(out: Path) -> dict[str, dict[str, Any]]:
    return {
        str(p.relative_to(out)): yaml.safe_load(p.read_text())
        for p in sorted((out / "k8s").rglob("HelmRelease-*.yaml"))
    }


def load_iam(out: Path) -> dict[str, str]:
    """`iam/<file>` -> policy text, as written."""
    return {f"iam/{p.name}": p.read_text() for p in sorted((out / "iam").glob("*.json"))}


def describe(path: str, manifest: dict[str, Any]) -> str:
    return f"{path} ({manifest.get('kind')}/{(manifest.get('metadata') or {}).get('name')})"


# --- Kubernetes schemas (kubernetes-validate's bundled, strict) ----------------------------


class GateError(Exception):
    """The gate cannot run as configured (a missing tool, an unsupported version)."""


def schema_version(desired: str) -> str:
    """The newest bundled schema version not newer than `desired` (major.minor)."""
    wanted = Version(kv.major_minor(desired.removeprefix("v")))
    bundled = sorted({Version(v) for v in kv.all_versions()})
    usable = [v for v in bundled if (v.major, v.minor) <= (wanted.major, wanted.minor)]
    if not usable or (wanted.major, wanted.minor) > (bundled[-1].major, bundled[-1].minor):
        raise GateError(
            f"kubernetes-validate {kv.__version__} bundles schemas "
            f"{bundled[0]}..{bundled[-1]}, not {desired}; upgrade it in requirements.txt"
        )
    return str(usable[-1])


def _schema_file_name(api_version: str, kind: str) -> str:
    """As kubernetes-validate names them: `apps/v1` Deployment -> deployment-apps-v1.json."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


def _schema_folder(version: str) -> Any:
    return files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", f"v{schema_version(version)}-local-strict"
    )


@functools.cache
def _definitions(version: str) -> Resource:
    return Resource.from_contents(
        json.loads(_schema_folder(version).joinpath("_definitions.json").read_text())
    )


@functools.cache
def _schema_validator(version: str, api_version: str, kind: str) -> jsonschema.Validator | None:
    """The strict schema of one kind for a cluster version such as `1.35`, or None."""
    schema_file = _schema_folder(version).joinpath(_schema_file_name(api_version, kind))
    if not schema_file.is_file():
        return None
    schema = json.loads(schema_file.read_text())
    registry: Registry = Resource.from_contents(schema) @ Registry()
    registry = _definitions(version) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def has_kubernetes_schema(manifest: dict[str, Any], version: str) -> bool:
    return _schema_validator(version, manifest["apiVersion"], manifest["kind"]) is not None


def kubernetes_schema_errors(manifest: dict[str, Any], version: str, where: str = "") -> list[str]:
    """Every strict-schema error of one object (unknown fields, wrong types, missing keys)."""
    validator = _schema_validator(version, manifest["apiVersion"], manifest["kind"])
    if validator is None:
        return [f"{where}: no bundled schema for {manifest['apiVersion']} {manifest['kind']}"]
    return [
        f"{where}: {'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.path)))
    ]


# --- what the schemas miss: enums, selectors, references, Pod Security labels --------------

SERVICE_TYPES = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}
PROTOCOLS = {"TCP", "UDP", "SCTP"}
POLICY_TYPES = {"Ingress", "Egress"}
PSA_LEVELS = {"privileged", "baseline", "restricted"}
PSA_MODES = ("enforce", "audit", "warn")
PSA_VERSION = re.compile(r"latest|v1\.\d+")
PSA_PREFIX = "pod-security.kubernetes.io/"
TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# Namespaces whose pods the render cannot see; selectors into them are not checked.
SYSTEM_NAMESPACES = {"kube-system", "kube-public", "kube-node-lease", "default"}


@dataclass
class PodTemplate:
    namespace: str
    owner: str
    labels: dict[str, str]
    spec: dict[str, Any]

    @property
    def containers(self) -> list[dict[str, Any]]:
        return [*(self.spec.get("initContainers") or []), *(self.spec.get("containers") or [])]


@dataclass
class Cluster:
    """The rendered objects indexed for cross-object checks."""

    manifests: Manifests
    opaque_namespaces: set[str] = field(default_factory=set)
    """Namespaces with pods the render cannot see (Helm charts, system namespaces, a team's
    app namespace: `team_namespaces`)."""

    def of_kind(self, *kinds: str) -> list[tuple[str, dict[str, Any]]]:
        return [(p, m) for p, m in self.manifests.items() if m.get("kind") in kinds]

    def names(self, kind: str, namespace: str) -> set[str]:
        return {
            m["metadata"]["name"] for _, m in self.of_kind(kind) if namespace_of(m) == namespace
        }

    @functools.cached_property
    def pods(self) -> list[PodTemplate]:
        return [t for path, m in self.manifests.items() for t in pod_templates(path, m)]

    def pods_in(self, namespace: str) -> list[PodTemplate]:
        return [p for p in self.pods if p.namespace == namespace]

    @functools.cached_property
    def namespaces(self) -> dict[str, dict[str, str]]:
        """Known namespace -> labels (with the automatic kubernetes.io/metadata.name)."""
        known = {ns: {} for ns in SYSTEM_NAMESPACES}
        for _, m in self.of_kind("Namespace"):
            known[m["metadata"]["name"]] = dict(m["metadata"].get("labels") or {})
        for name, labels in known.items():
            labels["kubernetes.io/metadata.name"] = name
        return known

    def is_opaque(self, namespace: str) -> bool:
        return namespace in SYSTEM_NAMESPACES or namespace in self.opaque_namespaces


def team_namespaces(manifests: Manifests, apps: dict[str, Any]) -> set[str]:
    """Namespaces of `apps` entries whose pods the program does not render: the team
    deploys them (README "Put an application on the platform"), so selectors of the app's
    own `ingress`/`egress` policies select pods the render cannot see. A namespace where the
    program renders a pod (a built-in workload, an example) is not one: its selectors stay
    checked against those pods.

    Why not a declared `podLabels` per app instead: the program could not check that the
    team's Deployment really carries them, so the check would prove only that two lines of
    the stack file agree, and every team would have to repeat its labels."""
    rendered = {t.namespace for path, m in manifests.items() for t in pod_templates(path, m)}
    declared = {str(a["namespace"]) for a in apps.values() if a.get("namespace")}
    return declared - rendered


def namespace_of(manifest: dict[str, Any]) -> str:
    return (manifest.get("metadata") or {}).get("namespace") or "default"


def pod_templates(path: str, manifest: dict[str, Any]) -> list[PodTemplate]:
    kind, spec = manifest.get("kind"), manifest.get("spec") or {}
    template = None
    if kind in TEMPLATE_KINDS:
        template = spec.get("template")
    elif kind == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    elif kind == "Pod":
        template = manifest
    if not template:
        return []
    labels = (template.get("metadata") or {}).get("labels") or {}
    return [PodTemplate(namespace_of(manifest), path, dict(labels), template.get("spec") or {})]


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector against labels; an empty selector matches everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = set(expression.get("values") or [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


def _ports_protocol_errors(where: str, ports: Iterable[dict[str, Any]], field_: str) -> list[str]:
    return [
        f"{where}: {field_}[{i}].protocol {p.get('protocol')!r} is not one of {sorted(PROTOCOLS)}"
        for i, p in enumerate(ports)
        if p.get("protocol", "TCP") not in PROTOCOLS
    ]


def enum_errors(cluster: Cluster) -> list[str]:
    """Service type, port protocols and NetworkPolicy policyTypes hold valid enum values."""
    errors: list[str] = []
    for path, m in cluster.of_kind("Service"):
        where, spec = describe(path, m), m.get("spec") or {}
        if spec.get("type", "ClusterIP") not in SERVICE_TYPES:
            errors.append(
                f"{where}: spec.type {spec['type']!r} is not one of {sorted(SERVICE_TYPES)}"
            )
        errors += _ports_protocol_errors(where, spec.get("ports") or [], "spec.ports")
    for path, m in cluster.of_kind("NetworkPolicy"):
        where, spec = describe(path, m), m.get("spec") or {}
        for value in spec.get("policyTypes") or []:
            if value not in POLICY_TYPES:
                errors.append(
                    f"{where}: spec.policyTypes {value!r} is not one of {sorted(POLICY_TYPES)}"
                )
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(spec.get(direction) or []):
                errors += _ports_protocol_errors(
                    where, rule.get("ports") or [], f"spec.{direction}[{i}].ports"
                )
    for pod in cluster.pods:
        for container in pod.containers:
            errors += _ports_protocol_errors(
                f"{pod.owner} container {container.get('name')}",
                container.get("ports") or [],
                "ports",
            )
    return errors


def workload_selector_errors(cluster: Cluster) -> list[str]:
    """A workload's selector must select its own pod template (the API server rejects it)."""
    errors = []
    for path, m in cluster.of_kind(*TEMPLATE_KINDS):
        spec = m.get("spec") or {}
        selector = spec.get("selector")
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if m["kind"] == "Job" and not selector:
            continue
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            errors.append(f"{describe(path, m)}: spec.selector is empty")
        elif not selector_matches(selector, labels):
            errors.append(
                f"{describe(path, m)}: spec.selector {selector} does not match the template "
                f"labels {labels}"
            )
    return errors


def names_one_namespace(selector: dict[str, Any]) -> bool:
    """A selector of one namespace by name (`kubernetes.io/metadata.name`, which Kubernetes
    sets on every namespace): when the render has no such namespace it is one created
    outside the program (a team's, another platform's), as opaque as kube-system. Selectors
    by any other labels must still select a namespace of the render."""
    labels = selector.get("matchLabels") or {}
    return not selector.get("matchExpressions") and list(labels) == ["kubernetes.io/metadata.name"]


def _peer_errors(cluster: Cluster, where: str, namespace: str, peer: dict[str, Any]) -> list[str]:
    if "ipBlock" in peer:
        return []
    if "namespaceSelector" in peer:
        targets = [
            ns
            for ns, labels in cluster.namespaces.items()
            if selector_matches(peer["namespaceSelector"], labels)
        ]
        if not targets and not names_one_namespace(peer["namespaceSelector"]):
            return [f"{where}: namespaceSelector {peer['namespaceSelector']} selects no namespace"]
        if not targets:
            return []  # a namespace outside the program (an app's `fromNamespace`)
    else:
        targets = [namespace]
    selector = peer.get("podSelector")
    if selector is None or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return []
    if any(cluster.is_opaque(ns) for ns in targets):
        return []
    if not any(selector_matches(selector, p.labels) for ns in targets for p in cluster.pods_in(ns)):
        return [f"{where}: podSelector {selector} selects no pod in {sorted(targets)}"]
    return []


def selector_target_errors(cluster: Cluster) -> list[str]:
    """Service, NetworkPolicy and ServiceMonitor selectors select something that exists."""
    errors: list[str] = []
    for path, m in cluster.of_kind("Service"):
        where, spec, ns = describe(path, m), m.get("spec") or {}, namespace_of(m)
        selector = spec.get("selector") or {}
        if not selector or spec.get("type") == "ExternalName" or cluster.is_opaque(ns):
            continue
        matched = [
            p for p in cluster.pods_in(ns) if selector_matches({"matchLabels": selector}, p.labels)
        ]
        if not matched:
            errors.append(f"{where}: selector {selector} selects no pod in namespace {ns}")
        for port in spec.get("ports") or []:
            target = port.get("targetPort")
            if isinstance(target, str):
                for pod in matched:
                    names = {p.get("name") for c in pod.containers for p in c.get("ports") or []}
                    if target not in names:
                        errors.append(
                            f"{where}: targetPort {target!r} is not a container port of {pod.owner}"
                        )
    for path, m in cluster.of_kind("NetworkPolicy"):
        where, spec, ns = describe(path, m), m.get("spec") or {}, namespace_of(m)
        selector = spec.get("podSelector") or {}
        has_selector = selector.get("matchLabels") or selector.get("matchExpressions")
        if (
            has_selector
            and not cluster.is_opaque(ns)
            and not any(selector_matches(selector, p.labels) for p in cluster.pods_in(ns))
        ):
            errors.append(f"{where}: podSelector {selector} selects no pod in namespace {ns}")
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for i, rule in enumerate(spec.get(direction) or []):
                for j, peer in enumerate(rule.get(key) or []):
                    errors += _peer_errors(
                        cluster, f"{where} {direction}[{i}].{key}[{j}]", ns, peer
                    )
    for path, m in cluster.of_kind("ServiceMonitor"):
        where, spec, ns = describe(path, m), m.get("spec") or {}, namespace_of(m)
        ns_selector = spec.get("namespaceSelector") or {}
        if ns_selector.get("any"):
            namespaces = set(cluster.namespaces)
        else:
            namespaces = set(ns_selector.get("matchNames") or [ns])
        services = [
            s
            for _, s in cluster.of_kind("Service")
            if namespace_of(s) in namespaces
            and selector_matches(spec.get("selector"), s["metadata"].get("labels") or {})
        ]
        if not services:
            errors.append(f"{where}: selector selects no Service in {sorted(namespaces)}")
        port_names = {
            p.get("name") for s in services for p in (s.get("spec") or {}).get("ports") or []
        }
        for i, endpoint in enumerate(spec.get("endpoints") or []):
            if endpoint.get("port") and services and endpoint["port"] not in port_names:
                errors.append(
                    f"{where}: endpoints[{i}].port {endpoint['port']!r} is not a port name of "
                    "the selected Services"
                )
    return errors


def reference_errors(cluster: Cluster) -> list[str]:
    """Pods name a ServiceAccount, ConfigMaps, Secrets and SecretProviderClasses that exist."""
    errors = []
    for pod in cluster.pods:
        ns = pod.namespace
        if cluster.is_opaque(ns):
            continue
        account = pod.spec.get("serviceAccountName")
        if account and account != "default" and account not in cluster.names("ServiceAccount", ns):
            errors.append(f"{pod.owner}: serviceAccountName {account!r} is not rendered in {ns}")
        synced = {
            s.get("secretName")
            for _, spc in cluster.of_kind("SecretProviderClass")
            if namespace_of(spc) == ns
            for s in (spc.get("spec") or {}).get("secretObjects") or []
        }
        secrets = cluster.names("Secret", ns) | synced
        for volume in pod.spec.get("volumes") or []:
            if "configMap" in volume and not volume["configMap"].get("optional"):
                name = volume["configMap"].get("name")
                if name not in cluster.names("ConfigMap", ns):
                    errors.append(f"{pod.owner}: volume {volume['name']}: no ConfigMap {name!r}")
            if "secret" in volume and not volume["secret"].get("optional"):
                name = volume["secret"].get("secretName")
                if name not in secrets:
                    errors.append(f"{pod.owner}: volume {volume['name']}: no Secret {name!r}")
            csi = volume.get("csi") or {}
            spc = (csi.get("volumeAttributes") or {}).get("secretProviderClass")
            if spc and spc not in cluster.names("SecretProviderClass", ns):
                errors.append(
                    f"{pod.owner}: volume {volume['name']}: no SecretProviderClass {spc!r} in {ns}"
                )
        for container in pod.containers:
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref and not ref.get("optional") and ref.get("name") not in secrets:
                    errors.append(
                        f"{pod.owner}: env {env['name']}: no Secret {ref.get('name')!r} in {ns}"
                    )
    return errors


def pod_security_label_errors(cluster: Cluster) -> list[str]:
    """Every namespace enforces a Pod Security level, and every PSA label value is valid."""
    errors = []
    for path, m in cluster.of_kind("Namespace"):
        where = describe(path, m)
        labels = m["metadata"].get("labels") or {}
        if f"{PSA_PREFIX}enforce" not in labels:
            errors.append(f"{where}: no {PSA_PREFIX}enforce label")
        for key, value in labels.items():
            if not key.startswith(PSA_PREFIX):
                continue
            mode = key.removeprefix(PSA_PREFIX)
            if mode in PSA_MODES:
                if value not in PSA_LEVELS:
                    errors.append(f"{where}: {key}={value!r} is not one of {sorted(PSA_LEVELS)}")
            elif mode.removesuffix("-version") in PSA_MODES and mode.endswith("-version"):
                if not PSA_VERSION.fullmatch(str(value)):
                    errors.append(f"{where}: {key}={value!r} is not `latest` or v1.<minor>")
            else:
                errors.append(f"{where}: {key} is not a Pod Security Admission label")
    return errors


def _container_port(pod: PodTemplate, target: Any) -> int | None:
    """The container port number a Service's targetPort (a name or a number) resolves to."""
    for container in pod.containers:
        for port in container.get("ports") or []:
            if target in (port.get("name"), port.get("containerPort")):
                return port.get("containerPort")
    return target if isinstance(target, int) else None


def service_port_errors(cluster: Cluster) -> list[str]:
    """Where a NetworkPolicy selects a Service's pods, the Service's port equals the container
    port it targets: EKS user guide "Limit Pod traffic with Kubernetes network policies",
    Considerations: "For any of your Kubernetes services, the service port must be the same
    as the container port" (the VPC CNI's agent matches policies on the pod's port)."""
    errors: list[str] = []
    policies: dict[str, list[dict[str, Any] | None]] = {}
    for _, m in cluster.of_kind("NetworkPolicy"):
        policies.setdefault(namespace_of(m), []).append((m.get("spec") or {}).get("podSelector"))
    for path, m in cluster.of_kind("Service"):
        where, spec, ns = describe(path, m), m.get("spec") or {}, namespace_of(m)
        selector = spec.get("selector") or {}
        if not selector or cluster.is_opaque(ns):
            continue
        pods = [
            p for p in cluster.pods_in(ns) if selector_matches({"matchLabels": selector}, p.labels)
        ]
        governed = [
            p for p in pods if any(selector_matches(s, p.labels) for s in policies.get(ns, []))
        ]
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for pod in governed:
                number = _container_port(pod, target)
                if number != port.get("port"):
                    errors.append(
                        f"{where}: port {port.get('port')} targets container port {number} "
                        f"({target!r}) of {pod.owner}; with network policies the VPC CNI "
                        "needs the Service port to equal the container port"
                    )
    return errors


SEMANTIC_CHECKS: dict[str, Callable[[Cluster], list[str]]] = {
    "enums": enum_errors,
    "workload selectors": workload_selector_errors,
    "selector targets": selector_target_errors,
    "references": reference_errors,
    "pod security labels": pod_security_label_errors,
    "service ports equal container ports": service_port_errors,
}


# --- custom resources ----------------------------------------------------------------------


@functools.cache
def _own_schema(name: str) -> jsonschema.Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.validators.Draft202012Validator.check_schema(schema)
    return jsonschema.validators.Draft202012Validator(schema)


def _schema_errors(validator: jsonschema.Validator, data: Any, where: str) -> list[str]:
    return [
        f"{where}: {'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
    ]


def secret_provider_class_errors(manifest: dict[str, Any], where: str = "") -> list[str]:
    """Our schema of SecretProviderClass v1 for ASCP, including the YAML inside `objects`,
    plus what a schema cannot say: mounted file names are unique and synced keys exist."""
    errors = _schema_errors(_own_schema("secretproviderclass-v1.json"), manifest, where)
    text = ((manifest.get("spec") or {}).get("parameters") or {}).get("objects")
    if not isinstance(text, str):
        return errors
    try:
        objects = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [*errors, f"{where}: spec.parameters.objects is not YAML: {exc}"]
    errors += _schema_errors(
        _own_schema("ascp-objects.json"), objects, f"{where} spec.parameters.objects"
    )
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        return errors
    translate = str(manifest["spec"]["parameters"].get("pathTranslation", "_"))
    files: list[str] = []
    for item in objects:
        # As ASCP names files: the alias, else the object name with `/` translated.
        name = str(item.get("objectAlias") or item.get("objectName", ""))
        if translate.lower() == "false":
            files.append(name.lstrip("/"))
        else:
            files.append(name.replace("/", translate))
        files += [str(j.get("objectAlias")) for j in item.get("jmesPath") or []]
    duplicates = sorted({f for f in files if files.count(f) > 1})
    if duplicates:
        errors.append(f"{where}: mounted file names collide: {duplicates}")
    for i, synced in enumerate((manifest.get("spec") or {}).get("secretObjects") or []):
        for entry in synced.get("data") or []:
            if entry.get("objectName") not in files:
                errors.append(
                    f"{where}: secretObjects[{i}] reads {entry.get('objectName')!r}, "
                    f"which is not a mounted file ({files})"
                )
    return errors


def _unknown_fields(given: Any, accepted: Any, path: str = "") -> list[str]:
    """Keys in `given` that the model dropped: pydantic ignores unknown fields by default."""
    if isinstance(given, dict) and isinstance(accepted, dict):
        found = []
        for key, value in given.items():
            where = f"{path}.{key}" if path else key
            if key not in accepted:
                found.append(where)
            else:
                found += _unknown_fields(value, accepted[key], where)
        return found
    if isinstance(given, list) and isinstance(accepted, list):
        return [
            f
            for i, (g, a) in enumerate(zip(given, accepted, strict=False))
            for f in _unknown_fields(g, a, f"{path}[{i}]")
        ]
    return []


def prometheus_operator_errors(manifest: dict[str, Any], where: str = "") -> list[str]:
    """Validates monitoring.coreos.com objects with cloudcoil's pydantic models, strictly."""
    import pydantic
    from cloudcoil.models.prometheus_operator import v1, v1alpha1

    version = manifest.get("apiVersion", "").rsplit("/", 1)[-1]
    module = {"v1": v1, "v1alpha1": v1alpha1}.get(version)
    model = getattr(module, str(manifest.get("kind")), None) if module else None
    if model is None:
        return [f"{where}: no model for {manifest.get('apiVersion')} {manifest.get('kind')}"]
    try:
        parsed = model.model_validate(manifest)
    except pydantic.ValidationError as exc:
        return [f"{where}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    accepted = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [f"{where}: {f}: unknown field" for f in _unknown_fields(manifest, accepted)]


CUSTOM_VALIDATORS: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
    "secrets-store.csi.x-k8s.io": secret_provider_class_errors,
    "monitoring.coreos.com": prometheus_operator_errors,
}


def custom_resource_validator(
    manifest: dict[str, Any],
) -> Callable[[dict[str, Any], str], list[str]] | None:
    group = manifest.get("apiVersion", "").rpartition("/")[0]
    return CUSTOM_VALIDATORS.get(group)


def object_errors(manifest: dict[str, Any], version: str, where: str) -> list[str]:
    """Every object is checked by the bundled schemas or by one of ours, never by neither."""
    if has_kubernetes_schema(manifest, version):
        return kubernetes_schema_errors(manifest, version, where)
    validator = custom_resource_validator(manifest)
    if validator is None:
        return [
            f"{where}: no schema for {manifest.get('apiVersion')} {manifest.get('kind')}; add "
            "one under tools/gate/schemas and to CUSTOM_VALIDATORS"
        ]
    return validator(manifest, where)


# --- checkov -------------------------------------------------------------------------------


class SkipFileError(ValueError):
    """The skip list is malformed: every skip needs a one-line reason."""


@dataclass(frozen=True)
class Skip:
    check_id: str
    reason: str
    resources: tuple[str, ...] = ()
    """checkov resource ids (`Deployment.<ns>.<name>`); empty skips the check everywhere."""


CHECK_ID = re.compile(r"CKV2?_K8S_\d+")


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    """Parses the one skip list; raises SkipFileError for a skip without a one-line reason."""
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise SkipFileError(f"{path.name}: must map check ids to {{reason, resources}}")
    skips, problems = [], []
    for check_id, entry in data.items():
        entry = {"reason": entry} if isinstance(entry, str) or entry is None else entry
        reason = entry.get("reason") if isinstance(entry, dict) else None
        resources = entry.get("resources", []) if isinstance(entry, dict) else []
        if not CHECK_ID.fullmatch(str(check_id)):
            problems.append(f"{check_id!r} is not a checkov Kubernetes check id")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{check_id}: no reason given")
        elif "\n" in reason.strip():
            problems.append(f"{check_id}: the reason must be one line")
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            problems.append(f"{check_id}: resources must be a list of checkov resource ids")
        if not problems and isinstance(reason, str) and isinstance(resources, list):
            skips.append(Skip(str(check_id), reason.strip(), tuple(resources)))
    if problems:
        raise SkipFileError(f"{path.name}: " + "; ".join(problems))
    return skips


def checkov_bin() -> Path:
    """The tools venv's checkov (`make install`), else $CHECKOV_BIN; never silently absent."""
    candidates = [ROOT / ".venv-tools" / "bin" / "checkov"]
    if os.environ.get("CHECKOV_BIN"):
        candidates.append(Path(os.environ["CHECKOV_BIN"]))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise GateError(
        "checkov not found at .venv-tools/bin/checkov (nor $CHECKOV_BIN): run `make install`, "
        "which creates the tools virtualenv from requirements-tools.txt"
    )


def checkov_command(directory: Path, skips: Iterable[Skip], binary: Path) -> list[str]:
    """The one way this project calls checkov: offline (`--skip-download`), JSON out."""
    command = [
        str(binary),
        "--directory",
        str(directory),
        "--framework",
        "kubernetes",
        "--skip-download",
        "--output",
        "json",
        "--compact",
    ]
    everywhere = sorted(s.check_id for s in skips if not s.resources)
    if everywhere:
        command += ["--skip-check", ",".join(everywhere)]
    return command


@dataclass
class CheckovRun:
    command: list[str]
    report: dict[str, Any]
    failed: list[dict[str, Any]]
    """Failed checks left after the resource-scoped skips."""
    stale_skips: list[str]


def run_checkov(directory: Path, skips: list[Skip], binary: Path | None = None) -> CheckovRun:
    """One checkov run over a directory of manifests (seconds each: never one per file)."""
    command = checkov_command(directory, skips, binary or checkov_bin())
    if "--skip-download" not in command:
        raise AssertionError("checkov must never run without --skip-download")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode not in (0, 1):
        raise GateError(f"checkov exited {done.returncode}: {done.stderr[-2000:]}")
    try:
        parsed = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise GateError(f"checkov printed no JSON ({exc}): {done.stdout[:500]}") from exc
    reports = parsed if isinstance(parsed, list) else [parsed]
    report = next((r for r in reports if r.get("check_type") == "kubernetes"), reports[0])
    failed_raw = (report.get("results") or {}).get("failed_checks") or []
    scoped = {(s.check_id, r) for s in skips for r in s.resources}
    failed = [c for c in failed_raw if (c["check_id"], c["resource"]) not in scoped]
    hits = {(c["check_id"], c["resource"]) for c in failed_raw}
    stale = sorted(f"{cid} on {res}" for cid, res in scoped if (cid, res) not in hits)
    return CheckovRun(command, report, failed, stale)


def scanned_resources(run: CheckovRun) -> set[str]:
    """Every checkov resource id a run checked (passed or failed, before our skips)."""
    results = run.report.get("results") or {}
    return {
        c["resource"] for key in ("passed_checks", "failed_checks") for c in results.get(key) or []
    }


def stale_scoped_skips(skips: Iterable[Skip], runs: Iterable[CheckovRun]) -> list[str]:
    """Resource-scoped skips whose resource the runs scanned but which no run found: the
    finding is gone. A resource no run scanned (a chart this stack does not install) is not
    stale here; the same skip file serves the project's objects and the charts' objects."""
    runs = list(runs)
    scanned = set().union(*(scanned_resources(r) for r in runs))
    hits = {
        (c["check_id"], c["resource"])
        for r in runs
        for c in (r.report.get("results") or {}).get("failed_checks") or []
    }
    return sorted(
        f"{s.check_id} on {res}"
        for s in skips
        for res in s.resources
        if res in scanned and (s.check_id, res) not in hits
    )


def describe_failed(checks: Iterable[dict[str, Any]]) -> list[str]:
    return sorted(
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c.get('file_path')})" for c in checks
    )


# --- IAM -----------------------------------------------------------------------------------

# Parliament findings that are wrong for trust policies: they have no Resource by design, and
# an EKS OIDC provider is not in parliament's list of federation sources.
TRUST_FALSE_POSITIVES = {
    "UNKNOWN_FEDERATION_SOURCE": None,
    "MALFORMED": "Statement contains neither Resource nor NotResource",
}
STS_AUDIENCE = "sts.amazonaws.com"
# Service principals a trust policy may name, with exactly the actions each may use.
SERVICE_TRUST = {
    "ec2.amazonaws.com": {"sts:AssumeRole"},
    "eks.amazonaws.com": {"sts:AssumeRole", "sts:TagSession"},
    "pods.eks.amazonaws.com": {"sts:AssumeRole", "sts:TagSession"},
}


def _findings(text: str) -> list[Any]:
    import parliament

    return parliament.analyze_policy_string(text, include_community_auditors=True).findings


def _finding_text(finding: Any) -> str:
    return f"{finding.issue}: {finding.detail} {finding.location}"


def identity_policy_findings(text: str, where: str = "") -> list[str]:
    """Every parliament finding (community auditors included) on an identity policy."""
    return [f"{where}: {_finding_text(f)}" for f in _findings(text)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trust_policy_errors(
    text: str, *, oidc_provider_arn: str, oidc_issuer: str, where: str = ""
) -> list[str]:
    """Parliament minus its known false positives, plus exact assertions per principal shape:
    IRSA (the cluster's OIDC provider, AssumeRoleWithWebIdentity, `sub` and `aud` pinned),
    or a known service (EC2 nodes, the EKS control plane, EKS Pod Identity)."""
    errors = [
        f"{where}: {_finding_text(f)}"
        for f in _findings(text)
        if not (
            f.issue in TRUST_FALSE_POSITIVES and TRUST_FALSE_POSITIVES[f.issue] in (None, f.detail)
        )
    ]
    document = json.loads(text)
    issuer = oidc_issuer.removeprefix("https://").rstrip("/")
    statements = _as_list(document.get("Statement") or [])
    if not statements:
        errors.append(f"{where}: no statements")
    for i, st in enumerate(statements):
        here = f"{where} Statement[{i}]"
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        actions = set(_as_list(st.get("Action") or []))
        if not isinstance(principal, dict) or "NotPrincipal" in st:
            errors.append(f"{here}: Principal must name a federated provider or a service")
            continue
        if set(principal) == {"Federated"}:
            if principal["Federated"] != oidc_provider_arn:
                errors.append(
                    f"{here}: Federated principal {principal['Federated']!r} is not the "
                    f"cluster's OIDC provider {oidc_provider_arn!r}"
                )
            if actions != {"sts:AssumeRoleWithWebIdentity"}:
                errors.append(
                    f"{here}: Action {sorted(actions)} is not exactly sts:AssumeRoleWithWebIdentity"
                )
            condition = st.get("Condition") or {}
            if set(condition) != {"StringEquals"}:
                errors.append(
                    f"{here}: Condition must be StringEquals only, got {sorted(condition)}"
                )
            equals = condition.get("StringEquals") or {}
            sub = equals.get(f"{issuer}:sub")
            if not isinstance(sub, str) or not re.fullmatch(
                r"system:serviceaccount:[a-z0-9.-]+:[a-z0-9.-]+", sub
            ):
                errors.append(f"{here}: StringEquals {issuer}:sub must pin one service account")
            if equals.get(f"{issuer}:aud") != STS_AUDIENCE:
                errors.append(f"{here}: StringEquals {issuer}:aud must be {STS_AUDIENCE}")
        elif set(principal) == {"Service"}:
            for service in _as_list(principal["Service"]):
                allowed = SERVICE_TRUST.get(service)
                if allowed is None:
                    errors.append(f"{here}: service principal {service!r} is not expected")
                elif service == "pods.eks.amazonaws.com" and actions != allowed:
                    errors.append(f"{here}: Pod Identity needs exactly {sorted(allowed)}")
                elif not ("sts:AssumeRole" in actions and actions <= allowed):
                    errors.append(
                        f"{here}: {service} may use {sorted(allowed)} (with sts:AssumeRole), "
                        f"got {sorted(actions)}"
                    )
        else:
            errors.append(f"{here}: unexpected principal {principal}")
    return errors


def irsa_subjects(text: str) -> list[str]:
    """`system:serviceaccount:<ns>:<name>` subjects an IRSA trust policy admits."""
    return [
        value
        for st in _as_list(json.loads(text).get("Statement") or [])
        for key, value in ((st.get("Condition") or {}).get("StringEquals") or {}).items()
        if key.endswith(":sub")
    ]


def key_policy_errors(text: str, account_id: str, where: str = "") -> list[str]:
    """A KMS key policy may only name principals of this account, never `*`."""
    errors = []
    for i, st in enumerate(_as_list(json.loads(text).get("Statement") or [])):
        principal = st.get("Principal")
        if principal == "*" or "NotPrincipal" in st:
            errors.append(f"{where} Statement[{i}]: principal is everyone")
            continue
        for kind, values in (principal or {}).items():
            for value in _as_list(values):
                if kind == "AWS" and not re.fullmatch(
                    rf"arn:aws[a-z-]*:iam::{account_id}:(root|role/.+|user/.+)", value
                ):
                    errors.append(f"{where} Statement[{i}]: {value!r} is outside this account")
                elif kind != "AWS":
                    errors.append(f"{where} Statement[{i}]: unexpected {kind} principal {value!r}")
    return errors


# --- Helm charts: values keys and taints ---------------------------------------------------


def tolerates(tolerations: Iterable[dict[str, Any]], taint: dict[str, str]) -> bool:
    """Kubernetes semantics: a toleration matches a taint by key (empty key with Exists
    matches every key), operator (Exists ignores the value) and effect (empty = all)."""
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        operator = t.get("operator", "Equal")
        if not t.get("key"):
            if operator == "Exists":
                return True
            continue
        if t["key"] != taint["key"]:
            continue
        if operator == "Exists" or t.get("value", "") == taint.get("value", ""):
            return True
    return False
