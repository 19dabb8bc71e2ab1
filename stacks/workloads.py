"""Config and composition of the example workloads (multi-container pod patterns).

Each example is switched on by its own `enable...Example` key and lands in its own
namespace, built by NamespaceBaseline with exactly the network paths that example needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

from components.namespace_baseline import NamespaceBaseline, NamespaceBaselineArgs
from components.prometheus import SCRAPE_SELECTOR, Prometheus, PrometheusArgs
from components.workloads import adapter, ambassador, init_container, sidecar
from components.workloads.adapter import AdapterExample, AdapterExampleArgs
from components.workloads.ambassador import AmbassadorExample, AmbassadorExampleArgs, Backend
from components.workloads.common import WorkloadIdentity
from components.workloads.init_container import InitContainerExample, InitContainerExampleArgs
from components.workloads.redis_secret_sidecar import RedisSecretSidecar, RedisSecretSidecarArgs
from components.workloads.sidecar import SidecarExample, SidecarExampleArgs
from stacks.reader import DNS1123_SUBDOMAIN, ConfigReader, check_dns1123_label

if TYPE_CHECKING:
    from stacks.config import SecretSpec
    from stacks.platform import Platform

RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class SidecarConfig:
    enabled: bool = False
    namespace: str = "sidecar-example"
    tls_hostname: str = "sidecar.example.internal"
    service_type: str = "ClusterIP"
    """ClusterIP, or LoadBalancer (an NLB; needs the AWS Load Balancer Controller)."""
    load_balancer_scheme: str = "internal"


@dataclass(frozen=True)
class AmbassadorConfig:
    enabled: bool = False
    namespace: str = "ambassador-example"
    server1_weight: int = 3
    server2_weight: int = 1


@dataclass(frozen=True)
class AdapterConfig:
    enabled: bool = False
    namespace: str = "adapter-example"
    monitoring_namespace: str = "monitoring"


@dataclass(frozen=True)
class InitContainerConfig:
    enabled: bool = False
    namespace: str = "init-container-example"
    source: str = "configmap"
    """`configmap` (no network needed) or `git` (clones git_repo)."""
    git_repo: str = ""
    git_ref: str = ""


@dataclass(frozen=True)
class RedisSecretConfig:
    enabled: bool = False
    namespace: str = "redis-secret-example"
    secret_name: str = "redis-password"
    """A plain-string secret from the `secrets` list."""


@dataclass(frozen=True)
class WorkloadsConfig:
    """Which example workloads a stack deploys, and their settings."""

    sidecar: SidecarConfig = field(default_factory=SidecarConfig)
    ambassador: AmbassadorConfig = field(default_factory=AmbassadorConfig)
    adapter: AdapterConfig = field(default_factory=AdapterConfig)
    init_container: InitContainerConfig = field(default_factory=InitContainerConfig)
    redis_secret: RedisSecretConfig = field(default_factory=RedisSecretConfig)


def _namespace(r: ConfigReader, key: str, default: str) -> str:
    value = r.string(key, default)
    if problem := check_dns1123_label(value):
        r.fail(key, value, problem)
        return default
    if value in RESERVED_NAMESPACES:
        r.fail(
            key,
            value,
            f"must be a namespace of its own, not one of {', '.join(RESERVED_NAMESPACES)}",
        )
        return default
    return value


def _parse_sidecar(r: ConfigReader) -> SidecarConfig:
    hostname = r.string("sidecarTlsHostname", SidecarConfig.tls_hostname)
    if len(hostname) > 64 or not DNS1123_SUBDOMAIN.fullmatch(hostname):
        r.fail(
            "sidecarTlsHostname",
            hostname,
            "must be a lowercase DNS name of at most 64 characters, e.g. web.example.com",
        )
        hostname = SidecarConfig.tls_hostname
    return SidecarConfig(
        enabled=r.boolean("enableSidecarExample", False),
        namespace=_namespace(r, "sidecarNamespace", SidecarConfig.namespace),
        tls_hostname=hostname,
        service_type=r.string("sidecarServiceType", "ClusterIP", choices=sidecar.SERVICE_TYPES),
        load_balancer_scheme=r.string(
            "sidecarLoadBalancerScheme", "internal", choices=sidecar.NLB_SCHEMES
        ),
    )


def _parse_ambassador(r: ConfigReader) -> AmbassadorConfig:
    return AmbassadorConfig(
        enabled=r.boolean("enableAmbassadorExample", False),
        namespace=_namespace(r, "ambassadorNamespace", AmbassadorConfig.namespace),
        server1_weight=r.integer("ambassadorServer1Weight", 3, minimum=1, maximum=100),
        server2_weight=r.integer("ambassadorServer2Weight", 1, minimum=1, maximum=100),
    )


def _parse_adapter(r: ConfigReader) -> AdapterConfig:
    return AdapterConfig(
        enabled=r.boolean("enableAdapterExample", False),
        namespace=_namespace(r, "adapterNamespace", AdapterConfig.namespace),
        monitoring_namespace=_namespace(r, "monitoringNamespace", "monitoring"),
    )


def _parse_init_container(r: ConfigReader) -> InitContainerConfig:
    source = r.string("initContainerSource", "configmap", choices=init_container.SOURCES)
    repo = r.string("initContainerGitRepo", "")
    ref = r.string(
        "initContainerGitRef",
        "",
        pattern=init_container.GIT_REF,
        allowed="must be a branch or tag name (letters, digits, . _ / -)",
    )
    if repo and (problem := init_container.check_repo_url(repo)):
        r.fail("initContainerGitRepo", repo, problem)
        repo = ""
    elif source == "git" and not repo:
        r.fail("initContainerGitRepo", repo, "must be set when initContainerSource is git")
    return InitContainerConfig(
        enabled=r.boolean("enableInitContainerExample", False),
        namespace=_namespace(r, "initContainerNamespace", InitContainerConfig.namespace),
        source=source,
        git_repo=repo,
        git_ref=ref,
    )


def _parse_redis_secret(r: ConfigReader, secrets: Sequence[SecretSpec]) -> RedisSecretConfig:
    cfg = RedisSecretConfig(
        enabled=r.boolean("enableRedisSecretExample", False),
        namespace=_namespace(r, "redisSecretNamespace", RedisSecretConfig.namespace),
        secret_name=r.string("redisSecretName", "redis-password"),
    )
    if cfg.enabled:
        declared = {s.name: s for s in secrets}
        spec = declared.get(cfg.secret_name)
        if spec is None:
            r.fail(
                "redisSecretName",
                cfg.secret_name,
                "must name a secret in the secrets list "
                f"({', '.join(sorted(declared)) or 'empty'}); add one there, with its value "
                "in secretValues",
            )
        elif spec.jmes_path:
            r.fail(
                "redisSecretName",
                cfg.secret_name,
                "must name a plain-string secret: remove its jmesPath, the whole value is "
                "the password",
            )
    return cfg


def _check_namespaces_distinct(
    r: ConfigReader, cfg: WorkloadsConfig, taken: Mapping[str, str]
) -> None:
    """Two examples in one namespace would fight over its quota and policies."""
    used = dict(taken)
    candidates = [
        (cfg.sidecar.enabled, "sidecarNamespace", cfg.sidecar.namespace),
        (cfg.ambassador.enabled, "ambassadorNamespace", cfg.ambassador.namespace),
        (cfg.adapter.enabled, "adapterNamespace", cfg.adapter.namespace),
        (cfg.adapter.enabled, "monitoringNamespace", cfg.adapter.monitoring_namespace),
        (cfg.init_container.enabled, "initContainerNamespace", cfg.init_container.namespace),
        (cfg.redis_secret.enabled, "redisSecretNamespace", cfg.redis_secret.namespace),
    ]
    for enabled, key, namespace in candidates:
        if not enabled:
            continue
        if namespace in used:
            r.fail(key, namespace, f"is already used by {used[namespace]}; pick another namespace")
        else:
            used[namespace] = key


def parse_workloads(
    r: ConfigReader, secrets: Sequence[SecretSpec], taken: Mapping[str, str]
) -> WorkloadsConfig:
    """`secrets` is the parsed `secrets` list; `taken` maps the namespaces of the enabled
    demos to the key that set them."""
    cfg = WorkloadsConfig(
        sidecar=_parse_sidecar(r),
        ambassador=_parse_ambassador(r),
        adapter=_parse_adapter(r),
        init_container=_parse_init_container(r),
        redis_secret=_parse_redis_secret(r, secrets),
    )
    _check_namespaces_distinct(r, cfg, taken)
    return cfg


TLS_SECRET_SUFFIX = "-sidecar-example-tls"


def build_workloads(platform: Platform, cfg: WorkloadsConfig) -> dict[str, Any]:
    """Builds the enabled examples, each in its own hardened namespace; returns their stack
    outputs: the namespaces and the command that shows each one working."""
    stack = platform.config
    opts = platform.k8s_opts
    identity = WorkloadIdentity(
        oidc_provider_arn=platform.cluster.oidc_provider_arn,
        oidc_issuer=platform.cluster.oidc_issuer,
        region=stack.region,
        tags=stack.tags,
        failover_region=stack.failover_region,
    )
    csi: list[pulumi.Resource] = list(platform.csi.releases)
    namespaces: dict[str, str] = {}
    commands: dict[str, str] = {}

    if cfg.sidecar.enabled:
        c = cfg.sidecar
        base = NamespaceBaseline(
            "sidecar-ns",
            NamespaceBaselineArgs(name=c.namespace, ingress=sidecar.network_rules()),
            opts=opts,
        )
        example = SidecarExample(
            "sidecar",
            SidecarExampleArgs(
                namespace=c.namespace,
                hostname=c.tls_hostname,
                secret_name=f"{stack.cluster.name}{TLS_SECRET_SUFFIX}",
                identity=identity,
                service_type=c.service_type,
                load_balancer_scheme=c.load_balancer_scheme,
                wait_for=(*base.ready, *csi),
            ),
            opts=opts,
        )
        namespaces["sidecar"] = c.namespace
        commands["sidecar"] = example.verify_command

    if cfg.ambassador.enabled:
        c = cfg.ambassador
        backends = (Backend("server1", c.server1_weight), Backend("server2", c.server2_weight))
        ingress, egress = ambassador.network_rules(backends)
        base = NamespaceBaseline(
            "ambassador-ns",
            NamespaceBaselineArgs(name=c.namespace, ingress=ingress, egress=egress),
            opts=opts,
        )
        example = AmbassadorExample(
            "ambassador",
            AmbassadorExampleArgs(namespace=c.namespace, backends=backends, wait_for=base.ready),
            opts=opts,
        )
        namespaces["ambassador"] = c.namespace
        commands["ambassador"] = example.verify_command

    if cfg.adapter.enabled:
        c = cfg.adapter
        prometheus = Prometheus(
            "prometheus",
            PrometheusArgs(namespace=c.monitoring_namespace, wait_for=(platform.nodegroup,)),
            opts=opts,
        )
        base = NamespaceBaseline(
            "adapter-ns",
            NamespaceBaselineArgs(
                name=c.namespace,
                labels=SCRAPE_SELECTOR,
                ingress=adapter.network_rules(prometheus.namespace, prometheus.pod_labels),
            ),
            opts=opts,
        )
        example = AdapterExample(
            "adapter",
            AdapterExampleArgs(
                namespace=c.namespace,
                service_monitor_labels=SCRAPE_SELECTOR,
                crd_ready=[prometheus.release],
                wait_for=base.ready,
            ),
            opts=opts,
        )
        namespaces["adapter"] = c.namespace
        namespaces["monitoring"] = c.monitoring_namespace
        commands["adapter"] = example.verify_command
        commands["prometheus"] = prometheus.verify_command

    if cfg.init_container.enabled:
        c = cfg.init_container
        base = NamespaceBaseline(
            "init-container-ns",
            NamespaceBaselineArgs(name=c.namespace, egress=init_container.network_rules(c.source)),
            opts=opts,
        )
        example = InitContainerExample(
            "init-container",
            InitContainerExampleArgs(
                namespace=c.namespace,
                source=c.source,
                git_repo=c.git_repo,
                git_ref=c.git_ref,
                wait_for=base.ready,
            ),
            opts=opts,
        )
        namespaces["initContainer"] = c.namespace
        commands["initContainer"] = example.verify_command

    if cfg.redis_secret.enabled:
        c = cfg.redis_secret
        base = NamespaceBaseline(
            "redis-secret-ns", NamespaceBaselineArgs(name=c.namespace), opts=opts
        )
        example = RedisSecretSidecar(
            "redis-secret",
            RedisSecretSidecarArgs(
                namespace=c.namespace,
                secret=platform.secret_object(c.secret_name),
                secret_arn=platform.secrets[c.secret_name].arn,
                kms_key_arns=platform.read_arns([c.secret_name])[2],
                identity=identity,
                wait_for=(*base.ready, *csi),
            ),
            opts=opts,
        )
        namespaces["redisSecret"] = c.namespace
        commands["redisSecret"] = example.verify_command

    if not namespaces:
        return {}
    return {"exampleNamespaces": namespaces, "exampleVerifyCommands": commands}
