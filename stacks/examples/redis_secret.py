"""Redis sidecar with a secret (seed 002): an app and its redis sidecar share a password
from the `secrets` list, mounted as a file under the pod's own identity."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from eksplatform.modes import IdentityMode
from eksplatform.workloads import redis_secret_sidecar as redis

from stacks.app import App, AppArgs, Previously
from stacks.config import rules
from stacks.config.model import SecretRead, SecretSpec
from stacks.config.reader import ConfigReader
from stacks.examples import Deployed
from stacks.platform import Platform, root_alias, root_urn

NAME = "redis-secret"
FORMER_PARENT = ("eksplatform:workloads:RedisSecretSidecar", NAME)
"""The component that held the identity before this unit did."""


@dataclass(frozen=True)
class Settings:
    enabled: bool
    namespace: str
    secret_name: str
    """A plain-string secret from the `secrets` list: the whole value is the password."""

    def namespaces(self) -> list[tuple[str, str]]:
        return [(self.namespace, "redisSecretNamespace")]

    def reads(self) -> list[SecretRead]:
        return [
            SecretRead(
                "redisSecretName",
                self.namespace,
                redis.SERVICE_ACCOUNT,
                IdentityMode.IRSA,
                (self.secret_name,),
            )
        ]

    def created_secrets(self, prefix: str) -> list[tuple[str, str]]:
        return []


def parse(r: ConfigReader, secrets: tuple[SecretSpec, ...]) -> Settings:
    settings = Settings(
        enabled=r.boolean("enableRedisSecretExample"),
        namespace=r.string("redisSecretNamespace", check=rules.namespace),
        secret_name=r.string("redisSecretName"),
    )
    declared = {s.name: s for s in secrets}
    spec = declared.get(settings.secret_name)
    if not settings.enabled:
        return settings
    if spec is None:
        r.fail(
            "redisSecretName",
            settings.secret_name,
            "must name a secret in the secrets list "
            f"({', '.join(sorted(declared)) or 'empty'}); add one there, with its value "
            "in secretValues",
        )
    elif spec.jmes_path:
        r.fail(
            "redisSecretName",
            settings.secret_name,
            "must name a plain-string secret: remove its jmesPath, the whole value is the password",
        )
    return settings


def deploy(platform: Platform, settings: Settings) -> Deployed:
    app = App(
        NAME,
        AppArgs(
            platform=platform,
            namespace=settings.namespace,
            secret_names=(settings.secret_name,),
            service_account=redis.SERVICE_ACCOUNT,
            class_name=redis.SECRET_PROVIDER_CLASS,
            previously=Previously(
                baseline=[root_alias()],
                access=[pulumi.Alias(parent=root_urn(*FORMER_PARENT))],
            ),
        ),
        opts=platform.opts(),
    )
    workload = redis.RedisSecretSidecar(
        f"{NAME}-workload",
        redis.RedisSecretSidecarArgs(
            namespace=settings.namespace,
            service_account=redis.SERVICE_ACCOUNT,
            secret_provider_class=redis.SECRET_PROVIDER_CLASS,
            password_file=platform.config.secret(settings.secret_name).file_names[0],
            wait_for=app.ready,
        ),
        opts=platform.opts(app, [root_alias(NAME)]),
    )
    return Deployed({"redisSecret": settings.namespace}, {"redisSecret": workload.verify_command})
