"""Builds one environment: network, cluster, nodegroup, secrets, CSI driver, workloads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster import Cluster, ClusterArgs
from components.iam_policies import NAMESPACE_TAG, kms_key_policy, replica_arn
from components.k8s import SECRETS_MOUNT_PATH
from components.namespace_baseline import NamespaceBaseline, NamespaceBaselineArgs
from components.network import Network, NetworkArgs
from components.nodegroup import NodeGroup, NodeGroupArgs, NodeTaint
from components.pod_identity import (
    PodIdentityAgent,
    PodIdentityAgentArgs,
    SharedPodIdentityRole,
    SharedPodIdentityRoleArgs,
)
from components.secret_provider_class import JmesPath, SecretObject, SyncedSecret
from components.secrets import (
    ManagedParameter,
    ManagedParameterArgs,
    ManagedSecret,
    ManagedSecretArgs,
    ReplicaRegion,
    SecretsKey,
    SecretsKeyArgs,
)
from components.secrets_store import SecretsStoreCsi, SecretsStoreCsiArgs, Toleration
from components.workload_secrets import WorkloadSecrets, WorkloadSecretsArgs, with_replica
from components.workloads.nginx_secrets_demo import (
    APP_NAME,
    NginxSecretsDemo,
    NginxSecretsDemoArgs,
)
from stacks.config import DemoConfig, PodIdentityDemoConfig, SecretSpec, StackConfig
from stacks.workloads import build_workloads


@dataclass
class Platform:
    """Handles on what the workloads build on."""

    config: StackConfig
    cluster: Cluster
    nodegroup: NodeGroup
    k8s_provider: k8s.Provider
    csi: SecretsStoreCsi
    secrets: dict[str, ManagedSecret | ManagedParameter]
    outputs: dict[str, Any] = field(default_factory=dict)
    secrets_key_arns: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    """Customer-managed key of the secrets, by region; empty with secretsKmsKey: none."""
    pod_identity_agent: PodIdentityAgent | None = None
    abac_role: SharedPodIdentityRole | None = None

    @property
    def k8s_opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers={"kubernetes": self.k8s_provider})

    def secret_object(self, name: str) -> SecretObject:
        spec = self.config.secret(name)
        return secret_object(spec)

    def require_pod_identity_agent(self) -> PodIdentityAgent:
        """The agent add-on, created the first time a workload uses Pod Identity."""
        if self.pod_identity_agent is None:
            self.pod_identity_agent = PodIdentityAgent(
                "pod-identity-agent",
                PodIdentityAgentArgs(
                    cluster_name=self.cluster.cluster_name,
                    tags=self.config.tags,
                    wait_for=[self.nodegroup],
                ),
            )
        return self.pod_identity_agent

    def require_abac_role(self) -> SharedPodIdentityRole:
        """The one ABAC role every `pod-identity-abac` workload binds to."""
        if self.abac_role is None:
            cfg = self.config
            self.abac_role = SharedPodIdentityRole(
                "secrets-abac",
                SharedPodIdentityRoleArgs(
                    cluster_arn=self.cluster.cluster_arn,
                    failover_region=cfg.failover_region,
                    kms_key_arns=self._key_arns(),
                    tags=cfg.tags,
                ),
            )
        return self.abac_role

    def _key_arns(self) -> list[pulumi.Output[str]]:
        regions = [self.config.region, self.config.failover_region]
        return [self.secrets_key_arns[r] for r in regions if r and r in self.secrets_key_arns]

    def read_arns(
        self, names: Sequence[str]
    ) -> tuple[list[pulumi.Output[str]], list[pulumi.Output[str]], list[pulumi.Output[str]]]:
        """(secret ARNs with their failover replicas, parameter ARNs, KMS key ARNs) that
        reading exactly `names` needs."""
        cfg = self.config
        secret_arns: list[pulumi.Output[str]] = []
        parameter_arns: list[pulumi.Output[str]] = []
        for name in names:
            arn = self.secrets[name].arn
            if cfg.secret(name).is_parameter:
                parameter_arns.append(arn)
                continue
            secret_arns.extend(with_replica(arn, cfg.failover_region))
        owned = any(cfg.secret(name).is_owned for name in names)
        return secret_arns, parameter_arns, self._key_arns() if owned else []

    def workload_secrets(
        self,
        name: str,
        *,
        namespace: str,
        service_account: str,
        class_name: str,
        secret_names: Sequence[str],
        identity_mode: str = "irsa",
        synced_secrets: Sequence[SyncedSecret] = (),
        wait_for: Sequence[pulumi.Resource] = (),
    ) -> WorkloadSecrets:
        """WorkloadSecrets for reading exactly `secret_names`, in any identity mode, with the
        stack's failover region and KMS key applied."""
        cfg = self.config
        secret_arns, parameter_arns, kms_key_arns = self.read_arns(secret_names)
        identity_wait_for: list[pulumi.Resource] = []
        shared_role_arn = None
        if identity_mode != "irsa":
            identity_wait_for.append(self.require_pod_identity_agent())
        if identity_mode == "pod-identity-abac":
            shared = self.require_abac_role()
            identity_wait_for.append(shared)
            shared_role_arn = shared.role_arn
        return WorkloadSecrets(
            name,
            WorkloadSecretsArgs(
                namespace=namespace,
                service_account=service_account,
                secret_provider_class=class_name,
                objects=[self.secret_object(n) for n in secret_names],
                secret_arns=secret_arns,
                parameter_arns=parameter_arns,
                kms_key_arns=kms_key_arns,
                region=cfg.region,
                failover_region=cfg.failover_region,
                identity_mode=identity_mode,
                oidc_provider_arn=self.cluster.oidc_provider_arn,
                oidc_issuer=self.cluster.oidc_issuer,
                cluster_name=self.cluster.cluster_name,
                cluster_arn=self.cluster.cluster_arn,
                shared_role_arn=shared_role_arn,
                synced_secrets=synced_secrets,
                tags=cfg.tags,
                wait_for=wait_for,
                identity_wait_for=identity_wait_for,
            ),
            opts=self.k8s_opts,
        )


def secret_object(spec: SecretSpec) -> SecretObject:
    """A referenced secret is mounted by ARN, a created or imported one by name (so that
    failover finds its replica under the same name)."""
    referenced = spec.existing_arn and not spec.import_existing
    return SecretObject(
        object_name=spec.existing_arn if referenced else spec.name,
        object_type=spec.type,
        object_alias=spec.mount_alias,
        jmes_path=tuple(JmesPath(j.path, j.object_alias) for j in spec.jmes_path),
    )


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
            alias=f"alias/{cfg.cluster.name}-secrets",
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


def _secret(
    cfg: StackConfig,
    spec: SecretSpec,
    secret_values: pulumi.Output[str] | None,
    key_arns: dict[str, pulumi.Output[str]],
) -> ManagedSecret | ManagedParameter:
    """One entry of `secrets`: tagged with its owning namespace for ABAC, encrypted with the
    stack's key when there is one, replicated and rotated as configured."""
    tags = {**cfg.tags, **({NAMESPACE_TAG: spec.namespace} if spec.namespace else {})}
    value = (
        _secret_value(secret_values, spec.name)
        if spec.is_created and secret_values is not None
        else None
    )
    name = f"secret-{spec.name.strip('/').replace('/', '-')}"
    if spec.is_parameter:
        return ManagedParameter(
            name,
            ManagedParameterArgs(
                parameter_name=spec.name,
                value=value,
                existing_arn=spec.existing_arn,
                description=spec.description,
                kms_key_id=key_arns.get(cfg.region),
                tags=tags,
            ),
            opts=_protected(cfg),
        )
    return ManagedSecret(
        name,
        ManagedSecretArgs(
            secret_name=spec.name,
            value=value,
            existing_arn=spec.existing_arn,
            import_existing=spec.import_existing,
            description=spec.description,
            kms_key_id=key_arns.get(cfg.region) if spec.is_owned else None,
            replicas=[ReplicaRegion(r, key_arns.get(r)) for r in spec.replica_regions],
            rotation_lambda_arn=spec.rotation_lambda_arn,
            rotation_days=spec.rotation_days,
            rotation_schedule=spec.rotation_schedule,
            recovery_window_in_days=cfg.protection.secret_recovery_window_days,
            tags=tags,
        ),
        opts=_protected(cfg),
    )


def build_platform(cfg: StackConfig, secret_values: pulumi.Output[str] | None) -> Platform:
    tags = cfg.tags
    network = Network(
        "network",
        NetworkArgs(
            cluster_name=cfg.cluster.name,
            vpc_cidr=cfg.network.vpc_cidr,
            availability_zone_count=cfg.network.availability_zone_count,
            single_nat_gateway=cfg.network.nat_gateway_mode == "single",
            existing_vpc_id=cfg.network.existing_vpc_id,
            existing_public_subnet_ids=cfg.network.existing_public_subnet_ids,
            existing_private_subnet_ids=cfg.network.existing_private_subnet_ids,
            tags=tags,
        ),
    )
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            cluster_name=cfg.cluster.name,
            kubernetes_version=cfg.cluster.kubernetes_version,
            vpc_id=network.vpc_id,
            public_subnet_ids=network.public_subnet_ids,
            private_subnet_ids=network.private_subnet_ids,
            admin_principal_arns=cfg.cluster.admin_principal_arns,
            public_access_cidrs=cfg.cluster.endpoint_public_access_cidrs,
            enable_network_policy=cfg.cluster.enable_network_policy,
            enable_deletion_protection=cfg.protection.cluster_deletion_protection,
            kms_deletion_window_days=cfg.protection.kms_deletion_window_days,
            tags=tags,
        ),
        opts=_protected(cfg),
    )
    ng = cfg.nodegroup
    nodegroup = NodeGroup(
        "nodes",
        NodeGroupArgs(
            cluster_name=cluster.cluster_name,
            kubernetes_version=cfg.cluster.kubernetes_version,
            subnet_ids=network.private_subnet_ids,
            instance_types=ng.instance_types,
            min_size=ng.min_size,
            desired_size=ng.desired_size,
            max_size=ng.max_size,
            disk_size_gib=ng.disk_size_gib,
            capacity_type=ng.capacity_type,
            labels=dict(ng.labels),
            taints=[NodeTaint(t.key, t.value, t.eks_effect) for t in ng.taints],
            ssh_key_name=ng.ssh_key_name,
            tags=tags,
        ),
    )
    secrets_key_arns = _secrets_key_arns(cfg)
    secrets = {
        spec.name: _secret(cfg, spec, secret_values, secrets_key_arns) for spec in cfg.secrets
    }
    provider = cluster.provider
    ss = cfg.secrets_store
    csi = SecretsStoreCsi(
        "secrets-store",
        SecretsStoreCsiArgs(
            aws_region=cfg.region,
            enable_sync_secret=ss.enable_sync_secret,
            enable_secret_rotation=ss.enable_secret_rotation,
            rotation_poll_interval=ss.rotation_poll_interval,
            tolerations=[Toleration(t.key, t.value, t.effect) for t in ss.tolerations],
            wait_for=[nodegroup],
            install_method=ss.install_method,
            cluster_name=cluster.cluster_name,
        ),
        opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
    )
    platform = Platform(
        cfg, cluster, nodegroup, provider, csi, secrets, secrets_key_arns=secrets_key_arns
    )
    platform.outputs.update(
        {
            "clusterName": cluster.cluster_name,
            "kubeconfig": cluster.kubeconfig,
            "oidcProviderArn": cluster.oidc_provider_arn,
            "secretArns": {name: s.arn for name, s in secrets.items()},
        }
    )
    return platform


def build_demo(platform: Platform) -> dict[str, Any]:
    """The nginx demo: its own namespace, a service account bound to a role (IRSA unless
    demoIdentityMode says otherwise), a SecretProviderClass and the pod."""
    demo = platform.config.demo
    opts = platform.k8s_opts
    # The Namespace keeps its name ("demo-namespace") and moves under the baseline.
    baseline = NamespaceBaseline(
        "demo",
        NamespaceBaselineArgs(
            name=demo.namespace,
            namespace_aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)],
        ),
        opts=opts,
    )
    objects = [platform.secret_object(name) for name in demo.secret_names]
    synced: list[SyncedSecret] = []
    files = [f for o in objects for f in (o.file_name, *(j.object_alias for j in o.jmes_path))]
    if demo.enable_kubernetes_secret_sync:
        synced.append(SyncedSecret(f"{APP_NAME}-synced", [(f, f) for f in files]))
    access, verify = _nginx_demo(platform, "demo", demo, baseline, synced, files)
    return {
        "demoNamespace": demo.namespace,
        "demoRoleArn": access.role_arn,
        "demoSecretFiles": access.file_names,
        "verifyCommand": verify,
    }


def build_pod_identity_demo(platform: Platform) -> dict[str, Any]:
    """The same nginx demo in its own namespace, reading only its own secret through EKS Pod
    Identity: no OIDC trust, no annotation on the ServiceAccount, `usePodIdentity` in the
    SecretProviderClass."""
    demo = platform.config.pod_identity_demo
    baseline = NamespaceBaseline(
        "podid-demo", NamespaceBaselineArgs(name=demo.namespace), opts=platform.k8s_opts
    )
    access, verify = _nginx_demo(platform, "podid-demo", demo, baseline)
    return {
        "podIdentityDemoNamespace": demo.namespace,
        "podIdentityDemoRoleArn": access.role_arn,
        "podIdentityDemoVerifyCommand": verify,
    }


def _nginx_demo(
    platform: Platform,
    name: str,
    demo: DemoConfig | PodIdentityDemoConfig,
    baseline: NamespaceBaseline,
    synced: Sequence[SyncedSecret] = (),
    synced_keys: Sequence[str] = (),
) -> tuple[WorkloadSecrets, str]:
    """One nginx demo in `baseline`'s namespace: its identity and SecretProviderClass (the
    same policy builder in every identity mode), the pod, and the command that shows the
    mounted secret."""
    access = platform.workload_secrets(
        f"{name}-secrets",
        namespace=demo.namespace,
        service_account=demo.service_account,
        class_name=f"{APP_NAME}-aws",
        secret_names=demo.secret_names,
        identity_mode=demo.identity_mode,
        synced_secrets=list(synced),
        wait_for=[*baseline.ready, *platform.csi.releases],
    )
    NginxSecretsDemo(
        name,
        NginxSecretsDemoArgs(
            namespace=demo.namespace,
            service_account=demo.service_account,
            secret_provider_class=access.class_name,
            synced_secret=synced[0].secret_name if synced else "",
            synced_keys=synced_keys if synced else (),
            wait_for=[*access.ready, *platform.csi.releases],
        ),
        opts=platform.k8s_opts,
    )
    verify = (
        f"kubectl -n {demo.namespace} exec deploy/{APP_NAME} -c nginx -- "
        f"cat {SECRETS_MOUNT_PATH}/{access.file_names[0]}"
    )
    return access, verify


def build(cfg: StackConfig, secret_values: pulumi.Output[str] | None) -> dict[str, Any]:
    """The whole stack; returns the stack outputs."""
    platform = build_platform(cfg, secret_values)
    outputs = dict(platform.outputs)
    if cfg.demo.enabled:
        outputs.update(build_demo(platform))
    if cfg.pod_identity_demo.enabled:
        outputs.update(build_pod_identity_demo(platform))
    outputs.update(build_workloads(platform, cfg.workloads))
    return outputs
