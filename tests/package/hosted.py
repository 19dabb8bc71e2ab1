"""One instance of each hosted adapter (components/provider.py), built with the dict inputs the
provider passes to it (Python field names, as ComponentProvider.map_inputs makes them)."""

from __future__ import annotations

from eksplatform import provider
from eksplatform.modes import InstallMethod

OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"


def build_hosted() -> list[object]:
    return [
        provider.IrsaRole(
            "hosted-irsa",
            {
                "oidc_provider_arn": OIDC_ARN,
                "oidc_issuer": "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC",
                "namespace": "team-a",
                "service_account": "api",
                "policy_arns": ["arn:aws:iam::123456789012:policy/read"],
            },
        ),
        provider.PodIdentityRole(
            "hosted-pod-identity",
            {"cluster_name": "eks-dev", "namespace": "team-a", "service_account": "worker"},
        ),
        provider.SecretProviderClass(
            "hosted-spc",
            {
                "namespace": "team-a",
                "class_name": "api-secrets",
                "objects": [
                    {
                        "object_name": "team-a/db",
                        "jmes_path": [{"path": "password", "object_alias": "db-password"}],
                    }
                ],
                "region": "ap-southeast-1",
                "synced_secrets": [{"secret_name": "db", "data": {"password": "db-password"}}],
            },
        ),
        provider.SecretsStoreCsi(
            "hosted-csi",
            {
                "aws_region": "ap-southeast-1",
                "tolerate_every_taint": False,
                "tolerations": [{"key": "gpu", "value": "", "effect": "NoSchedule"}],
                "install_method": InstallMethod.HELM,
                "namespace": "secrets-store",
                "driver_release_name": "csi",
                "provider_release_name": "ascp",
                "driver_values": {"logVerbosity": 2},
                "provider_values": {"priorityClassName": "system-node-critical"},
            },
        ),
        provider.ManagedSecret(
            "hosted-secret", {"secret_name": "team-a/api-key", "value": "not-a-real-value"}
        ),
        provider.NamespaceBaseline("hosted-ns", {"name": "team-b", "deny_egress": False}),
    ]


def tolerations_in(values: object) -> list[object]:
    """Every `tolerations` list anywhere in a chart's values."""
    found: list[object] = []
    if isinstance(values, dict):
        for key, value in values.items():
            found += [value] if key == "tolerations" else tolerations_in(value)
    elif isinstance(values, list):
        for item in values:
            found += tolerations_in(item)
    return found
