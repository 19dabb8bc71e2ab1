"""The Secrets Store CSI driver and its AWS provider (ASCP), from pinned Helm charts (default)
or as the `aws-secrets-store-csi-driver-provider` EKS add-on.

With Helm the driver is installed from its own chart and ASCP's bundled copy is switched
off, so there is exactly one driver, configured here. Helm v3 `Release` is used rather than
`helm.v4.Chart` because the driver chart relies on Helm hooks (CRD upgrade) that v4 skips.

The EKS add-on (generally available since November 2025) packages ASCP's chart with the
driver as a sub-chart, so it replaces both releases; its configuration values follow the
chart's (`secrets-store-csi-driver.*` for the driver). EKS publishes add-on builds per
Kubernetes version; the build is pinned per version in versions.EKS_ADDON_VERSIONS (with the
evidence that it exists), and `aws eks describe-addon-versions --addon-name
aws-secrets-store-csi-driver-provider --kubernetes-version <v>` is the check before a new row.

Callers add chart values (`driver_values`, `provider_values`), merged over ours as Helm merges
a values file: theirs win, map by map. A few keys stay ours (PROTECTED_DRIVER_VALUES,
PROTECTED_PROVIDER_VALUES): the token audiences, Secret syncing, the ASCP container's security
context, the single driver, and what an Args field already sets. Setting one fails at
construction rather than being dropped or silently loosening the install.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .chart_values import check_values
from .modes import InstallMethod
from .validation import check_dns1123_label
from .versions import (
    SECRETS_STORE_CSI_DRIVER,
    SECRETS_STORE_PROVIDER_AWS,
    ChartPin,
    addon_version,
)

NAMESPACE = "kube-system"
"""Where both releases go by default, as ASCP's and the driver's install guides put them."""
DRIVER_RELEASE = "secrets-store-csi-driver"
PROVIDER_RELEASE = "secrets-store-csi-driver-provider-aws"
HELM_RELEASE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
HELM_RELEASE_NAME_MAX = 53
"""Helm v3 `chartutil.ValidateReleaseName` (helm/helm pkg/chartutil/validate_name.go): the
DNS-1123 subdomain pattern and at most 53 characters, leaving 10 for the suffixes charts add to
object names under Kubernetes' 63."""
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

PROTECTED_DRIVER_VALUES: dict[str, str] = {
    "tokenRequests": "the audiences ASCP needs for IRSA and Pod Identity (TOKEN_AUDIENCES)",
    "syncSecret": "set by enable_sync_secret (it grants the driver create on Secrets)",
    "enableSecretRotation": "set by enable_secret_rotation",
    "rotationPollInterval": "set by rotation_poll_interval",
    "linux.tolerations": "set by tolerate_every_taint and tolerations",
}
"""Driver chart values that stay ours whatever `driver_values` says: they are security-relevant
(which tokens the driver hands providers, whether it may write Secrets) or have an Args field,
so a setting has one way in. Setting one in `driver_values` is an error, not a silent loss."""
PROTECTED_PROVIDER_VALUES: dict[str, str] = {
    "securityContext": "the ASCP container's tightened context (see provider_values)",
    "secrets-store-csi-driver": "the driver is configured through driver_values",
    "awsRegion": "set by aws_region",
    "tolerations": "set by tolerate_every_taint and tolerations",
}
"""ASCP chart values that stay ours whatever `provider_values` says, for the same reasons."""


def protected_paths_set(values: Mapping[str, Any], protected: Mapping[str, str]) -> list[str]:
    """The protected dotted paths that `values` would change when merged over ours: the path
    itself, anything below it, or a non-map value replacing a map above it."""
    clashes = []
    for path in protected:
        keys = path.split(".")
        node: Any = values
        for depth, key in enumerate(keys, start=1):
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
            if depth < len(keys) and not isinstance(node, Mapping):
                clashes.append(path)
                break
        else:
            clashes.append(path)
    return clashes


def _copy_containers(value: Any) -> Any:
    """Maps and lists copied, leaves shared: a leaf may be a Pulumi Output, which is not
    copyable."""
    if isinstance(value, Mapping):
        return {k: _copy_containers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_containers(v) for v in value]
    return value


def merge_values(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    """`theirs` deep-merged over `ours`, as Helm merges a values file over a chart's defaults:
    maps merge key by key, anything else (lists included) is replaced. Neither is modified."""
    merged: dict[str, Any] = _copy_containers(ours)
    for key, value in theirs.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = _copy_containers(value)
    return merged


def check_helm_release_name(value: str) -> str | None:
    if len(value) > HELM_RELEASE_NAME_MAX or not HELM_RELEASE_NAME.fullmatch(value):
        return (
            f"must be a Helm release name: at most {HELM_RELEASE_NAME_MAX} characters, "
            "dot-separated DNS-1123 labels (lowercase letters, digits, '-')"
        )
    return None


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
    """HELM (the two pinned charts), EKS_ADDON (the ASCP add-on, driver included) or NONE
    (the cluster already runs both; nothing is installed and `releases` is empty).
    Default: HELM."""
    cluster_name: pulumi.Input[str] | None = None
    """The cluster, an Output that resolves once it exists; EKS_ADDON only. Default: None."""
    kubernetes_version: str = ""
    """The cluster's `major.minor`; EKS_ADDON picks the pinned ASCP build for it from
    versions.EKS_ADDON_VERSIONS. Default: empty; EKS_ADDON then needs `addon_version`."""
    addon_version: str = ""
    """An ASCP add-on build (EKS_ADDON only), for a version without a pinned one or a cluster
    already on a newer build. Default: empty, the pinned build for `kubernetes_version`."""
    namespace: pulumi.Input[str] = NAMESPACE
    """Namespace of both Helm releases (HELM only: the add-on always installs into
    kube-system). It must exist and admit privileged pods (Pod Security `privileged`: the
    driver's node plugin is privileged). May be the Output of an existing Namespace; a plain
    value must be a DNS-1123 label. Changing it on a running stack replaces both releases.
    Default: kube-system."""
    driver_release_name: str = DRIVER_RELEASE
    """Helm release name of the driver (HELM only; at most 53 characters). Default:
    secrets-store-csi-driver."""
    provider_release_name: str = PROVIDER_RELEASE
    """Helm release name of ASCP (HELM only; at most 53 characters). Default:
    secrets-store-csi-driver-provider-aws."""
    driver_values: Mapping[str, Any] = field(default_factory=dict)
    """Extra values of the secrets-store-csi-driver chart, deep-merged over ours (theirs win),
    except the PROTECTED_DRIVER_VALUES, which raise. HELM: a key the pinned chart's values do
    not have raises (Helm would ignore it silently; eksplatform.chart_values). EKS_ADDON:
    merged under the add-on configuration's `secrets-store-csi-driver`, whose schema is EKS's
    (`aws eks describe-addon-configuration`), not checked here. Default: none."""
    provider_values: Mapping[str, Any] = field(default_factory=dict)
    """Extra values of the ASCP chart, deep-merged over ours (theirs win), except the
    PROTECTED_PROVIDER_VALUES, which raise. HELM: a key the pinned chart's values do not have
    raises. EKS_ADDON: merged over the add-on configuration (EKS's schema, not checked here).
    Default: none."""

    def __post_init__(self) -> None:
        if InstallMethod(self.install_method) == InstallMethod.EKS_ADDON:
            if not self.cluster_name:
                raise ValueError("install_method 'eks-addon' needs cluster_name")
            if not (self.addon_version or self.kubernetes_version):
                raise ValueError(
                    "install_method 'eks-addon' needs kubernetes_version (to pick the pinned "
                    "build) or addon_version; EKS's default build changes under a running stack"
                )
            self.addon_build()
        if isinstance(self.namespace, str) and (problem := check_dns1123_label(self.namespace)):
            raise ValueError(f"namespace {self.namespace!r} {problem}")
        for field_name in ("driver_release_name", "provider_release_name"):
            value = getattr(self, field_name)
            if problem := check_helm_release_name(value):
                raise ValueError(f"{field_name} {value!r} {problem}")
        if self.driver_release_name == self.provider_release_name:
            raise ValueError(
                f"driver_release_name and provider_release_name are both "
                f"{self.driver_release_name!r}; two releases in one namespace need two names"
            )
        for field_name, protected in (
            ("driver_values", PROTECTED_DRIVER_VALUES),
            ("provider_values", PROTECTED_PROVIDER_VALUES),
        ):
            for path in protected_paths_set(getattr(self, field_name), protected):
                raise ValueError(
                    f"{field_name} sets {path!r}, which SecretsStoreCsi keeps: {protected[path]}"
                )
        if InstallMethod(self.install_method) == InstallMethod.HELM:
            check_values("driver_values", self.driver_chart, self.driver_values)
            check_values("provider_values", self.provider_chart, self.provider_values)

    def addon_build(self) -> str:
        """The ASCP add-on build: `addon_version`, else the pin for `kubernetes_version`."""
        return self.addon_version or addon_version(self.kubernetes_version, ASCP_ADDON)


def tolerations(args: SecretsStoreCsiArgs) -> list[dict[str, str]]:
    """The DaemonSets' tolerations: every taint by default, else exactly the given ones."""
    if args.tolerate_every_taint:
        return [dict(TOLERATE_EVERY_TAINT)]
    return [t.as_dict() for t in args.tolerations]


def token_requests() -> list[dict[str, str]]:
    return [{"audience": audience} for audience in TOKEN_AUDIENCES]


def driver_values(args: SecretsStoreCsiArgs) -> dict[str, Any]:
    """Values of the secrets-store-csi-driver chart, as nested dicts: ours, with the caller's
    `driver_values` merged over them."""
    return merge_values(_our_driver_values(args), args.driver_values)


def _our_driver_values(args: SecretsStoreCsiArgs) -> dict[str, Any]:
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
    """Values of the ASCP chart: ours (`_our_provider_values`), with the caller's
    `provider_values` merged over them."""
    return merge_values(_our_provider_values(args), args.provider_values)


def _our_provider_values(args: SecretsStoreCsiArgs) -> dict[str, Any]:
    """Ours: ASCP's bundled driver is off because we install our own.

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
    ours = {"secrets-store-csi-driver": driver, "tolerations": tolerations(args)}
    theirs = {**args.provider_values}
    if args.driver_values:
        theirs["secrets-store-csi-driver"] = dict(args.driver_values)
    return merge_values(ours, theirs)


class SecretsStoreCsi(pulumi.ComponentResource):
    """The driver and ASCP; objects that need the driver should depend on `releases`
    (the two Helm releases, or the one EKS add-on)."""

    def __init__(
        self, name: str, args: SecretsStoreCsiArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:addons:SecretsStoreCsi", name, None, opts)
        self.releases: list[pulumi.Resource]
        if args.install_method == InstallMethod.NONE:
            # The cluster already runs both: nothing to install, nothing to wait for.
            self.releases = []
            self.register_outputs({})
            return
        if args.install_method == InstallMethod.EKS_ADDON:
            self.addon = aws.eks.Addon(
                f"{name}-addon",
                cluster_name=args.cluster_name,  # type: ignore[arg-type]
                addon_name=ASCP_ADDON,
                addon_version=args.addon_build(),
                configuration_values=json.dumps(addon_configuration(args), sort_keys=True),
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
            )
            self.releases = [self.addon]
            self.register_outputs({})
            return
        self.driver = k8s.helm.v3.Release(
            f"{name}-driver",
            name=args.driver_release_name,
            chart=args.driver_chart.chart,
            version=args.driver_chart.version,
            repository_opts={"repo": args.driver_chart.repo},
            namespace=args.namespace,
            values=driver_values(args),
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.provider = k8s.helm.v3.Release(
            f"{name}-aws-provider",
            name=args.provider_release_name,
            chart=args.provider_chart.chart,
            version=args.provider_chart.version,
            repository_opts={"repo": args.provider_chart.repo},
            namespace=args.namespace,
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
