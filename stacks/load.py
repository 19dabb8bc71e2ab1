"""Loads a stack's config: every rule of every key, all problems in one error, before any
resource exists. The only caller of the config layer's parsers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from eksplatform.modes import IdentityMode
from eksplatform.pod_identity import check_pod_identity_version

from stacks.addons import modules as addon_modules
from stacks.config import schema
from stacks.config.apps import parse_apps
from stacks.config.infrastructure import (
    parse_infrastructure,
    parse_owner,
    parse_protection,
    parse_region,
)
from stacks.config.model import (
    AppSettings,
    ExampleSettings,
    StackBase,
    StackConfig,
    stack_tags,
)
from stacks.config.reader import ConfigError, ConfigReader, RawGetter
from stacks.config.secrets import (
    check_rotation,
    check_secret_fence,
    check_secret_values,
    parse_failover_region,
    parse_secret_fence,
    parse_secrets,
    parse_secrets_kms_key,
)
from stacks.examples import modules


def _check_namespaces(
    r: ConfigReader, apps: tuple[AppSettings, ...], examples: dict[str, ExampleSettings]
) -> None:
    """Every app and enabled example owns its namespaces alone: two would fight over one
    quota, one set of policies and one Pod Security level. Examples claim first: one of
    theirs may hold an add-on (the adapter's Prometheus) that an app must not share."""
    claims: list[tuple[str, str]] = []
    for settings in examples.values():
        if settings.enabled:
            claims.extend(settings.namespaces())
    claims.extend((a.namespace, f"{a.where}.namespace") for a in apps)
    owner: dict[str, str] = {}
    for namespace, key in claims:
        if namespace in owner:
            r.fail(key, namespace, f"is already used by {owner[namespace]}; pick another namespace")
        else:
            owner[namespace] = key


def _check_unit_names(r: ConfigReader, apps: tuple[AppSettings, ...]) -> None:
    """Each example is a unit named like an app would be: the two would share one URN."""
    taken = {module.NAME: name for name, module in modules().items()}
    for app in apps:
        if app.name in taken:
            r.fail(
                f"{app.where}.name",
                app.name,
                f"is the name of the {taken[app.name]} example's unit; pick another",
            )


def _check_reads(r: ConfigReader, config: StackConfig) -> None:
    """What each workload reads must be mountable together, reachable by its identity, and
    (with failover) replicated to the failover region."""
    region, failover_region = config.region, config.failover_region
    by_name = {s.name: s for s in config.secrets}
    if config.uses_pod_identity:
        if problem := check_pod_identity_version(config.kubernetes_version):
            r.fail("kubernetesVersion", config.kubernetes_version, problem)
        if region.startswith("cn-"):
            r.problems.append(
                f"aws:region = {region!r}: EKS Pod Identity is not available in the China "
                "regions; use identity irsa"
            )
    for w in config.reads:
        specs = [by_name[n] for n in w.secret_names if n in by_name]
        files = [f for s in specs for f in s.file_names]
        collisions = sorted({f for f in files if files.count(f) > 1})
        if collisions:
            r.fail(
                w.key,
                list(w.secret_names),
                f"mounted file names collide: {collisions}; give the secrets distinct "
                "objectAlias or jmesPath objectAlias values",
            )
        for spec in specs:
            if w.identity == IdentityMode.POD_IDENTITY_ABAC and (
                spec.is_parameter or not spec.is_owned or spec.namespace != w.namespace
            ):
                r.fail(
                    w.key,
                    spec.name,
                    "pod-identity-abac reads only Secrets Manager secrets this stack creates "
                    f"or imports, tagged with the workload's namespace: set "
                    f"namespace: {w.namespace} on secret {spec.name!r}",
                )
            if failover_region and failover_region not in spec.replica_regions:
                r.fail(
                    "failoverRegion",
                    failover_region,
                    f"secret {spec.name!r} (read by {w.key}) is not replicated there; add "
                    f"{failover_region} to its replicaRegions",
                )


def load(
    get_raw: RawGetter,
    *,
    stack: str,
    keys: Iterable[str] = (),
    today: date | None = None,
) -> StackConfig:
    """Parses and validates the whole stack config; raises ConfigError listing every problem.
    `keys` are every config key the stack sets: undeclared ones are refused."""
    r = ConfigReader(get_raw, stack=stack)
    r.problems.extend(schema.undeclared(keys))
    region = parse_region(r, get_raw("aws:region"))
    protection = parse_protection(r, stack)
    owner = parse_owner(r)
    tags = stack_tags(schema.PROJECT, stack, owner)
    infrastructure = parse_infrastructure(
        r, stack=stack, today=today or date.today(), region=region, protection=protection, tags=tags
    )
    base = StackBase(stack, region, infrastructure.cluster, tags)
    secrets = parse_secrets(r, region)
    check_secret_values(r, secrets)
    addons: dict[str, Any] = {
        name: module.parse(r, base) for name, module in addon_modules().items()
    }
    secrets_store = addons["secrets_store"]
    check_rotation(r, secrets, secrets_store)
    apps = parse_apps(r, secrets, secrets_store.enable_sync_secret)
    examples: dict[str, ExampleSettings] = {
        name: module.parse(r, secrets) for name, module in modules().items()
    }
    secret_fence = parse_secret_fence(r, base.cluster_name)
    check_secret_fence(
        r,
        secret_fence,
        secrets,
        [s for e in examples.values() for s in e.created_secrets(secret_fence.prefix)],
    )
    secrets_kms_key = parse_secrets_kms_key(r, region, secrets)
    failover_region = parse_failover_region(r, region)
    _check_namespaces(r, apps, examples)
    _check_unit_names(r, apps)
    config = StackConfig(
        project=schema.PROJECT,
        stack=stack,
        region=region,
        cluster=infrastructure.cluster,
        network=infrastructure.network,
        nodegroup=infrastructure.nodegroup,
        ci=infrastructure.ci,
        secrets=secrets,
        secret_fence=secret_fence,
        addons=addons,
        apps=apps,
        examples=examples,
        owner=owner,
        secrets_kms_key=secrets_kms_key,
        failover_region=failover_region,
        protection=protection,
    )
    _check_reads(r, config)
    if r.problems:
        raise ConfigError(r.problems)
    return config
