"""The Secrets Store CSI driver and the AWS provider (ASCP), by Helm or as EKS add-ons, or
none on an existing cluster that already runs them: every pod that mounts secrets waits
for it (`Platform.csi`)."""

from __future__ import annotations

import pulumi
from eksplatform.modes import InstallMethod
from eksplatform.secrets_store import SecretsStoreCsi, SecretsStoreCsiArgs

from stacks.config import rules
from stacks.config.model import ClusterSettings, SecretsStoreSettings
from stacks.config.reader import ConfigReader
from stacks.platform import Platform

NAME = "secrets-store"

Settings = SecretsStoreSettings
"""In the config model: the config layer's cross-checks (rotation, synced secrets) read it
as `StackConfig.secrets_store`."""


def parse(r: ConfigReader, cluster: ClusterSettings) -> Settings:
    install_method = r.choice("secretsStoreInstallMethod", InstallMethod)
    if install_method == InstallMethod.NONE and not cluster.existing:
        r.fail(
            "secretsStoreInstallMethod",
            install_method.value,
            "none is for an existing cluster that already runs the driver and ASCP "
            "(existingClusterName); a cluster this stack creates needs helm or eks-addon",
        )
    return Settings(
        enable_sync_secret=r.boolean("enableSyncSecret"),
        enable_secret_rotation=r.boolean("enableSecretRotation"),
        rotation_poll_interval=r.string("rotationPollInterval", check=rules.duration),
        install_method=install_method,
    )


def deploy(platform: Platform, settings: Settings) -> None:
    cluster = platform.cluster
    platform.csi = SecretsStoreCsi(
        NAME,
        SecretsStoreCsiArgs(
            aws_region=platform.config.region,
            enable_sync_secret=settings.enable_sync_secret,
            enable_secret_rotation=settings.enable_secret_rotation,
            rotation_poll_interval=settings.rotation_poll_interval,
            wait_for=list(platform.nodes),
            install_method=settings.install_method,
            cluster_name=cluster.cluster_name,
            kubernetes_version=platform.config.cluster.kubernetes_version,
        ),
        opts=pulumi.ResourceOptions(providers={"kubernetes": cluster.provider}),
    )
