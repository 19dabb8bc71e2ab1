"""An application on the platform: the one unit a team, a demo or an example is built from.

It owns its namespace and baseline (Pod Security, LimitRange, ResourceQuota, default-deny
plus its own allows), its ServiceAccount bound to an identity, the SecretProviderClass of
exactly the secrets it may read, and optionally a built-in workload. In `pulumi preview`
it is one parent component with all of that beneath it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from eksplatform.k8s import (
    SECRETS_MOUNT_PATH,
    csi_secrets_volume,
    resources,
    restricted_container_security_context,
    restricted_pod_security_context,
)
from eksplatform.modes import AppWorkload, IdentityMode
from eksplatform.namespace_baseline import (
    EgressAllow,
    IngressAllow,
    NamespaceBaseline,
    NamespaceBaselineArgs,
    Quota,
)
from eksplatform.secret_provider_class import SyncedSecret
from eksplatform.versions import BUSYBOX_IMAGE
from eksplatform.workload_secrets import WorkloadSecrets
from eksplatform.workloads.nginx_secrets_demo import (
    APP_NAME as NGINX_DEMO,
)
from eksplatform.workloads.nginx_secrets_demo import (
    NginxSecretsDemo,
    NginxSecretsDemoArgs,
)

from stacks.config.model import AppSettings, SecretSpec, secret_access_name
from stacks.platform import Platform, root_alias

CHECK_UID = 65532
"""An unprivileged uid for the throw-away pod that shows an app's mounted secrets."""


@dataclass(frozen=True)
class Previously:
    """Where an app's children stood before they moved under it, so that adopting the unit
    replaces nothing (Pulumi aliases; their own children follow by name prefix)."""

    baseline: Sequence[pulumi.Alias] = ()
    namespace: Sequence[pulumi.Alias] = ()
    """The Namespace object inside the baseline, where it had an older place of its own."""
    access: Sequence[pulumi.Alias] = ()
    workload: Sequence[pulumi.Alias] = ()


@dataclass(frozen=True)
class OwnedSecret:
    """A secret an app makes for itself (a generated certificate), stored like every stack
    secret: the stack's key, replicas and tags, and listed in `secretArns`."""

    resource_name: str
    spec: SecretSpec
    value: Callable[[pulumi.Resource], pulumi.Input[str]]
    """Makes the value with the app as parent of whatever it creates."""
    recovery_window_days: int | None = None
    """None keeps the stack's recovery window; 0 for material regenerated at will."""
    aliases: Sequence[pulumi.Alias] = ()


@dataclass(frozen=True)
class AppArgs:
    """Inputs of App."""

    platform: Platform
    namespace: str
    """Created and owned by the app: no other app or example may use it."""
    secret_names: Sequence[str] = ()
    """Names from the `secrets` list it may read; with `owned_secrets` empty too, the app
    is a namespace and baseline only, with no identity."""
    owned_secrets: Sequence[OwnedSecret] = ()
    """Secrets it creates and reads besides `secret_names`."""
    service_account: str = ""
    """Bound to the app's identity; required with secrets."""
    identity: IdentityMode = IdentityMode.IRSA
    class_name: str = ""
    """Name of the SecretProviderClass; default: the app's name."""
    synced_secrets: Sequence[SyncedSecret] = ()
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    ingress: Sequence[IngressAllow] = ()
    egress: Sequence[EgressAllow] = ()
    deny_egress: bool = True
    """Default-deny egress as well (DNS stays allowed)."""
    quota: Quota = field(default_factory=Quota)
    previously: Previously = field(default_factory=Previously)

    def __post_init__(self) -> None:
        if (self.secret_names or self.owned_secrets) and not self.service_account:
            raise ValueError("an app that reads secrets needs a service_account")


class App(pulumi.ComponentResource):
    """Exposes `baseline`, `access` (None without secrets), `ready` (what a pod mounting
    the secrets waits for), `class_name`, `service_account` and `role_arn`."""

    def __init__(self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksplatform:platform:App", name, None, opts)
        platform = args.platform
        self.namespace = args.namespace
        self.baseline = NamespaceBaseline(
            f"{name}-ns",
            NamespaceBaselineArgs(
                name=args.namespace,
                labels=dict(args.namespace_labels),
                quota=args.quota,
                ingress=args.ingress,
                egress=args.egress,
                deny_egress=args.deny_egress,
                namespace_aliases=args.previously.namespace,
            ),
            opts=platform.opts(self, args.previously.baseline),
        )
        self.access: WorkloadSecrets | None = None
        self.ready: list[pulumi.Resource] = list(self.baseline.ready)
        self.class_name = args.class_name or name
        self.service_account = args.service_account
        self.role_arn: pulumi.Output[str] | None = None
        for owned in args.owned_secrets:
            platform.add_secret(
                owned.resource_name,
                owned.spec,
                owned.value(self),
                platform.opts(self, owned.aliases),
                recovery_window_days=owned.recovery_window_days,
            )
        secret_names = [*args.secret_names, *(o.spec.name for o in args.owned_secrets)]
        if secret_names:
            self.access = platform.secret_access(
                secret_access_name(name),
                namespace=args.namespace,
                service_account=args.service_account,
                class_name=self.class_name,
                secret_names=secret_names,
                identity=args.identity,
                synced_secrets=args.synced_secrets,
                wait_for=self.baseline.ready,
                opts=platform.opts(self, args.previously.access),
            )
            self.ready = [*self.ready, *self.access.ready, *platform.csi.releases]
            self.role_arn = self.access.role_arn
        self.register_outputs(
            {
                "namespace": self.namespace,
                "service_account": self.service_account,
                "class_name": self.class_name,
                "role_arn": self.role_arn,
            }
        )


def check_pod_manifest(namespace: str, service_account: str, class_name: str) -> dict[str, Any]:
    """A one-shot pod, fit for the restricted profile, that lists what the app's
    SecretProviderClass mounts: proof for a team that has not deployed yet."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "secrets-check", "namespace": namespace},
        "spec": {
            "serviceAccountName": service_account,
            # The CSI driver asks for the pod's token itself; the container needs none.
            "automountServiceAccountToken": False,
            "restartPolicy": "Never",
            "securityContext": restricted_pod_security_context(CHECK_UID),
            "containers": [
                {
                    # kubectl run attaches to the container named after the pod.
                    "name": "secrets-check",
                    "image": BUSYBOX_IMAGE,
                    "command": ["ls", "-l", SECRETS_MOUNT_PATH],
                    "resources": resources("10m", "16Mi", cpu_limit="50m", memory_limit="32Mi"),
                    "securityContext": restricted_container_security_context(),
                    "volumeMounts": [
                        {"name": "secrets", "mountPath": SECRETS_MOUNT_PATH, "readOnly": True}
                    ],
                }
            ],
            "volumes": [csi_secrets_volume("secrets", class_name)],
        },
    }


def check_command(namespace: str, service_account: str, class_name: str) -> str:
    """Runs `check_pod_manifest` and prints the mounted file names."""
    overrides = json.dumps(check_pod_manifest(namespace, service_account, class_name))
    return (
        f"kubectl -n {namespace} run secrets-check --rm -i --restart=Never "
        f"--image={BUSYBOX_IMAGE} --overrides='{overrides}'"
    )


def app_args(platform: Platform, app: AppSettings) -> AppArgs:
    """An `apps` entry as App inputs; the nginx demo keeps its class and synced Secret
    names, and a former demo slot (`formerly`) keeps every resource where it stood."""
    demo = app.workload == AppWorkload.NGINX_DEMO
    prefix = NGINX_DEMO if demo else app.name
    files = [f for n in app.secret_names for f in platform.config.secret(n).file_names]
    synced = [SyncedSecret(f"{prefix}-synced", [(f, f) for f in files])] if app.sync_secret else []
    previously = Previously()
    if app.formerly:
        previously = Previously(
            baseline=[root_alias(app.formerly)],
            namespace=[root_alias(f"{app.formerly}-namespace")],
            access=[root_alias(f"{app.formerly}-secrets")],
            workload=[root_alias(app.formerly)],
        )
    return AppArgs(
        platform=platform,
        namespace=app.namespace,
        secret_names=app.secret_names,
        service_account=app.service_account,
        identity=app.identity,
        class_name=f"{NGINX_DEMO}-aws" if demo else app.name,
        synced_secrets=synced,
        ingress=app.ingress,
        egress=app.egress,
        quota=app.quota,
        previously=previously,
    )


def deploy_app(platform: Platform, settings: AppSettings) -> dict[str, Any]:
    """One `apps` entry; returns its stack outputs."""
    args = app_args(platform, settings)
    app = App(settings.name, args, opts=platform.opts())
    assert app.access is not None
    files = app.access.file_names
    outputs: dict[str, Any] = {
        "namespace": settings.namespace,
        "serviceAccount": settings.service_account,
        "secretProviderClass": app.class_name,
        "identity": settings.identity.value,
        "roleArn": app.role_arn,
        "files": files,
        "verifyCommand": check_command(
            settings.namespace, settings.service_account, app.class_name
        ),
    }
    if settings.workload == AppWorkload.NGINX_DEMO:
        synced = args.synced_secrets[0] if args.synced_secrets else None
        NginxSecretsDemo(
            f"{settings.name}-workload",
            NginxSecretsDemoArgs(
                namespace=settings.namespace,
                service_account=settings.service_account,
                secret_provider_class=app.class_name,
                synced_secret=synced.secret_name if synced else "",
                synced_keys=[key for key, _ in synced.data] if synced else (),
                wait_for=app.ready,
            ),
            opts=platform.opts(app, args.previously.workload),
        )
        outputs["verifyCommand"] = (
            f"kubectl -n {settings.namespace} exec deploy/{NGINX_DEMO} -c nginx -- "
            f"cat {SECRETS_MOUNT_PATH}/{files[0]}"
        )
    return outputs
