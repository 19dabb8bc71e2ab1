"""A pure checker of the Kubernetes Pod Security Standards (baseline and restricted, as
enforced by Pod Security Admission at version `latest`), applied to rendered pod specs.

It lets the tests prove, offline, that a namespace's `enforce` level admits the pods we
put in it. Reference: https://kubernetes.io/docs/concepts/security/pod-security-standards/
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

LEVELS = ("privileged", "baseline", "restricted")

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SECCOMP_OK = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_OK = frozenset({"RuntimeDefault", "Localhost"})


def _containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(kind) or []:
            yield f"{kind[:-1]} {container.get('name', '?')!r}", container


def _baseline(spec: Mapping[str, Any], annotations: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    pod_sc = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(f"pod: {field} must be unset or false")
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        found.append("pod: windowsOptions.hostProcess must be unset or false")
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            found.append(f"volume {volume.get('name')!r}: hostPath volumes are forbidden")
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            found.append(f"pod: sysctl {sysctl.get('name')!r} is not in the safe set")
    if (pod_sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append("pod: seccompProfile Unconfined is forbidden")
    found += _selinux("pod", pod_sc.get("seLinuxOptions"))
    if (pod_sc.get("appArmorProfile") or {}).get("type", "RuntimeDefault") not in APPARMOR_OK:
        found.append("pod: appArmorProfile must be RuntimeDefault or Localhost")
    for key, value in annotations.items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            found.append(f"annotation {key}: AppArmor profile {value!r} is forbidden")
    for where, container in _containers(spec):
        sc = container.get("securityContext") or {}
        if sc.get("privileged"):
            found.append(f"{where}: privileged must be unset or false")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{where}: windowsOptions.hostProcess must be unset or false")
        added = set((sc.get("capabilities") or {}).get("add") or [])
        if added - BASELINE_CAPABILITIES:
            found.append(f"{where}: capabilities {sorted(added - BASELINE_CAPABILITIES)} added")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                found.append(f"{where}: hostPort {port['hostPort']} is forbidden")
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{where}: procMount must be Default")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{where}: seccompProfile Unconfined is forbidden")
        if (sc.get("appArmorProfile") or {}).get("type", "RuntimeDefault") not in APPARMOR_OK:
            found.append(f"{where}: appArmorProfile must be RuntimeDefault or Localhost")
        found += _selinux(where, sc.get("seLinuxOptions"))
    return found


def _selinux(where: str, options: Mapping[str, Any] | None) -> list[str]:
    options = options or {}
    found = []
    if options.get("type", "") not in SELINUX_TYPES:
        found.append(f"{where}: seLinuxOptions.type {options['type']!r} is forbidden")
    if options.get("user") or options.get("role"):
        found.append(f"{where}: seLinuxOptions user and role must be unset")
    return found


def _restricted(spec: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    pod_sc = spec.get("securityContext") or {}
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume.get('name')!r}: type {sorted(kinds)} is not allowed")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod: runAsUser must not be 0")
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    for where, container in _containers(spec):
        sc = container.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation must be false")
        non_root = sc.get("runAsNonRoot")
        if non_root is False or (non_root is None and not pod_non_root):
            found.append(f"{where}: runAsNonRoot must be true (here or on the pod)")
        if sc.get("runAsUser") == 0:
            found.append(f"{where}: runAsUser must not be 0")
        seccomp = (sc.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp not in SECCOMP_OK:
            found.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            found.append(f"{where}: capabilities must drop ALL")
        added = set(caps.get("add") or [])
        if added - RESTRICTED_CAPABILITIES:
            found.append(f"{where}: only NET_BIND_SERVICE may be added, not {sorted(added)}")
    return found


def violations(
    pod_spec: Mapping[str, Any],
    level: str = "restricted",
    annotations: Mapping[str, str] | None = None,
) -> list[str]:
    """What Pod Security Admission at `level` would refuse in this pod; empty when admitted."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {LEVELS}")
    if level == "privileged":
        return []
    found = _baseline(pod_spec, annotations or {})
    if level == "restricted":
        found += _restricted(pod_spec)
    return found


POD_TEMPLATE_KINDS = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
)


def pod_spec_of(resource_type: str, inputs: Mapping[str, Any]) -> tuple[dict, dict] | None:
    """(pod spec, pod annotations) of a recorded workload object, or None if it has none."""
    if resource_type == "kubernetes:core/v1:Pod":
        return inputs["spec"], (inputs.get("metadata") or {}).get("annotations") or {}
    if resource_type == "kubernetes:batch/v1:CronJob":
        template = inputs["spec"]["jobTemplate"]["spec"]["template"]
    elif resource_type in POD_TEMPLATE_KINDS:
        template = inputs["spec"]["template"]
    else:
        return None
    return template["spec"], (template.get("metadata") or {}).get("annotations") or {}
