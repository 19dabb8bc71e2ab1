"""The platform's proof: an nginx pod that reads AWS secrets as files at /mnt/secrets-store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..k8s import (
    SECRETS_MOUNT_PATH,
    app_labels,
    csi_secrets_volume,
    empty_dir,
    http_probe,
    object_meta,
    resources,
    restricted_container_security_context,
    restricted_pod_security_context,
)
from ..versions import NGINX_UNPRIVILEGED_IMAGE
from ..workloads.common import (
    check_service_ports,
    cluster_ip_service_spec,
    deployment_spec,
    service_port,
)

APP_NAME = "nginx-secrets-demo"
HTTP_PORT = 8080
NGINX_UID = 101


def demo_pod_spec(
    service_account: pulumi.Input[str],
    secret_provider_class: str,
    *,
    synced_secret: str = "",
    synced_keys: Sequence[str] = (),
    image: str = NGINX_UNPRIVILEGED_IMAGE,
) -> dict[str, Any]:
    """Pod spec: unprivileged nginx on 8080, the secrets volume mounted read-only."""
    container: dict[str, Any] = {
        "name": "nginx",
        "image": image,
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "resources": resources("50m", "64Mi", cpu_limit="200m", memory_limit="128Mi"),
        "readinessProbe": http_probe("/", "http"),
        "livenessProbe": http_probe("/", "http", initial_delay=10, period=20),
        "securityContext": restricted_container_security_context(),
        "volumeMounts": [
            {"name": "secrets-store", "mountPath": SECRETS_MOUNT_PATH, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "cache", "mountPath": "/var/cache/nginx"},
        ],
    }
    if synced_secret:
        container["env"] = [
            {
                "name": key.upper().replace("-", "_"),
                "valueFrom": {"secretKeyRef": {"name": synced_secret, "key": key}},
            }
            for key in synced_keys
        ]
    return {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod_security_context(NGINX_UID),
        "containers": [container],
        "volumes": [
            csi_secrets_volume("secrets-store", secret_provider_class),
            empty_dir("tmp"),
            empty_dir("cache"),
        ],
    }


@dataclass(frozen=True)
class NginxSecretsDemoArgs:
    """Inputs of NginxSecretsDemo."""

    namespace: pulumi.Input[str]
    """Kubernetes namespace of the workload (DNS-1123 label, checked when plain); it must exist.
    Required."""
    service_account: pulumi.Input[str]
    """Bound to an IAM role that may read only this demo's secrets (it must exist). Required."""
    secret_provider_class: str
    """The SecretProviderClass mounted at /mnt/secrets-store. Plain `str`: the
    pod spec is built as plain data from it (the class is the app's own, created beside it).
    Required."""
    synced_secret: str = ""
    """A Kubernetes Secret synced by the driver, exposed as env vars. Default: empty, none."""
    synced_keys: Sequence[str] = ()
    """Keys of `synced_secret` exposed as env vars. Default: none."""
    replicas: int = 1
    """Pods of the Deployment (count). Default: 1."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The SecretProviderClass, the ServiceAccount and the CSI driver releases. Default: none."""


class NginxSecretsDemo(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: NginxSecretsDemoArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:workloads:NginxSecretsDemo", name, None, opts)
        labels = app_labels(APP_NAME, "demo")
        pod_spec = demo_pod_spec(
            args.service_account,
            args.secret_provider_class,
            synced_secret=args.synced_secret,
            synced_keys=args.synced_keys,
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=object_meta(APP_NAME, args.namespace, labels),
            spec=deployment_spec(labels, pod_spec, replicas=args.replicas),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=object_meta(APP_NAME, args.namespace, labels),
            spec=check_service_ports(
                cluster_ip_service_spec(labels, [service_port("http", HTTP_PORT)]), pod_spec
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
