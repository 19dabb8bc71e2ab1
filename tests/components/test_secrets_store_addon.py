"""ASCP as the `aws-secrets-store-csi-driver-provider` EKS add-on instead of the Helm charts."""

import json

import pulumi
import pytest
from eksplatform.secrets_store import (
    ASCP_ADDON,
    SecretsStoreCsi,
    SecretsStoreCsiArgs,
    Toleration,
    addon_configuration,
)
from eksplatform.versions import EKS_ADDON_VERSIONS


def _args(**overrides):
    values = dict(
        aws_region="ap-southeast-1",
        install_method="eks-addon",
        cluster_name="eks-secrets-dev",
        kubernetes_version="1.36",
        enable_sync_secret=True,
        rotation_poll_interval="90s",
    )
    values.update(overrides)
    return SecretsStoreCsiArgs(**values)


def test_addon_replaces_both_helm_releases_and_waits_for_the_nodes(build):
    holder = {}

    def program():
        nodes = pulumi.CustomResource("test:index:Nodes", "nodes", {})
        holder["csi"] = SecretsStoreCsi("secrets-store", _args(wait_for=[nodes]))

    rec = build(program)
    assert not rec.of_type("kubernetes:helm.sh/v3:Release")
    addon = rec.named("secrets-store-addon")
    assert addon.type == "aws:eks/addon:Addon"
    assert addon.inputs["addonName"] == ASCP_ADDON == "aws-secrets-store-csi-driver-provider"
    assert addon.inputs["clusterName"] == "eks-secrets-dev"
    assert addon.inputs["addonVersion"] == EKS_ADDON_VERSIONS["1.36"][ASCP_ADDON]
    assert json.loads(addon.inputs["configurationValues"]) == {
        "secrets-store-csi-driver": {
            "syncSecret": {"enabled": True},
            "enableSecretRotation": True,
            "rotationPollInterval": "90s",
            "tokenRequests": [
                {"audience": "sts.amazonaws.com"},
                {"audience": "pods.eks.amazonaws.com"},
            ],
            "linux": {"tolerations": [{"operator": "Exists"}]},
        },
        "tolerations": [{"operator": "Exists"}],
    }
    assert rec.depends_on(addon, rec.named("nodes"))
    assert holder["csi"].releases == [holder["csi"].addon]


def test_addon_configuration_carries_tolerations_to_driver_and_provider():
    config = addon_configuration(
        _args(
            tolerate_every_taint=False,
            tolerations=[Toleration("dedicated", "apps", "NoSchedule")],
            enable_secret_rotation=False,
        )
    )
    toleration = {"key": "dedicated", "operator": "Equal", "value": "apps", "effect": "NoSchedule"}
    assert config["secrets-store-csi-driver"]["linux"] == {"tolerations": [toleration]}
    assert config["tolerations"] == [toleration]
    assert "rotationPollInterval" not in config["secrets-store-csi-driver"]


def test_addon_configuration_requests_the_same_audiences_as_the_helm_driver():
    from eksplatform.secrets_store import driver_values

    args = _args()
    assert (
        addon_configuration(args)["secrets-store-csi-driver"]["tokenRequests"]
        == driver_values(args)["tokenRequests"]
    )


def test_a_given_addon_build_wins_over_the_pin():
    args = _args(kubernetes_version="1.30", addon_version="v3.1.1-eksbuild.2")
    assert args.addon_build() == "v3.1.1-eksbuild.2"


def test_helm_needs_no_addon_pin():
    assert SecretsStoreCsiArgs(aws_region="ap-southeast-1", kubernetes_version="1.30")


def test_helm_stays_the_default_install_method():
    assert SecretsStoreCsiArgs(aws_region="ap-southeast-1").install_method == "helm"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"install_method": "kustomize"},
            "'kustomize' is not a valid InstallMethod",
        ),
        ({"cluster_name": None}, "install_method 'eks-addon' needs cluster_name"),
        (
            {"kubernetes_version": ""},
            "install_method 'eks-addon' needs kubernetes_version .to pick the pinned build. or "
            "addon_version",
        ),
        (
            {"kubernetes_version": "1.30"},
            "no pinned aws-secrets-store-csi-driver-provider add-on build for Kubernetes 1.30",
        ),
    ],
)
def test_install_method_is_validated(overrides, message):
    with pytest.raises(ValueError, match=message):
        _args(**overrides)


def test_extra_values_reach_the_addon_configuration_where_the_chart_keeps_them():
    config = addon_configuration(
        _args(
            driver_values={"logVerbosity": 2},
            provider_values={"priorityClassName": "system-node-critical"},
        )
    )
    assert config["priorityClassName"] == "system-node-critical"
    assert config["secrets-store-csi-driver"]["logVerbosity"] == 2
    assert config["secrets-store-csi-driver"]["tokenRequests"] == [
        {"audience": "sts.amazonaws.com"},
        {"audience": "pods.eks.amazonaws.com"},
    ]
    assert config["tolerations"] == [{"operator": "Exists"}]
