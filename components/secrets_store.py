"""The Secrets Store CSI driver and its AWS provider (ASCP), from pinned Helm charts (default)
or as the `aws-secrets-store-csi-driver-provider` EKS add-on.

With Helm the driver is installed from its own chart and ASCP's bundled copy is switched
off, so there is exactly one driver, configured here. Helm v3 `Release` is used rather than
`helm.v4.Chart` because the driver chart relies on Helm hooks (CRD upgrade) that v4 skips.

The EKS add-on (generally available since November 2025) packages ASCP's chart with the
driver as a sub-chart, so it replaces both releases; its configuration values follow the
chart's (`secrets-store-csi-driver.*` for the driver). EKS publishes add-on builds per
Kubernetes version; this module cannot check offline that a build exists for the cluster's
version, so `aws eks describe-addon-versions --addon-name aws-secrets-store-csi-driver-provider
--kubernetes-version <v>` is the check before choosing it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .modes import InstallMethod
from .versions import SECRETS_STORE_CSI_DRIVER, SECRETS_STORE_PROVIDER_AWS, ChartPin

NAMESPACE = "kube-system"
STS_AUDIENCE = "sts.amazonaws.com"
POD_IDENTITY_AUDIENCE = "pods.eks.amazonaws.com"
TOKEN_AUDIENCES = (STS_AUDIENCE, POD_IDENTITY_AUDIENCE)
"""From ASCP 3.0 the provider no longer requests pod tokens itself: the driver passes them,
one per audience in the CSIDriver's `tokenRequests` (IRSA needs sts, Pod Identity pods.eks).
Both always, as ASCP's README and its chart's bundled-driver values at 3.1.1 set them."""
CRD_HOOK_RESOURCES = {
    "requests": {"cpu": "10m", "memory": "32Mi"},
    "limits": {"cpu": "100m", "memory": "128Mi"},
}
TOLERATE_EVERY_TAINT = {"operator": "Exists"}
"""The driver chart's own default: a CSI node plugin must run on every node a pod that mounts
secrets can land on, whatever its taints."""
ASCP_ADDON = "aws-secrets-store-csi-driver-provider"


@dataclass(frozen=True)
class Toleration:
    key: str
    """Taint key to tolerate. Required."""
    value: str
    """Taint value; empty tolerates any value of the key. Required."""
    effect: str
    """Kubernetes spelling: NoSchedule, NoExecute or PreferNoSchedule. Required."""

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
    """The region ASCP calls Secrets Manager and SSM in (`AWS_REGION`). Required."""
    enable_sync_secret: bool = False
    """Lets the driver create Kubernetes Secrets from `secretObjects`. Default: False."""
    enable_secret_rotation: bool = True
    """The driver re-reads mounted secrets every `rotation_poll_interval`. Default: True."""
    rotation_poll_interval: str = "2m"
    """A Go duration (`90s`, `2m`); ignored without rotation. Default: 2m."""
    tolerate_every_taint: bool = True
    """The driver and provider DaemonSets tolerate every taint (`operator: Exists`, the driver
    chart's default), so they run on every node pool; False uses only `tolerations`, and a pod on
    a node with another taint cannot mount secrets. Default: True."""
    tolerations: Sequence[Toleration] = ()
    """Used when `tolerate_every_taint` is False. Default: none."""
    wait_for: Sequence[pulumi.Resource] = ()
    """What both releases (or the add-on) wait for: the nodegroup, so the DaemonSets can schedule;
    the two releases do not wait for each other. Default: none."""
    driver_chart: ChartPin = SECRETS_STORE_CSI_DRIVER
    """The secrets-store-csi-driver chart. Default: the pin in components/versions.py."""
    provider_chart: ChartPin = SECRETS_STORE_PROVIDER_AWS
    """The ASCP chart. Default: the pin in components/versions.py."""
    install_method: InstallMethod = InstallMethod.HELM
    """HELM (the two pinned charts) or EKS_ADDON (the ASCP add-on, driver included).
    Default: HELM."""
    cluster_name: pulumi.Input[str] | None = None
    """The cluster, an Output that resolves once it exists; EKS_ADDON only. Default: None."""
    addon_version: str = ""
    """An ASCP add-on build; EKS_ADDON only. Default: empty, EKS picks its default build for the
    cluster's version."""

    def __post_init__(self) -> None:
        if InstallMethod(self.install_method) == InstallMethod.EKS_ADDON and not self.cluster_name:
            raise ValueError("install_method 'eks-addon' needs cluster_name")


def tolerations(args: SecretsStoreCsiArgs) -> list[dict[str, str]]:
    """The DaemonSets' tolerations: every taint by default, else exactly the given ones."""
    if args.tolerate_every_taint:
        return [dict(TOLERATE_EVERY_TAINT)]
    return [t.as_dict() for t in args.tolerations]


def token_requests() -> list[dict[str, str]]:
    return [{"audience": audience} for audience in TOKEN_AUDIENCES]


def driver_values(args: SecretsStoreCsiArgs) -> dict[str, Any]:
    """Values of the secrets-store-csi-driver chart, as nested dicts."""
    values: dict[str, Any] = {
        "syncSecret": {"enabled": args.enable_sync_secret},
        "enableSecretRotation": args.enable_secret_rotation,
        # ASCP exchanges these projected tokens for AWS credentials (IRSA, Pod Identity).
        "tokenRequests": token_requests(),
        "linux": {"tolerations": tolerations(args)},
    }
    if args.enable_secret_rotation:
        values["rotationPollInterval"] = args.rotation_poll_interval
    # The CRD upgrade/keep hook Jobs run `kubectl apply`; the chart sets no resources for them.
    values["linux"]["crds"] = {"resources": CRD_HOOK_RESOURCES}
    return values


def provider_values(args: SecretsStoreCsiArgs) -> dict[str, Any]:
    """Values of the ASCP chart; its bundled driver is off because we install our own.

    The container keeps the chart's non-privileged, no-escalation context and adds what the
    chart lets us tighten: a read-only root (ASCP only writes its socket, on the hostPath
    provider volume), no capabilities and the runtime's default seccomp profile. It still runs
    as root: the provider directory on the host is root-owned."""
    return {
        "awsRegion": args.aws_region,
        "secrets-store-csi-driver": {"install": False},
        "tolerations": tolerations(args),
        "securityContext": {
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def addon_configuration(args: SecretsStoreCsiArgs) -> dict[str, Any]:
    """Configuration values of the ASCP EKS add-on: ASCP's chart values, with the driver's
    settings under its sub-chart key (`secrets-store-csi-driver.tokenRequests` is where ASCP's
    chart at 3.1.1 sets both audiences)."""
    driver: dict[str, Any] = {
        "syncSecret": {"enabled": args.enable_sync_secret},
        "enableSecretRotation": args.enable_secret_rotation,
        "tokenRequests": token_requests(),
        "linux": {"tolerations": tolerations(args)},
    }
    if args.enable_secret_rotation:
        driver["rotationPollInterval"] = args.rotation_poll_interval
    return {"secrets-store-csi-driver": driver, "tolerations": tolerations(args)}


class SecretsStoreCsi(pulumi.ComponentResource):
    """The driver and ASCP; objects that need the driver should depend on `releases`
    (the two Helm releases, or the one EKS add-on)."""

    def __init__(
        self, name: str, args: SecretsStoreCsiArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:addons:SecretsStoreCsi", name, None, opts)
        if args.install_method == InstallMethod.EKS_ADDON:
            self.addon = aws.eks.Addon(
                f"{name}-addon",
                cluster_name=args.cluster_name,  # type: ignore[arg-type]
                addon_name=ASCP_ADDON,
                addon_version=args.addon_version or None,
                configuration_values=json.dumps(addon_configuration(args), sort_keys=True),
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
            )
            self.releases: list[pulumi.Resource] = [self.addon]
            self.register_outputs({})
            return
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
            # Side by side with the driver: nothing in the provider's install needs the
            # driver first (it only serves a socket the driver dials), so there is one Helm
            # wave less. Workloads that mount the volume wait for both (`releases`).
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.releases = [self.driver, self.provider]
        self.register_outputs({})
