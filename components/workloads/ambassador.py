"""Ambassador pattern (seed 004): the main container talks to `localhost`, and an nginx
beside it brokers the connection to two backends with a weighted split (3:1 by default).

The application never learns where its backends are or how traffic is shared; the
ambassador's upstream block, rendered by `upstream_conf`, is the single place that knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..k8s import (
    app_labels,
    exec_probe,
    http_probe,
    object_meta,
    resources,
    restricted_container_security_context,
    restricted_pod_security_context,
    selector_labels,
    when_known,
)
from ..namespace_baseline import EgressAllow, IngressAllow
from ..validation import check_dns1123_label
from ..versions import CURL_IMAGE
from .common import (
    NGINX_UID,
    check_service_ports,
    cluster_ip_service_spec,
    config_map_volume,
    deployment_spec,
    health_server,
    nginx_conf,
    nginx_container,
    service_port,
    tmp_volume,
)

AMBASSADOR = "ambassador"
PROXY_PORT = 8080
"""Where the main container finds the ambassador: localhost only."""
HEALTH_PORT = 8081
BACKEND_PORT = 8080
CURL_UID = 100
"""curl_user in curlimages/curl."""
CURL_GID = 101
HTML_DIR = "/usr/share/nginx/html"


@dataclass(frozen=True)
class Backend:
    name: str
    """The backend's Deployment and Service name (DNS-1123 label). Required."""
    weight: int
    """Its share of the requests, relative to the other backends (1-100). Required."""

    def __post_init__(self) -> None:
        if problem := check_dns1123_label(self.name):
            raise ValueError(f"backend name {self.name!r} {problem}")
        if not 1 <= self.weight <= 100:
            raise ValueError(f"backend {self.name!r} weight {self.weight} is not within 1-100")


def backend_labels(backend: str) -> dict[str, str]:
    return app_labels(backend, "backend")


def ambassador_labels() -> dict[str, str]:
    return app_labels(AMBASSADOR, "ambassador")


def backend_host(backend: str, namespace: str) -> str:
    """The backend Service's FQDN, so the config does not depend on the search path."""
    return f"{backend}.{namespace}.svc.cluster.local"


def backend_page(backend: str) -> str:
    """One line per response, so `sort | uniq -c` shows the split."""
    return f"served by {backend}\n"


def backend_nginx_conf() -> str:
    return nginx_conf(
        "server {\n"
        f"    listen {BACKEND_PORT};\n"
        f"    root {HTML_DIR};\n"
        "    location = /healthz {\n"
        "        access_log off;\n"
        '        return 200 "ok\\n";\n'
        "    }\n"
        "    location / {\n"
        "        try_files /index.html =404;\n"
        "    }\n"
        "}\n"
    )


def upstream_conf(backends: Sequence[Backend], namespace: str) -> str:
    """The ambassador's nginx.conf: localhost:8080 proxies to a weighted upstream."""
    if not backends:
        raise ValueError("the ambassador needs at least one backend")
    servers = "\n".join(
        f"    server {backend_host(b.name, namespace)}:{BACKEND_PORT}"
        + (f" weight={b.weight};" if b.weight != 1 else ";")
        for b in backends
    )
    return nginx_conf(
        f"upstream backends {{\n{servers}\n}}\n"
        "server {\n"
        f"    listen 127.0.0.1:{PROXY_PORT};\n"
        "    location / {\n"
        "        proxy_pass http://backends;\n"
        "    }\n"
        "}\n" + health_server(HEALTH_PORT)
    )


MAIN_SCRIPT = (
    "while true; do\n"
    f"  if curl -fsS -o /tmp/last-response.part http://localhost:{PROXY_PORT}/; then\n"
    "    mv /tmp/last-response.part /tmp/last-response\n"
    "  fi\n"
    "  date +%s > /tmp/heartbeat\n"
    "  sleep 5\n"
    "done\n"
)


def backend_pod_spec(config_map: str) -> dict[str, Any]:
    """nginx-unprivileged serving one page from a ConfigMap on 8080."""
    http_port = {"name": "http", "containerPort": BACKEND_PORT, "protocol": "TCP"}
    nginx = nginx_container(
        name="nginx",
        ports=[http_port],
        readiness=http_probe("/healthz", "http"),
        liveness=http_probe("/healthz", "http", initial_delay=10, period=20),
        extra_mounts=[{"name": "html", "mountPath": HTML_DIR, "readOnly": True}],
    )
    return {
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod_security_context(NGINX_UID),
        "containers": [nginx],
        "volumes": [
            {
                "name": "nginx-conf",
                "configMap": {
                    "name": config_map,
                    "items": [{"key": "nginx.conf", "path": "nginx.conf"}],
                },
            },
            {
                "name": "html",
                "configMap": {
                    "name": config_map,
                    "items": [{"key": "index.html", "path": "index.html"}],
                },
            },
            tmp_volume(),
        ],
    }


def ambassador_pod_spec(config_map: str) -> dict[str, Any]:
    """`main` (curl in a loop through localhost) and `ambassador` (nginx) share the network
    namespace; main's readiness says the last request through the ambassador succeeded."""
    main = {
        "name": "main",
        "image": CURL_IMAGE,
        "command": ["sh", "-c", MAIN_SCRIPT],
        "resources": resources("10m", "16Mi", cpu_limit="100m", memory_limit="32Mi"),
        "readinessProbe": exec_probe(["sh", "-c", "test -s /tmp/last-response"], period=5),
        "livenessProbe": exec_probe(
            ["sh", "-c", "test $(( $(date +%s) - $(cat /tmp/heartbeat) )) -lt 60"],
            initial_delay=15,
            period=20,
        ),
        "securityContext": {
            **restricted_container_security_context(),
            "runAsUser": CURL_UID,
            "runAsGroup": CURL_GID,
        },
        "volumeMounts": [{"name": "main-tmp", "mountPath": "/tmp"}],
    }
    proxy = nginx_container(
        name="ambassador",
        ports=[{"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"}],
        readiness=http_probe("/healthz", "health"),
        liveness=http_probe("/healthz", "health", initial_delay=10, period=20),
    )
    return {
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod_security_context(NGINX_UID),
        "containers": [main, proxy],
        "volumes": [
            config_map_volume("nginx-conf", config_map),
            tmp_volume(),
            {"name": "main-tmp", "emptyDir": {"sizeLimit": "8Mi"}},
        ],
    }


def network_rules(backends: Sequence[Backend]) -> tuple[list[IngressAllow], list[EgressAllow]]:
    """Only the ambassador pod may reach the backends, and only on their HTTP port."""
    ambassador = selector_labels(ambassador_labels())
    ingress = [
        IngressAllow(
            name=f"{b.name}-from-ambassador",
            pod_labels=selector_labels(backend_labels(b.name)),
            ports=[BACKEND_PORT],
            from_pod_labels=ambassador,
        )
        for b in backends
    ]
    egress = [
        EgressAllow(
            name=f"ambassador-to-{b.name}",
            pod_labels=ambassador,
            ports=[BACKEND_PORT],
            to_pod_labels=selector_labels(backend_labels(b.name)),
        )
        for b in backends
    ]
    return ingress, egress


def verify_command(namespace: str, requests: int = 20) -> str:
    return (
        f"kubectl -n {namespace} exec deploy/{AMBASSADOR} -c main -- sh -c "
        f"'for i in $(seq {requests}); do curl -s localhost:{PROXY_PORT}; done' | sort | uniq -c"
    )


@dataclass(frozen=True)
class AmbassadorExampleArgs:
    """Inputs of AmbassadorExample."""

    namespace: pulumi.Input[str]
    """Kubernetes namespace of the workload (DNS-1123 label, checked when plain); it must exist.
    Required."""
    backends: Sequence[Backend] = (Backend("server1", 3), Backend("server2", 1))
    """The backends the ambassador spreads requests over, by weight. Default: `server1` (3) and
    `server2` (1)."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The namespace baseline (`NamespaceBaseline.ready`). Default: none."""

    def __post_init__(self) -> None:
        if isinstance(self.namespace, str) and (problem := check_dns1123_label(self.namespace)):
            raise ValueError(f"namespace {self.namespace!r} {problem}")
        names = [b.name for b in self.backends]
        if not names or len(set(names)) != len(names) or AMBASSADOR in names:
            raise ValueError(f"backends need distinct names other than {AMBASSADOR!r}: {names}")


class AmbassadorExample(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: AmbassadorExampleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:workloads:AmbassadorExample", name, None, opts)
        ns = args.namespace
        ready = pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for))
        backend_ready: list[pulumi.Resource] = []
        self.backends: dict[str, k8s.apps.v1.Deployment] = {}
        for backend in args.backends:
            labels = backend_labels(backend.name)
            config = k8s.core.v1.ConfigMap(
                f"{name}-{backend.name}-content",
                metadata=object_meta(f"{backend.name}-content", ns, labels),
                data={"nginx.conf": backend_nginx_conf(), "index.html": backend_page(backend.name)},
                opts=ready,
            )
            pod_spec = backend_pod_spec(f"{backend.name}-content")
            deployment = k8s.apps.v1.Deployment(
                f"{name}-{backend.name}",
                metadata=object_meta(backend.name, ns, labels),
                spec=deployment_spec(labels, pod_spec),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.wait_for, config]),
            )
            service = k8s.core.v1.Service(
                f"{name}-{backend.name}-service",
                metadata=object_meta(backend.name, ns, labels),
                spec=check_service_ports(
                    cluster_ip_service_spec(labels, [service_port("http", BACKEND_PORT)]),
                    pod_spec,
                ),
                opts=ready,
            )
            self.backends[backend.name] = deployment
            backend_ready += [deployment, service]
        labels = ambassador_labels()
        self.config = k8s.core.v1.ConfigMap(
            f"{name}-ambassador-conf",
            metadata=object_meta("ambassador-nginx", ns, labels),
            data={"nginx.conf": when_known(ns, lambda n: upstream_conf(args.backends, n))},
            opts=ready,
        )
        # nginx resolves the upstream names at start: the Services must exist by then.
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-ambassador",
            metadata=object_meta(AMBASSADOR, ns, labels),
            spec=deployment_spec(labels, ambassador_pod_spec("ambassador-nginx")),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*args.wait_for, self.config, *backend_ready]
            ),
        )
        self.verify_command: pulumi.Input[str] = when_known(ns, verify_command)
        self.register_outputs({"verify_command": self.verify_command})
