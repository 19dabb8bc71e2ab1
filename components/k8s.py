"""Plain builders for Kubernetes object fragments that every workload shares.

They return dicts (the wire shape the Kubernetes provider accepts), so tests and the
offline render read exactly what reaches the API server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import pulumi

if TYPE_CHECKING:
    from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict

PART_OF = "eks-secrets-platform"
MANAGED_BY = "pulumi"
CSI_DRIVER = "secrets-store.csi.k8s.io"
SECRETS_MOUNT_PATH = "/mnt/secrets-store"

T = TypeVar("T")

Wire: TypeAlias = Any
"""A `spec` in the Kubernetes API's own shape, camelCase keys (`matchLabels`), which is what
the provider sends and what the render and the tests read. The SDK types `spec=` as its
TypedDicts with snake_case keys (`match_labels`), which such a dict never matches, so a spec
builder returns this instead of `dict[str, Any]`. Metadata needs no such thing: its keys are
the same in both spellings, so it is typed `ObjectMetaArgsDict`."""


def app_labels(name: str, component: str, *, instance: str | None = None) -> dict[str, str]:
    """The `app.kubernetes.io/*` labels; selectors use the first two only."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance or name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }


def when_known(value: pulumi.Input[str], build: Callable[[str], T]) -> T | pulumi.Output[T]:
    """`build(value)` at once when `value` is a plain `str`, so a plain caller gets exactly what
    it got before; else an Output of it, built once `value` (an Output) is known. `build` is a
    pure function: it never creates resources."""
    if isinstance(value, str):
        return build(value)
    return pulumi.Output.from_input(value).apply(build)


def object_meta(
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    annotations: Mapping[str, str] | None = None,
) -> ObjectMetaArgsDict:
    """`metadata` of a namespaced object."""
    meta: ObjectMetaArgsDict = {"name": name, "namespace": namespace, "labels": dict(labels)}
    if annotations is not None:
        meta["annotations"] = dict(annotations)
    return meta


def selector_labels(labels: dict[str, str]) -> dict[str, str]:
    """The stable subset of `app_labels` a selector may use (selectors are immutable)."""
    return {k: labels[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def restricted_container_security_context(*, read_only_root: bool = True) -> dict[str, Any]:
    """What the `restricted` Pod Security Standard demands of each container, and more."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": read_only_root,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_pod_security_context(uid: int, gid: int | None = None) -> dict[str, Any]:
    gid = uid if gid is None else gid
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "fsGroup": gid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(
    cpu: str, memory: str, *, cpu_limit: str | None = None, memory_limit: str | None = None
) -> dict[str, Any]:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit or cpu, "memory": memory_limit or memory},
    }


def http_probe(
    path: str, port: int | str, *, initial_delay: int = 3, period: int = 10
) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    }


def tcp_probe(port: int | str, *, initial_delay: int = 3, period: int = 10) -> dict[str, Any]:
    return {
        "tcpSocket": {"port": port},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    }


def exec_probe(command: list[str], *, initial_delay: int = 3, period: int = 10) -> dict[str, Any]:
    return {
        "exec": {"command": command},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    }


def empty_dir(name: str, size_limit: str = "64Mi") -> dict[str, Any]:
    return {"name": name, "emptyDir": {"sizeLimit": size_limit}}


def csi_secrets_volume(name: str, secret_provider_class: str) -> dict[str, Any]:
    """A read-only volume served by the Secrets Store CSI driver."""
    return {
        "name": name,
        "csi": {
            "driver": CSI_DRIVER,
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": secret_provider_class},
        },
    }


def pod_security_labels(level: str = "restricted") -> dict[str, str]:
    """Pod Security Admission labels: enforce, audit and warn at the same level."""
    if level not in ("privileged", "baseline", "restricted"):
        raise ValueError(f"pod security level {level!r} is not privileged, baseline or restricted")
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": level,
        "pod-security.kubernetes.io/warn": level,
    }


def exec_kubeconfig(
    name: str, endpoint: str, certificate_authority: str, region: str
) -> dict[str, Any]:
    """A kubeconfig for `name` whose user runs `aws eks get-token`, the shape pulumi-eks
    writes: no token is stored, the deploying identity's credentials are used at each call."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": endpoint,
                    "certificate-authority-data": certificate_authority,
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [
            {
                "name": name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", name, "--region", region],
                    }
                },
            }
        ],
    }
