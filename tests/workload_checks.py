"""Checks every example workload must pass, shared by the component and whole-stack tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.pod_security import violations


def selects(match_labels: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """matchLabels semantics: every selector pair is present in `labels`."""
    return all(labels.get(key) == value for key, value in match_labels.items())


def hardening_problems(pod_spec: Mapping[str, Any]) -> list[str]:
    """What the project asks of every container beyond the restricted profile: pinned
    images, requests and limits, probes on long-running containers, a read-only root."""
    problems = []
    for kind in ("initContainers", "containers"):
        for c in pod_spec.get(kind) or []:
            name = c["name"]
            image = c["image"]
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if not tag or tag == "latest":
                problems.append(f"{name}: image {image} is not pinned")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                if set(res.get(part) or {}) != {"cpu", "memory"}:
                    problems.append(f"{name}: {part} must set cpu and memory")
            if kind == "containers":
                for probe in ("livenessProbe", "readinessProbe"):
                    if not c.get(probe):
                        problems.append(f"{name}: no {probe}")
            sc = c.get("securityContext") or {}
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}: root filesystem is writable")
            if sc.get("runAsNonRoot") is not True:
                problems.append(f"{name}: runAsNonRoot is not set on the container")
            if (sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
                problems.append(f"{name}: seccomp is not RuntimeDefault")
    if pod_spec.get("automountServiceAccountToken") is not False:
        problems.append("pod: the API token is mounted but no example calls the API")
    return problems


def assert_hardened(pod_spec: Mapping[str, Any], level: str = "restricted") -> None:
    assert violations(pod_spec, level) == []
    assert hardening_problems(pod_spec) == []


def container(pod_spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    for kind in ("initContainers", "containers"):
        for c in pod_spec.get(kind) or []:
            if c["name"] == name:
                return c
    raise KeyError(name)


def mounts(c: Mapping[str, Any]) -> dict[str, str]:
    """mountPath -> volume name."""
    return {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}


def volumes(pod_spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod_spec.get("volumes") or []}


def volumes_are_declared(pod_spec: Mapping[str, Any]) -> bool:
    declared = set(volumes(pod_spec))
    used = {
        m["name"]
        for kind in ("initContainers", "containers")
        for c in pod_spec.get(kind) or []
        for m in c.get("volumeMounts") or []
    }
    return used == declared
