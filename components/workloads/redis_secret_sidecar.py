"""Redis sidecar with a secret (seed 002): a small app and its redis sidecar share a
password that lives in AWS Secrets Manager and reaches both only as a file mounted by the
Secrets Store CSI driver under the pod's own IRSA role; no Kubernetes Secret, no env var.

The app is the redis image's own redis-cli in a loop (no image to build): it re-reads the
password file on every call, so a rotated secret is picked up by the client as soon as the
driver refreshes the file (redis itself reads it at start; restart the pod to apply).
"""

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
    exec_probe,
    object_meta,
    resources,
    restricted_container_security_context,
    restricted_pod_security_context,
    when_known,
)
from ..validation import check_dns1123_label
from ..versions import REDIS_IMAGE
from .common import deployment_spec

APP_NAME = "redis-secret-app"
SERVICE_ACCOUNT = "redis-secret-app"
SECRET_PROVIDER_CLASS = "redis-secret-app"
REDIS_PORT = 6379
REDIS_UID = 999
REDIS_GID = 1000


def password_path(file_name: str) -> str:
    return f"{SECRETS_MOUNT_PATH}/{file_name}"


def redis_script(file_name: str) -> str:
    """redis with `requirepass` from the mounted file; the value is one argv element, so
    no quoting in the password can change the command."""
    return (
        f"exec redis-server --bind 127.0.0.1 --port {REDIS_PORT} --protected-mode yes "
        f'--dir /data --save "" --appendonly no '
        f'--requirepass "$(cat {password_path(file_name)})"'
    )


def app_script(file_name: str) -> str:
    """The app: count visits in redis every 5s, authenticating with the mounted password.
    REDISCLI_AUTH keeps the password off the command line (and out of `ps`)."""
    return (
        "while true; do\n"
        f'  export REDISCLI_AUTH="$(cat {password_path(file_name)})"\n'
        f"  if redis-cli -h 127.0.0.1 -p {REDIS_PORT} incr visits > /tmp/visits.part; then\n"
        "    mv /tmp/visits.part /tmp/visits\n"
        "  fi\n"
        "  date +%s > /tmp/heartbeat\n"
        "  sleep 5\n"
        "done\n"
    )


def _authed(file_name: str, command: str) -> list[str]:
    return ["sh", "-c", f'REDISCLI_AUTH="$(cat {password_path(file_name)})" {command}']


def redis_secret_pod_spec(
    service_account: pulumi.Input[str], secret_provider_class: str, file_name: str
) -> dict[str, Any]:
    """`app` and `redis` (the sidecar) both mount the password; redis listens on loopback."""
    secrets_mount = {"name": "secrets-store", "mountPath": SECRETS_MOUNT_PATH, "readOnly": True}
    security = {
        **restricted_container_security_context(),
        "runAsUser": REDIS_UID,
        "runAsGroup": REDIS_GID,
    }
    ping = _authed(file_name, f"redis-cli -h 127.0.0.1 -p {REDIS_PORT} ping | grep -q PONG")
    app = {
        "name": "app",
        "image": REDIS_IMAGE,
        "command": ["sh", "-c", app_script(file_name)],
        "resources": resources("10m", "16Mi", cpu_limit="100m", memory_limit="32Mi"),
        # Ready once a counter increment with the mounted password has succeeded.
        "readinessProbe": exec_probe(["sh", "-c", "test -s /tmp/visits"], period=5),
        "livenessProbe": exec_probe(
            ["sh", "-c", "test $(( $(date +%s) - $(cat /tmp/heartbeat) )) -lt 60"],
            initial_delay=15,
            period=20,
        ),
        "securityContext": security,
        "volumeMounts": [secrets_mount, {"name": "app-tmp", "mountPath": "/tmp"}],
    }
    redis = {
        "name": "redis",
        "image": REDIS_IMAGE,
        "command": ["sh", "-c", redis_script(file_name)],
        "resources": resources("25m", "32Mi", cpu_limit="200m", memory_limit="128Mi"),
        "readinessProbe": exec_probe(ping),
        "livenessProbe": exec_probe(ping, initial_delay=10, period=20),
        "securityContext": security,
        "volumeMounts": [secrets_mount, {"name": "data", "mountPath": "/data"}],
    }
    return {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod_security_context(REDIS_UID, REDIS_GID),
        "containers": [app, redis],
        "volumes": [
            csi_secrets_volume("secrets-store", secret_provider_class),
            {"name": "data", "emptyDir": {"sizeLimit": "64Mi"}},
            {"name": "app-tmp", "emptyDir": {"sizeLimit": "8Mi"}},
        ],
    }


def redis_app_labels() -> dict[str, str]:
    return app_labels(APP_NAME, "app")


def verify_command(namespace: str, file_name: str) -> str:
    return (
        f"kubectl -n {namespace} exec deploy/{APP_NAME} -c app -- sh -c "
        f"'ls {SECRETS_MOUNT_PATH}; cat /tmp/visits; "
        f"redis-cli -h 127.0.0.1 ping; "
        f'REDISCLI_AUTH="$(cat {password_path(file_name)})" redis-cli -h 127.0.0.1 get visits\''
    )


@dataclass(frozen=True)
class RedisSecretSidecarArgs:
    """Inputs of RedisSecretSidecar: the pod that shares a mounted password with redis."""

    namespace: pulumi.Input[str]
    """Kubernetes namespace of the workload (DNS-1123 label, checked when plain); it must exist.
    Required."""
    service_account: pulumi.Input[str]
    """Bound to the identity that may read the password secret (it must exist). Required."""
    secret_provider_class: str
    """Mounts the password secret as one file (a plain string, no jmesPath). Plain `str`: the
    pod spec is built as plain data from it (the class is the app's own, created beside it).
    Required."""
    password_file: str
    """Name of that file under /mnt/secrets-store. Required."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The namespace baseline, the identity, the SecretProviderClass and the CSI driver.
    Default: none."""

    def __post_init__(self) -> None:
        if isinstance(self.namespace, str) and (problem := check_dns1123_label(self.namespace)):
            raise ValueError(f"namespace {self.namespace!r} {problem}")


class RedisSecretSidecar(pulumi.ComponentResource):
    """Exposes `verify_command`, and a handle on its `deployment`."""

    def __init__(
        self, name: str, args: RedisSecretSidecarArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:workloads:RedisSecretSidecar", name, None, opts)
        ns = args.namespace
        labels = redis_app_labels()
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=object_meta(APP_NAME, ns, labels),
            spec=deployment_spec(
                labels,
                redis_secret_pod_spec(
                    args.service_account, args.secret_provider_class, args.password_file
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.verify_command: pulumi.Input[str] = when_known(
            ns, lambda n: verify_command(n, args.password_file)
        )
        self.register_outputs({"verify_command": self.verify_command})
