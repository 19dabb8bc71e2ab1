"""The stack's settings, as frozen dataclasses built once by `stacks.load`.

No field has a default: every value comes from the stack's config, whose defaults live in
Pulumi.yaml alone. Components receive Args built from these, never `pulumi.Config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from eksplatform.modes import (
    AppWorkload,
    CapacityType,
    IdentityMode,
    InstallMethod,
    NatGatewayMode,
    OidcProviderMode,
    SecretType,
)
from eksplatform.namespace_baseline import EgressAllow, IngressAllow, Quota

from stacks.config.rules import TAINT_EFFECTS
from stacks.protection import Protection


def secret_access_name(unit: str) -> str:
    """Resource name of the secret access (policy, identity, class) of the unit `unit`; the
    IAM names AWS sees grow from it, so the config layer checks their length."""
    return f"{unit}-secrets"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str
    """Kubernetes spelling: NoSchedule, NoExecute or PreferNoSchedule."""

    @property
    def eks_effect(self) -> str:
        """The EKS API spelling of the effect (NO_SCHEDULE ...)."""
        return TAINT_EFFECTS[self.effect]


@dataclass(frozen=True)
class NetworkSettings:
    vpc_cidr: str
    availability_zone_count: int
    nat_gateway_mode: NatGatewayMode
    existing_vpc_id: str
    """Empty creates a VPC."""
    existing_public_subnet_ids: tuple[str, ...]
    existing_private_subnet_ids: tuple[str, ...]


@dataclass(frozen=True)
class ClusterSettings:
    name: str
    """The cluster's name: clusterName (or eks-secrets-<stack>), or the existing cluster's."""
    existing: bool
    """`name` is a cluster this stack did not create (existingClusterName): it is looked up,
    and no network, cluster, nodegroup or CoreDNS add-on is created."""
    oidc_provider: OidcProviderMode
    """Existing cluster only: find its IAM OIDC provider, or create it."""
    runs_pod_identity_agent: bool
    """Existing cluster only: it already runs the eks-pod-identity-agent add-on."""
    kubernetes_version: str
    admin_principal_arns: tuple[str, ...]
    public_access_cidrs: tuple[str, ...]
    """Empty (with no CI runner ranges) means the API endpoint is private only."""
    ci_runner_cidrs: tuple[str, ...]
    """Static egress ranges of the CI runner that deploys this stack; added to the
    endpoint's public access CIDRs so `pulumi up` reaches the Kubernetes API."""
    ci_runner_label: str
    """The `runs-on` label of that runner in the workflows (tests compare the two)."""
    ci_deploy_role_arn: str
    """The role CI's deploy jobs assume; empty when CI does not deploy the stack."""
    enable_network_policy: bool

    @property
    def cluster_admins(self) -> tuple[str, ...]:
        """Who gets a cluster-admin access entry: adminPrincipalArns, then CI's deploy role
        (last, so adding it keeps the entries already there)."""
        return (*self.admin_principal_arns, *filter(None, [self.ci_deploy_role_arn]))

    @property
    def endpoint_public_access_cidrs(self) -> tuple[str, ...]:
        """publicAccessCidrs then ciRunnerCidrs, without duplicates."""
        return tuple(dict.fromkeys((*self.public_access_cidrs, *self.ci_runner_cidrs)))


@dataclass(frozen=True)
class NodeGroupSettings:
    instance_types: tuple[str, ...]
    min_size: int
    desired_size: int
    max_size: int
    disk_size_gib: int
    capacity_type: CapacityType
    labels: tuple[tuple[str, str], ...]
    taints: tuple[Taint, ...]
    ssh_key_name: str
    """Empty means no SSH."""


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
class SecretsStoreSettings:
    enable_sync_secret: bool
    """Installs the driver's RBAC to sync mounted secrets into Kubernetes Secrets."""
    enable_secret_rotation: bool
    rotation_poll_interval: str
    install_method: InstallMethod


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
class StackConfig:
    project: str
    stack: str
    region: str
    network: NetworkSettings
    cluster: ClusterSettings
    nodegroup: NodeGroupSettings
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
        """Tags on every AWS resource, so leftovers can be found after a destroy."""
        return {"project": self.project, "stack": self.stack, "owner": self.owner}

    @property
    def secrets_store(self) -> SecretsStoreSettings:
        """The CSI driver's settings (the secrets_store add-on's), which the config layer's
        cross-checks read."""
        settings = self.addons["secrets_store"]
        assert isinstance(settings, SecretsStoreSettings)
        return settings

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
