"""Ambassador pattern: the main container talks to localhost, and an nginx ambassador in
the same pod splits its requests between two backends by weight (3:1 by default)."""

from __future__ import annotations

from dataclasses import dataclass

from eksplatform.workloads import ambassador

from stacks.app import App, AppArgs, Previously
from stacks.config import rules
from stacks.config.model import SecretRead, SecretSpec
from stacks.config.reader import ConfigReader
from stacks.examples import Deployed
from stacks.platform import Platform, root_alias

NAME = "ambassador"


@dataclass(frozen=True)
class Settings:
    enabled: bool
    namespace: str
    server1_weight: int
    server2_weight: int

    def namespaces(self) -> list[tuple[str, str]]:
        return [(self.namespace, "ambassadorNamespace")]

    def reads(self) -> list[SecretRead]:
        return []

    def created_secrets(self, prefix: str) -> list[tuple[str, str]]:
        return []


def parse(r: ConfigReader, secrets: tuple[SecretSpec, ...]) -> Settings:
    return Settings(
        enabled=r.boolean("enableAmbassadorExample"),
        namespace=r.string("ambassadorNamespace", check=rules.namespace),
        server1_weight=r.integer("ambassadorServer1Weight", minimum=1, maximum=100),
        server2_weight=r.integer("ambassadorServer2Weight", minimum=1, maximum=100),
    )


def deploy(platform: Platform, settings: Settings) -> Deployed:
    backends = (
        ambassador.Backend("server1", settings.server1_weight),
        ambassador.Backend("server2", settings.server2_weight),
    )
    ingress, egress = ambassador.network_rules(backends)
    app = App(
        NAME,
        AppArgs(
            platform=platform,
            namespace=settings.namespace,
            ingress=ingress,
            egress=egress,
            previously=Previously(baseline=[root_alias()]),
        ),
        opts=platform.opts(),
    )
    workload = ambassador.AmbassadorExample(
        f"{NAME}-workload",
        ambassador.AmbassadorExampleArgs(
            namespace=settings.namespace, backends=backends, wait_for=app.ready
        ),
        opts=platform.opts(app, [root_alias(NAME)]),
    )
    return Deployed({"ambassador": settings.namespace}, {"ambassador": workload.verify_command})
