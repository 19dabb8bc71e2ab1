"""Every mode a stack can choose, as one Enum each: the config layer offers their values,
the components branch on them. The values are the spellings users write in stack config.

`StrEnum` members are `str`s, so they serialise to Pulumi inputs and manifests as is.
"""

from __future__ import annotations

from enum import StrEnum


class IdentityMode(StrEnum):
    """How a workload's pods get AWS credentials to read their secrets."""

    IRSA = "irsa"
    """IAM Roles for Service Accounts: an OIDC trust pinned to the service account."""
    POD_IDENTITY = "pod-identity"
    """EKS Pod Identity with a role of its own."""
    POD_IDENTITY_ABAC = "pod-identity-abac"
    """EKS Pod Identity with the stack's one shared role, scoped by namespace session tags."""


class SecretType(StrEnum):
    SECRETS_MANAGER = "secretsmanager"
    SSM_PARAMETER = "ssmparameter"
    """An SSM Parameter Store SecureString."""


class NatGatewayMode(StrEnum):
    SINGLE = "single"
    """One NAT gateway for the VPC: cheap, one AZ of failure."""
    PER_AZ = "per-az"


class CapacityType(StrEnum):
    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class InstallMethod(StrEnum):
    """How the Secrets Store CSI driver and ASCP are installed."""

    HELM = "helm"
    """The two pinned Helm charts."""
    EKS_ADDON = "eks-addon"
    """The aws-secrets-store-csi-driver-provider EKS add-on, driver included."""
    NONE = "none"
    """Nothing: the cluster already runs the driver and ASCP (an existing cluster only)."""


class OidcProviderMode(StrEnum):
    """How an existing cluster's IAM OIDC provider (IRSA's trust) is had."""

    FIND = "find"
    """Read the one the cluster already has; the run fails when there is none."""
    CREATE = "create"
    """Create it with the stack (and delete it on destroy)."""


class ServiceType(StrEnum):
    CLUSTER_IP = "ClusterIP"
    LOAD_BALANCER = "LoadBalancer"


class LoadBalancerScheme(StrEnum):
    INTERNAL = "internal"
    INTERNET_FACING = "internet-facing"


class InitContainerSource(StrEnum):
    CONFIGMAP = "configmap"
    """Copy a page from a ConfigMap: no network needed."""
    GIT = "git"
    """Shallow-clone a public repository."""


class AppWorkload(StrEnum):
    """The built-in workload an application entry may ask for."""

    NONE = "none"
    """The team deploys its own pods with the ServiceAccount and SecretProviderClass."""
    NGINX_DEMO = "nginx-demo"
    """An unprivileged nginx that mounts the app's secrets at /mnt/secrets-store."""
