"""The Secrets Store CSI driver and the AWS provider (ASCP), by Helm or as EKS add-ons, or
none on an existing cluster that already runs them: every pod that mounts secrets waits
for it (`Platform.csi`)."""

from __future__ import annotations

import dataclasses

import pulumi
from eksplatform.modes import InstallMethod
from eksplatform.secrets_store import SecretsStoreCsi, SecretsStoreCsiArgs

from stacks.config import rules
from stacks.config.model import StackBase
from stacks.config.reader import ConfigReader
from stacks.platform import Platform

NAME = "secrets-store"

Settings = SecretsStoreCsiArgs
"""The component's Args, parsed straight from config; the config layer's cross-checks
(rotation, synced secrets) read them as `StackConfig.secrets_store`."""


def parse(r: ConfigReader, base: StackBase) -> Settings:
    install_method = r.choice("secretsStoreInstallMethod", InstallMethod)
    if install_method == InstallMethod.NONE and not base.existing_cluster:
        r.fail(
            "secretsStoreInstallMethod",
            install_method.value,
            "none is for an existing cluster that already runs the driver and ASCP "
            "(existingClusterName); a cluster this stack creates needs helm or eks-addon",
        )
    return r.build(
        Settings,
        aws_region=base.region,
        enable_sync_secret=r.boolean("enableSyncSecret"),
        enable_secret_rotation=r.boolean("enableSecretRotation"),
        rotation_poll_interval=r.string("rotationPollInterval", check=rules.duration),
        install_method=install_method,
        cluster_name=base.cluster_name,
        kubernetes_version=base.kubernetes_version,
    )


def deploy(platform: Platform, settings: Settings) -> None:
    cluster = platform.cluster
    platform.csi = SecretsStoreCsi(
        NAME,
        dataclasses.replace(
            settings, cluster_name=cluster.cluster_name, wait_for=list(platform.nodes)
        ),
        opts=pulumi.ResourceOptions(providers={"kubernetes": cluster.provider}),
    )
