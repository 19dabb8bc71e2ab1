"""Builds one environment: network, cluster, nodegroup, secrets, CSI driver, workloads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster import Cluster, ClusterArgs
from components.k8s import SECRETS_MOUNT_PATH, app_labels, pod_security_labels
from components.network import Network, NetworkArgs
from components.nodegroup import NodeGroup, NodeGroupArgs, NodeTaint
from components.secret_provider_class import JmesPath, SecretObject, SyncedSecret
from components.secrets import ManagedSecret, ManagedSecretArgs
from components.secrets_store import SecretsStoreCsi, SecretsStoreCsiArgs, Toleration
from components.workload_secrets import WorkloadSecrets, WorkloadSecretsArgs
from components.workloads.nginx_secrets_demo import (
    APP_NAME,
    NginxSecretsDemo,
    NginxSecretsDemoArgs,
)
from stacks.config import SecretSpec, StackConfig
from stacks.workloads import build_workloads


@dataclass
class Platform:
    """Handles on what the workloads build on."""

    config: StackConfig
    cluster: Cluster
    nodegroup: NodeGroup
    k8s_provider: k8s.Provider
    csi: SecretsStoreCsi
    secrets: dict[str, ManagedSecret]
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def k8s_opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers={"kubernetes": self.k8s_provider})

    def secret_object(self, name: str) -> SecretObject:
        spec = self.config.secret(name)
        return secret_object(spec)


def secret_object(spec: SecretSpec) -> SecretObject:
    """A referenced secret is mounted by ARN, a created one by name."""
    return SecretObject(
        object_name=spec.existing_arn or spec.name,
        object_alias=spec.name if spec.existing_arn else "",
        jmes_path=tuple(JmesPath(j.path, j.object_alias) for j in spec.jmes_path),
    )


def _secret_value(values: pulumi.Output[str], name: str) -> pulumi.Output[str]:
    def pick(raw: str) -> str:
        value = json.loads(raw)[name]
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)

    return pulumi.Output.secret(values.apply(pick))


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
            public_access_cidrs=cfg.cluster.public_access_cidrs,
            enable_network_policy=cfg.cluster.enable_network_policy,
            enable_deletion_protection=cfg.cluster.enable_deletion_protection,
            tags=tags,
        ),
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
    secrets = {
        spec.name: ManagedSecret(
            f"secret-{spec.name.replace('/', '-')}",
            ManagedSecretArgs(
                secret_name=spec.name,
                value=_secret_value(secret_values, spec.name)
                if spec.is_created and secret_values is not None
                else None,
                existing_arn=spec.existing_arn,
                description=spec.description,
                tags=tags,
            ),
        )
        for spec in cfg.secrets
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
        ),
        opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
    )
    platform = Platform(cfg, cluster, nodegroup, provider, csi, secrets)
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
    """The nginx demo: its own namespace, IRSA service account, SecretProviderClass and pod."""
    cfg = platform.config
    demo = cfg.demo
    opts = platform.k8s_opts
    namespace = k8s.core.v1.Namespace(
        "demo-namespace",
        metadata={
            "name": demo.namespace,
            "labels": {**app_labels(demo.namespace, "namespace"), **pod_security_labels()},
        },
        opts=opts,
    )
    objects = [platform.secret_object(name) for name in demo.secret_names]
    synced: list[SyncedSecret] = []
    files = [f for o in objects for f in (o.file_name, *(j.object_alias for j in o.jmes_path))]
    if demo.enable_kubernetes_secret_sync:
        synced.append(SyncedSecret(f"{APP_NAME}-synced", [(f, f) for f in files]))
    access = WorkloadSecrets(
        "demo-secrets",
        WorkloadSecretsArgs(
            namespace=demo.namespace,
            service_account=demo.service_account,
            secret_provider_class=f"{APP_NAME}-aws",
            objects=objects,
            secret_arns=[platform.secrets[name].arn for name in demo.secret_names],
            oidc_provider_arn=platform.cluster.oidc_provider_arn,
            oidc_issuer=platform.cluster.oidc_issuer,
            region=cfg.region,
            synced_secrets=synced,
            tags=cfg.tags,
            wait_for=[namespace, *platform.csi.releases],
        ),
        opts=opts,
    )
    NginxSecretsDemo(
        "demo",
        NginxSecretsDemoArgs(
            namespace=demo.namespace,
            service_account=demo.service_account,
            secret_provider_class=access.class_name,
            synced_secret=synced[0].secret_name if synced else "",
            synced_keys=files if synced else (),
            wait_for=[*access.ready, *platform.csi.releases],
        ),
        opts=opts,
    )
    first_file = access.file_names[0]
    return {
        "demoNamespace": demo.namespace,
        "demoRoleArn": access.role_arn,
        "demoSecretFiles": access.file_names,
        "verifyCommand": (
            f"kubectl -n {demo.namespace} exec deploy/{APP_NAME} -c nginx -- "
            f"cat {SECRETS_MOUNT_PATH}/{first_file}"
        ),
    }


def build(cfg: StackConfig, secret_values: pulumi.Output[str] | None) -> dict[str, Any]:
    """The whole stack; returns the stack outputs."""
    platform = build_platform(cfg, secret_values)
    outputs = dict(platform.outputs)
    if cfg.demo.enabled:
        outputs.update(build_demo(platform))
    outputs.update(build_workloads(platform, cfg.workloads))
    return outputs
