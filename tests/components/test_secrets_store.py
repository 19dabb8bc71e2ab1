"""SecretsStoreCsi: one driver, pinned charts, both token audiences, nested values."""

import pulumi
import pytest

from components.secrets_store import (
    NAMESPACE,
    SecretsStoreCsi,
    SecretsStoreCsiArgs,
    Toleration,
    driver_values,
    provider_values,
)
from components.versions import SECRETS_STORE_CSI_DRIVER, SECRETS_STORE_PROVIDER_AWS

ARGS = SecretsStoreCsiArgs(
    aws_region="ap-southeast-1",
    enable_sync_secret=True,
    rotation_poll_interval="90s",
    tolerations=[
        Toleration("dedicated", "apps", "NoSchedule"),
        Toleration("gpu", "", "NoSchedule"),
    ],
)


def _dotted_keys(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            if "." in key:
                yield f"{path}{key}"
            yield from _dotted_keys(item, f"{path}{key}/")
    elif isinstance(value, list):
        for item in value:
            yield from _dotted_keys(item, path)


def test_driver_requests_tokens_for_irsa_and_pod_identity():
    assert driver_values(ARGS)["tokenRequests"] == [
        {"audience": "sts.amazonaws.com"},
        {"audience": "pods.eks.amazonaws.com"},
    ]


def test_rotation_and_sync_reach_the_driver():
    values = driver_values(ARGS)
    assert values["syncSecret"] == {"enabled": True}
    assert values["enableSecretRotation"] is True
    assert values["rotationPollInterval"] == "90s"


def test_daemonsets_tolerate_every_taint_by_default():
    assert driver_values(ARGS)["linux"]["tolerations"] == [{"operator": "Exists"}]
    assert provider_values(ARGS)["tolerations"] == [{"operator": "Exists"}]


def test_without_tolerate_every_taint_only_the_given_tolerations_apply():
    args = SecretsStoreCsiArgs(
        aws_region="eu-west-1",
        tolerate_every_taint=False,
        tolerations=ARGS.tolerations,
    )
    expected = [
        {"key": "dedicated", "operator": "Equal", "value": "apps", "effect": "NoSchedule"},
        {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert driver_values(args)["linux"]["tolerations"] == expected
    assert provider_values(args)["tolerations"] == expected


def test_no_poll_interval_without_rotation():
    values = driver_values(
        SecretsStoreCsiArgs(aws_region="eu-west-1", enable_secret_rotation=False)
    )
    assert values["enableSecretRotation"] is False
    assert "rotationPollInterval" not in values


def test_provider_does_not_install_a_second_driver():
    values = provider_values(ARGS)
    assert values["secrets-store-csi-driver"] == {"install": False}
    assert values["awsRegion"] == "ap-southeast-1"
    assert values["tolerations"] == driver_values(ARGS)["linux"]["tolerations"]


def test_values_are_nested_dicts_never_dotted_keys():
    assert list(_dotted_keys(driver_values(ARGS))) == []
    assert list(_dotted_keys(provider_values(ARGS))) == []


@pytest.fixture
def recorded(build):
    def program():
        waits_for = pulumi.CustomResource("test:index:NodeGroup", "nodes")
        SecretsStoreCsi(
            "csi", SecretsStoreCsiArgs(aws_region="ap-southeast-1", wait_for=[waits_for])
        )

    return build(program)


def test_both_charts_are_pinned_helm_v3_releases_in_kube_system(recorded):
    releases = {r.name: r.inputs for r in recorded.of_type("kubernetes:helm.sh/v3:Release")}
    assert set(releases) == {"csi-driver", "csi-aws-provider"}
    for release, pin in (
        (releases["csi-driver"], SECRETS_STORE_CSI_DRIVER),
        (releases["csi-aws-provider"], SECRETS_STORE_PROVIDER_AWS),
    ):
        assert release["chart"] == pin.chart
        assert release["version"] == pin.version
        assert release["repositoryOpts"] == {"repo": pin.repo}
        assert release["namespace"] == NAMESPACE


def test_driver_and_provider_install_side_by_side_after_the_nodes(recorded):
    driver = recorded.named("csi-driver")
    provider = recorded.named("csi-aws-provider")
    assert recorded.depends_on(driver, recorded.named("nodes"))
    assert recorded.depends_on(provider, recorded.named("nodes"))
    assert not recorded.depends_on(provider, driver)
    assert not recorded.depends_on(driver, provider)


def test_chart_pins_record_when_they_were_checked():
    for pin in (SECRETS_STORE_CSI_DRIVER, SECRETS_STORE_PROVIDER_AWS):
        assert pin.version.count(".") == 2 and pin.checked.year >= 2026


def test_every_supported_kubernetes_version_has_pinned_addon_builds():
    from components.versions import EKS_ADDON_VERSIONS, EKS_STANDARD_SUPPORT, addon_version

    for version in EKS_STANDARD_SUPPORT:
        for addon in ("vpc-cni", "kube-proxy", "coredns"):
            assert addon_version(version, addon).startswith("v"), (version, addon)
    assert set(EKS_ADDON_VERSIONS) == set(EKS_STANDARD_SUPPORT)
    with pytest.raises(ValueError, match=r"no pinned coredns add-on build for Kubernetes 1\.20"):
        addon_version("1.20", "coredns")
