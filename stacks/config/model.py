"""The stack's config, built once by `stacks.load`: parsed straight into the components'
Args where a component consumes it (cluster, network, nodegroup, each add-on), and into the
few frozen dataclasses below for what is the stack's own (its secrets, apps, fence, CI runner).

These dataclasses declare no defaults: every value comes from the stack's config, whose
defaults live in Pulumi.yaml (a test keeps each component default fed by config equal to
Pulumi.yaml's). Components never read `pulumi.Config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from eksplatform.cluster import ClusterArgs
from eksplatform.existing_cluster import ExistingClusterArgs
from eksplatform.modes import AppWorkload, IdentityMode, SecretType
from eksplatform.namespace_baseline import EgressAllow, IngressAllow, Quota
from eksplatform.network import NetworkArgs
from eksplatform.nodegroup import NodeGroupArgs
from eksplatform.secrets_store import SecretsStoreCsiArgs

from stacks.protection import Protection


def secret_access_name(unit: str) -> str:
    """Resource name of the secret access (policy, identity, class) of the unit `unit`; the
    IAM names AWS sees grow from it, so the config layer checks their length."""
    return f"{unit}-secrets"


def stack_tags(project: str, stack: str, owner: str) -> dict[str, str]:
    """Tags on every AWS resource, so leftovers can be found after a destroy."""
    return {"project": project, "stack": stack, "owner": owner}


ClusterConfig = ClusterArgs | ExistingClusterArgs
"""The cluster as config states it: the Args of the cluster the stack creates, or of the one
it looks up (existingClusterName)."""


class ClusterView:
    """The cluster's name, version and kind, read from its Args."""

    cluster: ClusterConfig

    @property
    def cluster_name(self) -> str:
        return plain(self.cluster.cluster_name)

    @property
    def kubernetes_version(self) -> str:
        return self.cluster.kubernetes_version

    @property
    def existing_cluster(self) -> bool:
        """The cluster is not this stack's: no network, cluster, nodegroup or CoreDNS."""
        return isinstance(self.cluster, ExistingClusterArgs)


@dataclass(frozen=True)
class StackBase(ClusterView):
    """What is parsed before the add-ons, which read it (`parse(r, base)`)."""

    stack: str
    region: str
    cluster: ClusterConfig
    tags: Mapping[str, str]

    @property
    def eks_addon_fields(self) -> dict[str, Any]:
        """What every EKS add-on's Args take from the cluster: its name (the program wires in
        the cluster's output), its version (which picks the pinned build) and the tags."""
        return {
            "cluster_name": self.cluster_name,
            "kubernetes_version": self.kubernetes_version,
            "tags": self.tags,
        }


def plain(value: object) -> str:
    """A config-fed Args field: config gives plain strings (Outputs come from resources)."""
    assert isinstance(value, str), value
    return value


@dataclass(frozen=True)
class CiRunner:
    """How CI reaches a stack it deploys: read by the CI tooling and its tests, and merged into
    the cluster's Args (endpoint CIDRs, access entry) by the config layer."""

    label: str
    """The `runs-on` label of the runner in the workflows (tests compare the two)."""
    cidrs: tuple[str, ...]
    """Static egress ranges of that runner; added to the endpoint's public access CIDRs so
    `pulumi up` reaches the Kubernetes API."""
    deploy_role_arn: str
    """The role CI's deploy jobs assume; empty when CI does not deploy the stack."""


@dataclass(frozen=True)
class JmesPathEntry:
    path: str
    object_alias: str


@dataclass(frozen=True)
class SecretSpec:
    """One Secrets Manager secret or SSM parameter the stack creates, imports or references."""

    name: str
    type: SecretType
    description: str
    existing_arn: str
    """When set, the secret is referenced, never created, changed or deleted (unless
    `import_existing`)."""
    import_existing: bool
    """Adopt `existing_arn` into the stack (Pulumi import, retained on destroy)."""
    object_alias: str
    """The mounted file name; empty uses the name (`/` becomes `_`)."""
    jmes_path: tuple[JmesPathEntry, ...]
    namespace: str
    """The Kubernetes namespace that owns it: tagged `kubernetes-namespace` (ABAC)."""
    replica_regions: tuple[str, ...]
    rotation_lambda_arn: str
    rotation_days: int
    rotation_schedule: str

    @property
    def is_created(self) -> bool:
        """Created by this stack, so it needs a value in secretValues."""
        return not self.existing_arn

    @property
    def is_owned(self) -> bool:
        """Created or imported: this stack may tag, encrypt, replicate and rotate it."""
        return not self.existing_arn or self.import_existing

    @property
    def is_parameter(self) -> bool:
        return self.type == SecretType.SSM_PARAMETER

    @property
    def rotates(self) -> bool:
        return bool(self.rotation_lambda_arn)

    @property
    def mount_alias(self) -> str:
        """The objectAlias in the SecretProviderClass; a referenced secret is mounted by ARN,
        so it always gets one."""
        if self.object_alias:
            return self.object_alias
        if self.existing_arn and not self.import_existing:
            return self.name.strip("/").replace("/", "_")
        return ""

    @property
    def file_names(self) -> list[str]:
        """Every file this secret puts under the mount path."""
        main = self.mount_alias or self.name.replace("/", "_")
        return [main, *(j.object_alias for j in self.jmes_path)]


def secret_spec(
    name: str,
    *,
    description: str = "",
    replica_regions: tuple[str, ...] = (),
    jmes_path: tuple[JmesPathEntry, ...] = (),
) -> SecretSpec:
    """A secret this stack creates for one of its own workloads (not from `secrets`)."""
    return SecretSpec(
        name=name,
        type=SecretType.SECRETS_MANAGER,
        description=description,
        existing_arn="",
        import_existing=False,
        object_alias="",
        jmes_path=jmes_path,
        namespace="",
        replica_regions=replica_regions,
        rotation_lambda_arn="",
        rotation_days=0,
        rotation_schedule="",
    )


@dataclass(frozen=True)
class SecretFence:
    """The names this stack's secrets and parameters may have: CI's IAM policies allow
    changes under `prefix` plus the few names listed outside it (ci/iam/render.py), so the
    policies do not grow with the number of secrets."""

    prefix: str
    """Ends with `/`; a parameter's name is compared without its leading `/`."""
    outside: tuple[str, ...]
    """Existing secrets kept under their names (secretNamesOutsidePrefix)."""

    def covers(self, name: str, *, parameter: bool = False) -> bool:
        return self.within(name, parameter=parameter) or name in self.outside

    def within(self, name: str, *, parameter: bool = False) -> bool:
        return (name.lstrip("/") if parameter else name).startswith(self.prefix)


@dataclass(frozen=True)
class SecretRead:
    """Which secrets one workload reads and how it authenticates: what the cross-checks need."""

    key: str
    """Where it was configured (`apps[0].secrets`, `redisSecretName`), for messages."""
    namespace: str
    service_account: str
    identity: IdentityMode
    secret_names: tuple[str, ...]


@dataclass(frozen=True)
class AppSettings:
    """One application on the platform: its namespace and baseline, identity and secrets."""

    name: str
    """Names its resources; unique in the stack."""
    namespace: str
    service_account: str
    identity: IdentityMode
    secret_names: tuple[str, ...]
    """Names from `secrets`; its identity may read exactly these."""
    sync_secret: bool
    """Also sync the mounted files into a Kubernetes Secret `<name>-synced`."""
    workload: AppWorkload
    ingress: tuple[IngressAllow, ...]
    egress: tuple[EgressAllow, ...]
    quota: Quota
    formerly: str
    """The resource-name prefix it had before apps were declared in config (`demo`,
    `podid-demo`), so adopting `apps` replaces nothing; empty for new apps."""
    where: str
    """`apps[<index>]`, for messages."""

    @property
    def read(self) -> SecretRead:
        return SecretRead(
            f"{self.where}.secrets",
            self.namespace,
            self.service_account,
            self.identity,
            self.secret_names,
        )


class ExampleSettings(Protocol):
    """What the loader needs of any example's settings (see stacks/examples)."""

    @property
    def enabled(self) -> bool: ...

    def namespaces(self) -> list[tuple[str, str]]:
        """The namespaces it owns, each with the key that set it."""
        ...

    def reads(self) -> list[SecretRead]: ...

    def created_secrets(self, prefix: str) -> list[tuple[str, str]]:
        """The Secrets Manager secrets it creates for itself when enabled, each with the key
        that names it: they must fit the stack's secret fence too."""
        ...


@dataclass(frozen=True)
class StackConfig(ClusterView):
    project: str
    stack: str
    region: str
    cluster: ClusterConfig
    """Config parsed into the cluster's Args. A created cluster's `vpc_id` and subnet ids hold
    what config knows (an existing VPC's ids, else empty): the program wires in the network's
    outputs (`dataclasses.replace`), as it does for every field that is another resource's
    output."""
    network: NetworkArgs | None
    """None on an existing cluster."""
    nodegroup: NodeGroupArgs | None
    """None on an existing cluster. `cluster_name` and `subnet_ids` are wired to the created
    cluster and network by the program."""
    ci: CiRunner
    secrets: tuple[SecretSpec, ...]
    secret_fence: SecretFence
    addons: Mapping[str, Any]
    """Each add-on's settings by module name (stacks/addons/<name>.py)."""
    apps: tuple[AppSettings, ...]
    examples: Mapping[str, Any]
    """Each example's settings by module name (stacks/examples/<name>.py)."""
    owner: str
    secrets_kms_key: str
    """`none` (AWS managed keys), `create` (a multi-Region key of this stack) or a key ARN."""
    failover_region: str
    """Workloads also read the secrets' replicas there when the primary region fails."""
    protection: Protection

    @property
    def tags(self) -> dict[str, str]:
        return stack_tags(self.project, self.stack, self.owner)

    @property
    def secrets_store(self) -> SecretsStoreCsiArgs:
        """The CSI driver's Args (the secrets_store add-on's), which the config layer's
        cross-checks read."""
        args = self.addons["secrets_store"]
        assert isinstance(args, SecretsStoreCsiArgs)
        return args

    def secret(self, name: str) -> SecretSpec:
        return next(s for s in self.secrets if s.name == name)

    @property
    def reads(self) -> list[SecretRead]:
        """Every workload that reads secrets from `secrets`: apps and enabled examples."""
        reads = [a.read for a in self.apps]
        for example in self.examples.values():
            if example.enabled:
                reads.extend(example.reads())
        return reads

    @property
    def uses_pod_identity(self) -> bool:
        return any(r.identity != IdentityMode.IRSA for r in self.reads)

    @property
    def replica_regions(self) -> tuple[str, ...]:
        """Every region some secret is replicated to, in first-seen order."""
        return tuple(dict.fromkeys(r for s in self.secrets for r in s.replica_regions))
