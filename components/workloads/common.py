"""Pieces the multi-container examples share: an nginx that runs unprivileged on a
read-only root filesystem, and Deployment and Service shapes. Pure functions returning the
wire shape, tested without mocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..k8s import (
    Wire,
    empty_dir,
    resources,
    restricted_container_security_context,
    selector_labels,
)
from ..versions import NGINX_UNPRIVILEGED_IMAGE

NGINX_UID = 101
NGINX_CONF_DIR = "/etc/nginx/custom"


def nginx_conf(http_body: str) -> str:
    """A complete nginx.conf: one worker (so weighted round robin is exact), every
    writable path under /tmp, logs to the container's stdout and stderr."""
    body = "\n".join(f"    {line}" if line else "" for line in http_body.strip().splitlines())
    return (
        "worker_processes 1;\n"
        "pid /tmp/nginx.pid;\n"
        "error_log /dev/stderr warn;\n"
        "events {\n    worker_connections 256;\n}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    access_log /dev/stdout;\n"
        "    server_tokens off;\n"
        "    client_body_temp_path /tmp/client_temp;\n"
        "    proxy_temp_path /tmp/proxy_temp;\n"
        "    fastcgi_temp_path /tmp/fastcgi_temp;\n"
        "    uwsgi_temp_path /tmp/uwsgi_temp;\n"
        "    scgi_temp_path /tmp/scgi_temp;\n"
        f"{body}\n"
        "}\n"
    )


def health_server(port: int) -> str:
    """A server block that only answers the kubelet's probes."""
    return (
        "server {\n"
        f"    listen {port};\n"
        "    location = /healthz {\n"
        "        access_log off;\n"
        '        return 200 "ok\\n";\n'
        "    }\n"
        "    location / {\n"
        "        return 404;\n"
        "    }\n"
        "}\n"
    )


def nginx_container(
    *,
    name: str,
    ports: Sequence[dict[str, Any]],
    readiness: dict[str, Any],
    liveness: dict[str, Any],
    extra_mounts: Sequence[dict[str, Any]] = (),
    config_volume: str = "nginx-conf",
    image: str = NGINX_UNPRIVILEGED_IMAGE,
) -> dict[str, Any]:
    """nginx-unprivileged started on our own config, bypassing the image's entrypoint
    scripts (they try to edit files, which a read-only root filesystem refuses)."""
    return {
        "name": name,
        "image": image,
        "command": ["nginx", "-c", f"{NGINX_CONF_DIR}/nginx.conf", "-g", "daemon off;"],
        "ports": list(ports),
        "resources": resources("25m", "32Mi", cpu_limit="200m", memory_limit="64Mi"),
        "readinessProbe": readiness,
        "livenessProbe": liveness,
        "securityContext": restricted_container_security_context(),
        "volumeMounts": [
            {"name": config_volume, "mountPath": NGINX_CONF_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
            *extra_mounts,
        ],
    }


def config_map_volume(name: str, config_map: str) -> dict[str, Any]:
    return {"name": name, "configMap": {"name": config_map}}


def tmp_volume() -> dict[str, Any]:
    return empty_dir("tmp", "32Mi")


def deployment_spec(
    labels: Mapping[str, str], pod_spec: dict[str, Any], *, replicas: int = 1
) -> Wire:
    return {
        "replicas": replicas,
        "selector": {"matchLabels": selector_labels(dict(labels))},
        "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
    }


def cluster_ip_service_spec(labels: Mapping[str, str], ports: Sequence[dict[str, Any]]) -> Wire:
    return {"type": "ClusterIP", "selector": selector_labels(dict(labels)), "ports": list(ports)}


def service_port(name: str, port: int, target: str | int | None = None) -> dict[str, Any]:
    return {"name": name, "port": port, "targetPort": target or name, "protocol": "TCP"}


def check_service_ports(service: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> Wire:
    """Returns `service` (a Service spec) when each of its ports equals the container port it
    targets in `pod_spec`; raises ValueError otherwise. Every workload here lives in a
    namespace with network policies, and EKS requires it: "For any of your Kubernetes
    services, the service port must be the same as the container port" (EKS user guide
    "Limit Pod traffic with Kubernetes network policies", Considerations,
    https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html)."""
    declared = [
        p
        for c in [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]
        for p in c.get("ports") or []
    ]
    for port in service.get("ports") or []:
        target = port.get("targetPort", port["port"])
        numbers = [
            p["containerPort"] for p in declared if target in (p.get("name"), p["containerPort"])
        ]
        if numbers != [port["port"]]:
            raise ValueError(
                f"Service port {port['port']} targets {target!r}, container port(s) {numbers}: "
                "with network policies the VPC CNI needs the Service port to equal the "
                "container port it targets"
            )
    return dict(service)
