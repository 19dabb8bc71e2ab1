"""Init-container pattern: an init container fills nginx's content (from a ConfigMap, or a
shallow git clone) before the web server starts."""

from __future__ import annotations

from dataclasses import dataclass

from eksplatform.modes import InitContainerSource
from eksplatform.workloads import init_container

from stacks.app import App, AppArgs, Previously
from stacks.config import rules
from stacks.config.model import SecretRead, SecretSpec
from stacks.config.reader import ConfigReader
from stacks.examples import Deployed
from stacks.platform import Platform, root_alias

NAME = "init-container"


@dataclass(frozen=True)
class Settings:
    enabled: bool
    namespace: str
    source: InitContainerSource
    git_repo: str
    git_ref: str

    def namespaces(self) -> list[tuple[str, str]]:
        return [(self.namespace, "initContainerNamespace")]

    def reads(self) -> list[SecretRead]:
        return []

    def created_secrets(self, prefix: str) -> list[tuple[str, str]]:
        return []


def parse(r: ConfigReader, secrets: tuple[SecretSpec, ...]) -> Settings:
    source = r.choice("initContainerSource", InitContainerSource)
    repo = r.string("initContainerGitRepo", check=init_container.check_repo_url)
    if (
        source == InitContainerSource.GIT
        and not repo
        and not r.problems_for("initContainerGitRepo")
    ):
        r.fail("initContainerGitRepo", repo, "must be set when initContainerSource is git")
    return Settings(
        enabled=r.boolean("enableInitContainerExample"),
        namespace=r.string("initContainerNamespace", check=rules.namespace),
        source=source,
        git_repo=repo,
        git_ref=r.string(
            "initContainerGitRef",
            check=rules.matches(
                init_container.GIT_REF, "must be a branch or tag name (letters, digits, . _ / -)"
            ),
        ),
    )


def deploy(platform: Platform, settings: Settings) -> Deployed:
    app = App(
        NAME,
        AppArgs(
            platform=platform,
            namespace=settings.namespace,
            egress=init_container.network_rules(settings.source),
            previously=Previously(baseline=[root_alias()]),
        ),
        opts=platform.opts(),
    )
    workload = init_container.InitContainerExample(
        f"{NAME}-workload",
        init_container.InitContainerExampleArgs(
            namespace=settings.namespace,
            source=settings.source,
            git_repo=settings.git_repo,
            git_ref=settings.git_ref,
            wait_for=app.ready,
        ),
        opts=platform.opts(app, [root_alias(NAME)]),
    )
    return Deployed(
        {"initContainer": settings.namespace}, {"initContainer": workload.verify_command}
    )
