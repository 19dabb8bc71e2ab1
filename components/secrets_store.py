"""The Secrets Store CSI driver and its AWS provider (ASCP), both from pinned Helm charts.

The driver is installed from its own chart and ASCP's bundled copy is switched off, so
there is exactly one driver, configured here. Helm v3 `Release` is used rather than
`helm.v4.Chart` because the driver chart relies on Helm hooks (CRD upgrade) that v4 skips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.versions import SECRETS_STORE_CSI_DRIVER, SECRETS_STORE_PROVIDER_AWS, ChartPin

NAMESPACE = "kube-system"
STS_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class Toleration:
    key: str
    value: str
    effect: str
    """Kubernetes spelling: NoSchedule, NoExecute or PreferNoSchedule."""

    def as_dict(self) -> dict[str, str]:
        if self.value:
            return {
                "key": self.key,
                "operator": "Equal",
                "value": self.value,
                "effect": self.effect,
            }
        return {"key": self.key, "operator": "Exists", "effect": self.effect}


@dataclass(frozen=True)
class SecretsStoreCsiArgs:
    """Inputs of SecretsStoreCsi."""

    aws_region: str
    enable_sync_secret: bool = False
    """Lets the driver create Kubernetes Secrets from `secretObjects`."""
    enable_secret_rotation: bool = True
    rotation_poll_interval: str = "2m"
    tolerations: Sequence[Toleration] = ()
    wait_for: Sequence[pulumi.Resource] = ()
    """Resources the releases wait for: the nodegroup, so the DaemonSets can schedule."""
    driver_chart: ChartPin = SECRETS_STORE_CSI_DRIVER
    provider_chart: ChartPin = SECRETS_STORE_PROVIDER_AWS


def driver_values(args: SecretsStoreCsiArgs) -> dict[str, Any]:
    """Values of the secrets-store-csi-driver chart, as nested dicts."""
    values: dict[str, Any] = {
        "syncSecret": {"enabled": args.enable_sync_secret},
        "enableSecretRotation": args.enable_secret_rotation,
        # ASCP exchanges this projected token for AWS credentials (IRSA).
        "tokenRequests": [{"audience": STS_AUDIENCE}],
        "linux": {"tolerations": [t.as_dict() for t in args.tolerations]},
    }
    if args.enable_secret_rotation:
        values["rotationPollInterval"] = args.rotation_poll_interval
    return values


def provider_values(args: SecretsStoreCsiArgs) -> dict[str, Any]:
    """Values of the ASCP chart; its bundled driver is off because we install our own."""
    return {
        "awsRegion": args.aws_region,
        "secrets-store-csi-driver": {"install": False},
        "tolerations": [t.as_dict() for t in args.tolerations],
    }


class SecretsStoreCsi(pulumi.ComponentResource):
    """Both releases; objects that need the driver should depend on `releases`."""

    def __init__(
        self, name: str, args: SecretsStoreCsiArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:addons:SecretsStoreCsi", name, None, opts)
        self.driver = k8s.helm.v3.Release(
            f"{name}-driver",
            name="secrets-store-csi-driver",
            chart=args.driver_chart.chart,
            version=args.driver_chart.version,
            repository_opts={"repo": args.driver_chart.repo},
            namespace=NAMESPACE,
            values=driver_values(args),
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.provider = k8s.helm.v3.Release(
            f"{name}-aws-provider",
            name="secrets-store-csi-driver-provider-aws",
            chart=args.provider_chart.chart,
            version=args.provider_chart.version,
            repository_opts={"repo": args.provider_chart.repo},
            namespace=NAMESPACE,
            values=provider_values(args),
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.driver]),
        )
        self.releases: list[pulumi.Resource] = [self.driver, self.provider]
        self.register_outputs({"releases": [self.driver.name, self.provider.name]})
