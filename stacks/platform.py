"""The platform every application and example builds on, and its one shared handle.

`Platform.secret_access` is the only code path that turns "this workload reads these
secrets" into a policy, an identity and a SecretProviderClass: apps, demos and examples all
go through it, so the stack's KMS key, SSM parameters and failover replicas are honoured
the same way everywhere.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from eksplatform.cluster import Cluster, ClusterArgs
from eksplatform.contract import OUTPUT_NAME, ContractSecretInput, contract_output
from eksplatform.existing_cluster import ExistingCluster, ExistingClusterArgs
from eksplatform.iam_guardrails import iam_path
from eksplatform.iam_policies import NAMESPACE_TAG, kms_key_policy, replica_arn
from eksplatform.modes import IdentityMode
from eksplatform.network import Network, NetworkArgs
from eksplatform.nodegroup import NodeGroup, NodeGroupArgs
from eksplatform.pod_identity import (
    PodIdentityAgent,
    SharedPodIdentityRole,
    SharedPodIdentityRoleArgs,
)
from eksplatform.secret_provider_class import JmesPath, SecretObject, SyncedSecret
from eksplatform.secrets import (
    ManagedParameter,
    ManagedParameterArgs,
    ManagedSecret,
    ManagedSecretArgs,
    ReplicaRegion,
    SecretsKey,
    SecretsKeyArgs,
)
from eksplatform.secrets_store import SecretsStoreCsi
from eksplatform.workload_secrets import WorkloadSecrets, WorkloadSecretsArgs, with_replica

from stacks.config.model import SecretSpec, StackConfig

StoredSecret = ManagedSecret | ManagedParameter


def root_alias(name: str | None = None) -> pulumi.Alias:
    """The identity a resource had at the root of the stack (before it moved under a unit)."""
    if name is None:
        return pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)
    return pulumi.Alias(name=name, parent=pulumi.ROOT_STACK_RESOURCE)


def root_urn(type_: str, name: str) -> str:
    """The URN a resource of `type_` named `name` has (or had) at the root of this stack."""
    return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"


def secret_object(spec: SecretSpec) -> SecretObject:
    """A referenced secret is mounted by ARN, a created or imported one by name (so that
    failover finds its replica under the same name)."""
    referenced = spec.existing_arn and not spec.import_existing
    return SecretObject(
        object_name=spec.existing_arn if referenced else spec.name,
        object_type=spec.type.value,
        object_alias=spec.mount_alias,
        jmes_path=tuple(JmesPath(j.path, j.object_alias) for j in spec.jmes_path),
    )


class ClusterHandle(Protocol):
    """What the platform needs of a cluster, created (`Cluster`) or existing
    (`ExistingCluster`): both are read through this alone."""

    @property
    def cluster_name(self) -> pulumi.Output[str]: ...
    @property
    def cluster_arn(self) -> pulumi.Output[str]: ...
    @property
    def kubeconfig(self) -> pulumi.Output[str]: ...
    @property
    def oidc_provider_arn(self) -> pulumi.Output[str]: ...
    @property
    def oidc_issuer(self) -> pulumi.Output[str]: ...
    @property
    def provider(self) -> k8s.Provider: ...


@dataclass
class Platform:
    """Handles on what apps and examples build on."""

    config: StackConfig
    cluster: ClusterHandle
    nodes: Sequence[pulumi.Resource]
    """What a DaemonSet or an add-on with pods waits for: the stack's nodegroup; empty on an
    existing cluster, whose nodes are already there."""
    key_arns: dict[str, pulumi.Output[str]]
    """The secrets' customer-managed key by region; empty with secretsKmsKey: none."""
    csi: SecretsStoreCsi = field(init=False)
    """Set by the secrets_store add-on (stacks/addons) once the stack's secrets exist; every
    pod that mounts secrets waits for it."""
    specs: dict[str, SecretSpec] = field(default_factory=dict)
    """Every secret the stack holds, from `secrets` and those examples create."""
    secrets: dict[str, StoredSecret] = field(default_factory=dict)
    pod_identity_agent: PodIdentityAgent | None = None
    """Set by the pod_identity_agent add-on when a workload of the stack uses Pod Identity and
    the cluster does not already run the agent."""
    pod_identity_agent_preinstalled: bool = False
    """Set by the pod_identity_agent add-on when the existing cluster already runs the agent
    (existingClusterRunsPodIdentityAgent): nothing to wait for, and team stacks may use it."""
    abac_role: SharedPodIdentityRole | None = None

    @property
    def k8s_provider(self) -> k8s.Provider:
        return self.cluster.provider

    def opts(
        self, parent: pulumi.Resource | None = None, aliases: Sequence[pulumi.Alias] = ()
    ) -> pulumi.ResourceOptions:
        """Options of a unit's children: Kubernetes objects reach the cluster's provider
        through a root unit's `providers`."""
        if parent is None:
            return pulumi.ResourceOptions(
                providers={"kubernetes": self.k8s_provider}, aliases=list(aliases) or None
            )
        return pulumi.ResourceOptions(parent=parent, aliases=list(aliases) or None)

    def add_secret(
        self,
        resource_name: str,
        spec: SecretSpec,
        value: pulumi.Input[str] | None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        recovery_window_days: int | None = None,
    ) -> StoredSecret:
        """Stores one secret: tagged with its owning namespace for ABAC, encrypted with the
        stack's key when there is one, replicated and rotated as its spec says."""
        cfg = self.config
        tags = {**cfg.tags, **({NAMESPACE_TAG: spec.namespace} if spec.namespace else {})}
        secret: StoredSecret
        if spec.is_parameter:
            secret = ManagedParameter(
                resource_name,
                ManagedParameterArgs(
                    parameter_name=spec.name,
                    value=value,
                    existing_arn=spec.existing_arn,
                    description=spec.description,
                    kms_key_id=self.key_arns.get(cfg.region),
                    tags=tags,
                ),
                opts=opts,
            )
        else:
            secret = ManagedSecret(
                resource_name,
                ManagedSecretArgs(
                    secret_name=spec.name,
                    value=value,
                    existing_arn=spec.existing_arn,
                    import_existing=spec.import_existing,
                    description=spec.description,
                    kms_key_id=self.key_arns.get(cfg.region) if spec.is_owned else None,
                    replicas=[ReplicaRegion(r, self.key_arns.get(r)) for r in spec.replica_regions],
                    rotation_lambda_arn=spec.rotation_lambda_arn,
                    rotation_days=spec.rotation_days,
                    rotation_schedule=spec.rotation_schedule,
                    recovery_window_in_days=(
                        cfg.protection.secret_recovery_window_days
                        if recovery_window_days is None
                        else recovery_window_days
                    ),
                    tags=tags,
                ),
                opts=opts,
            )
        self.specs[spec.name] = spec
        self.secrets[spec.name] = secret
        return secret

    def _pod_identity_agent(self) -> list[pulumi.Resource]:
        """What Pod Identity associations wait for: the agent the add-on deployed, or nothing
        where the existing cluster already runs it."""
        if self.pod_identity_agent_preinstalled:
            return []
        if self.pod_identity_agent is None:
            raise RuntimeError(
                "a workload uses Pod Identity but the pod_identity_agent add-on did not deploy "
                "the agent: its reads are missing from StackConfig.reads"
            )
        return [self.pod_identity_agent]

    def _require_abac_role(self) -> SharedPodIdentityRole:
        """The one ABAC role every `pod-identity-abac` workload binds to."""
        if self.abac_role is None:
            self.abac_role = SharedPodIdentityRole(
                "secrets-abac",
                SharedPodIdentityRoleArgs(
                    cluster_arn=self.cluster.cluster_arn,
                    failover_region=self.config.failover_region,
                    kms_key_arns=self._key_arns(),
                    tags=self.config.tags,
                ),
            )
        return self.abac_role

    def _key_arns(self) -> list[pulumi.Output[str]]:
        regions = [self.config.region, self.config.failover_region]
        return [self.key_arns[r] for r in regions if r and r in self.key_arns]

    def secret_access(
        self,
        name: str,
        *,
        namespace: str,
        service_account: str,
        class_name: str,
        secret_names: Sequence[str],
        identity: IdentityMode,
        synced_secrets: Sequence[SyncedSecret] = (),
        wait_for: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> WorkloadSecrets:
        """What reading exactly `secret_names` needs, in any identity mode: Secrets Manager
        ARNs (with their failover replicas), SSM parameter ARNs, the stack's key where the
        stack encrypted them, an identity bound to `service_account`, and the class."""
        cfg = self.config
        specs = [self.specs[n] for n in secret_names]
        secret_arns: list[pulumi.Output[str]] = []
        parameter_arns: list[pulumi.Output[str]] = []
        for spec in specs:
            arn = self.secrets[spec.name].arn
            if spec.is_parameter:
                parameter_arns.append(arn)
            else:
                secret_arns.extend(with_replica(arn, cfg.failover_region))
        owned = any(s.is_owned for s in specs)
        identity_wait_for: list[pulumi.Resource] = []
        shared_role_arn = None
        if identity != IdentityMode.IRSA:
            identity_wait_for.extend(self._pod_identity_agent())
        if identity == IdentityMode.POD_IDENTITY_ABAC:
            shared = self._require_abac_role()
            identity_wait_for.append(shared)
            shared_role_arn = shared.role_arn
        return WorkloadSecrets(
            name,
            WorkloadSecretsArgs(
                namespace=namespace,
                service_account=service_account,
                secret_provider_class=class_name,
                objects=[secret_object(s) for s in specs],
                secret_arns=secret_arns,
                parameter_arns=parameter_arns,
                kms_key_arns=self._key_arns() if owned else [],
                region=cfg.region,
                failover_region=cfg.failover_region,
                identity_mode=identity,
                oidc_provider_arn=self.cluster.oidc_provider_arn,
                oidc_issuer=self.cluster.oidc_issuer,
                cluster_name=self.cluster.cluster_name,
                cluster_arn=self.cluster.cluster_arn,
                shared_role_arn=shared_role_arn,
                synced_secrets=synced_secrets,
                tags=cfg.tags,
                wait_for=[*wait_for, *self.csi.releases],
                identity_wait_for=identity_wait_for,
            ),
            opts=opts,
        )

    @property
    def contract(self) -> dict[str, object]:
        """The `platform` output team stacks read (eksplatform.contract): read after every
        app and example is deployed, since they may add secrets, the agent and the ABAC role."""
        cfg = self.config
        return contract_output(
            region=cfg.region,
            failover_region=cfg.failover_region,
            cluster_name=self.cluster.cluster_name,
            cluster_arn=self.cluster.cluster_arn,
            kubeconfig=self.cluster.kubeconfig,
            oidc_provider_arn=self.cluster.oidc_provider_arn,
            oidc_issuer=self.cluster.oidc_issuer,
            secret_name_prefix=cfg.secret_fence.prefix,
            iam_path=iam_path(cfg.stack),
            secrets={
                name: ContractSecretInput(
                    s.arn,
                    self.specs[name].type,
                    self.specs[name].is_owned and cfg.region in self.key_arns,
                )
                for name, s in self.secrets.items()
            },
            pod_identity_agent=(
                self.pod_identity_agent is not None or self.pod_identity_agent_preinstalled
            ),
            pod_identity_abac_role_arn=self.abac_role.role_arn if self.abac_role else None,
            secrets_kms_key_arn=self.key_arns.get(cfg.region),
        )

    @property
    def outputs(self) -> dict[str, object]:
        return {
            "clusterName": self.cluster.cluster_name,
            "kubeconfig": self.cluster.kubeconfig,
            "oidcProviderArn": self.cluster.oidc_provider_arn,
            "secretArns": {name: s.arn for name, s in self.secrets.items()},
            OUTPUT_NAME: self.contract,
        }


def _secret_value(values: pulumi.Output[str], name: str) -> pulumi.Output[str]:
    def pick(raw: str) -> str:
        value = json.loads(raw)[name]
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)

    return pulumi.Output.secret(values.apply(pick))


def _protected(cfg: StackConfig) -> pulumi.ResourceOptions:
    """`protect` for state and identity; children (keys, the OIDC provider) inherit it."""
    return pulumi.ResourceOptions(protect=cfg.protection.protect)


def _secrets_key_arns(cfg: StackConfig) -> dict[str, pulumi.Output[str]]:
    """The secrets' customer-managed key by region: none, created here (multi-Region, with a
    replica wherever a secret is replicated), or given (a multi-Region key's replicas share
    its ARN but for the region)."""
    if cfg.secrets_kms_key == "none":
        return {}
    regions = cfg.replica_regions
    if cfg.secrets_kms_key != "create":
        arn = cfg.secrets_kms_key
        return {
            cfg.region: pulumi.Output.from_input(arn),
            **{r: pulumi.Output.from_input(replica_arn(arn, r)) for r in regions},
        }
    identity = aws.get_caller_identity_output()
    partition = aws.get_partition_output()
    key = SecretsKey(
        "secrets-kms",
        SecretsKeyArgs(
            alias=f"alias/{cfg.cluster_name}-secrets",
            region=cfg.region,
            replica_regions=regions,
            deletion_window_days=cfg.protection.kms_deletion_window_days,
            policy=pulumi.Output.all(identity.account_id, partition.partition).apply(
                lambda v: json.dumps(kms_key_policy(v[0], v[1]))
            ),
            tags=cfg.tags,
        ),
        opts=_protected(cfg),
    )
    return dict(key.arn_by_region)


def _created_cluster(
    cfg: StackConfig, cluster_args: ClusterArgs, network_args: NetworkArgs, nodes: NodeGroupArgs
) -> tuple[Cluster, NodeGroup]:
    """A new network, cluster and nodegroup (CoreDNS is an add-on: stacks/addons), from the
    Args config built, wired to each other's outputs."""
    network = Network("network", network_args)
    cluster = Cluster(
        "cluster",
        dataclasses.replace(
            cluster_args,
            vpc_id=network.vpc_id,
            public_subnet_ids=network.public_subnet_ids,
            private_subnet_ids=network.private_subnet_ids,
        ),
        opts=_protected(cfg),
    )
    nodegroup = NodeGroup(
        "nodes",
        dataclasses.replace(
            nodes, cluster_name=cluster.cluster_name, subnet_ids=network.private_subnet_ids
        ),
    )
    return cluster, nodegroup


def build_platform(cfg: StackConfig, secret_values: pulumi.Output[str] | None) -> Platform:
    """The cluster (created with its network and nodes, or an existing one) and the stack's
    secrets; the add-ons (stacks/addons) deploy on it next."""
    cluster: ClusterHandle
    nodes: list[pulumi.Resource]
    if isinstance(cfg.cluster, ExistingClusterArgs):
        # Looked up, never created or changed.
        cluster, nodes = ExistingCluster("cluster", cfg.cluster, opts=_protected(cfg)), []
    else:
        assert cfg.network is not None and cfg.nodegroup is not None
        cluster, nodegroup = _created_cluster(cfg, cfg.cluster, cfg.network, cfg.nodegroup)
        nodes = [nodegroup]
    platform = Platform(cfg, cluster, nodes, _secrets_key_arns(cfg))
    for spec in cfg.secrets:
        value = (
            _secret_value(secret_values, spec.name)
            if spec.is_created and secret_values is not None
            else None
        )
        platform.add_secret(
            f"secret-{spec.name.strip('/').replace('/', '-')}", spec, value, _protected(cfg)
        )
    return platform
