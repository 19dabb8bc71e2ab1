"""Sidecar pattern (seed 004): httpd on localhost behind an nginx TLS sidecar. The
certificate comes from pulumi-tls, is stored like every stack secret and reaches nginx only
through the CSI driver, under the example's own identity."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from eksplatform.modes import LoadBalancerScheme, ServiceType
from eksplatform.workloads import sidecar

from stacks.app import App, AppArgs, OwnedSecret, Previously
from stacks.config import rules
from stacks.config.model import JmesPathEntry, SecretRead, SecretSpec, secret_spec
from stacks.config.reader import ConfigReader
from stacks.examples import Deployed
from stacks.platform import Platform, root_alias, root_urn

NAME = "sidecar"
TLS_SECRET_NAME = "sidecar-example-tls"
"""The certificate secret is named `<secretNamePrefix>sidecar-example-tls` unless
sidecarTlsSecretName names it (stacks made before the fence keep `<cluster>-sidecar-example-tls`
that way)."""
FORMER_PARENT = ("eksplatform:workloads:SidecarExample", NAME)
"""The component that held the certificate and the identity before this unit did."""


@dataclass(frozen=True)
class Settings:
    enabled: bool
    namespace: str
    tls_hostname: str
    service_type: ServiceType
    load_balancer_scheme: LoadBalancerScheme
    tls_secret_name: str
    """Empty means `<secretNamePrefix>sidecar-example-tls`."""

    def secret_name(self, prefix: str) -> str:
        return self.tls_secret_name or f"{prefix}{TLS_SECRET_NAME}"

    def created_secrets(self, prefix: str) -> list[tuple[str, str]]:
        return [(self.secret_name(prefix), "sidecarTlsSecretName")] if self.enabled else []

    def namespaces(self) -> list[tuple[str, str]]:
        return [(self.namespace, "sidecarNamespace")]

    def reads(self) -> list[SecretRead]:
        return []


def parse(r: ConfigReader, secrets: tuple[SecretSpec, ...]) -> Settings:
    return Settings(
        enabled=r.boolean("enableSidecarExample"),
        namespace=r.string("sidecarNamespace", check=rules.namespace),
        tls_hostname=r.string("sidecarTlsHostname", check=lambda v: rules.hostname(v, 64)),
        service_type=r.choice("sidecarServiceType", ServiceType),
        load_balancer_scheme=r.choice("sidecarLoadBalancerScheme", LoadBalancerScheme),
        tls_secret_name=r.string("sidecarTlsSecretName", check=_secret_name),
    )


def _secret_name(name: str) -> str | None:
    if rules.SECRET_NAME.fullmatch(name):
        return None
    return "must be 1-512 letters, digits or /_+=.@- (a Secrets Manager secret name)"


def deploy(platform: Platform, settings: Settings) -> Deployed:
    stack = platform.config
    moved = [pulumi.Alias(parent=root_urn(*FORMER_PARENT))]
    certificate = OwnedSecret(
        f"{NAME}-tls-secret",
        secret_spec(
            settings.secret_name(stack.secret_fence.prefix),
            description=(
                f"TLS certificate and key of the sidecar example ({settings.tls_hostname})"
            ),
            replica_regions=(stack.failover_region,) if stack.failover_region else (),
            jmes_path=tuple(JmesPathEntry(p, f) for p, f in sidecar.TLS_JMES_PATH),
        ),
        value=lambda app: sidecar.certificate_and_key(
            NAME, settings.tls_hostname, settings.namespace, platform.opts(app, moved)
        ),
        # Regenerated from state at will; a recovery window would only block a destroy
        # followed by an up with the same name.
        recovery_window_days=0,
        aliases=moved,
    )
    app = App(
        NAME,
        AppArgs(
            platform=platform,
            namespace=settings.namespace,
            owned_secrets=[certificate],
            service_account=sidecar.SERVICE_ACCOUNT,
            class_name=sidecar.SECRET_PROVIDER_CLASS,
            ingress=sidecar.network_rules(),
            previously=Previously(baseline=[root_alias()], access=moved),
        ),
        opts=platform.opts(),
    )
    workload = sidecar.SidecarExample(
        f"{NAME}-workload",
        sidecar.SidecarExampleArgs(
            namespace=settings.namespace,
            hostname=settings.tls_hostname,
            service_account=sidecar.SERVICE_ACCOUNT,
            secret_provider_class=sidecar.SECRET_PROVIDER_CLASS,
            service_type=settings.service_type,
            load_balancer_scheme=settings.load_balancer_scheme,
            wait_for=app.ready,
        ),
        opts=platform.opts(app, [root_alias(NAME)]),
    )
    return Deployed({"sidecar": settings.namespace}, {"sidecar": workload.verify_command})
