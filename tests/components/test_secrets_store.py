"""SecretsStoreCsi: one driver, pinned charts, both token audiences, nested values."""

import pulumi
import pulumi_kubernetes as k8s
import pytest
from eksplatform.secrets_store import (
    NAMESPACE,
    SecretsStoreCsi,
    SecretsStoreCsiArgs,
    Toleration,
    driver_values,
    provider_values,
)
from eksplatform.versions import SECRETS_STORE_CSI_DRIVER, SECRETS_STORE_PROVIDER_AWS

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
    from eksplatform.versions import EKS_ADDON_VERSIONS, EKS_STANDARD_SUPPORT, addon_version

    for version in EKS_STANDARD_SUPPORT:
        for addon in (
            "vpc-cni",
            "kube-proxy",
            "coredns",
            "eks-pod-identity-agent",
            "aws-secrets-store-csi-driver-provider",
        ):
            assert addon_version(version, addon).startswith("v"), (version, addon)
    assert set(EKS_ADDON_VERSIONS) == set(EKS_STANDARD_SUPPORT)
    with pytest.raises(ValueError, match=r"no pinned coredns add-on build for Kubernetes 1\.20"):
        addon_version("1.20", "coredns")


def test_defaults_keep_the_release_names_and_namespace_running_stacks_have(recorded):
    """Changing a Helm release's `name` or `namespace` replaces it: the defaults must stay what
    every stack created before these Args existed."""
    driver = recorded.named("csi-driver").inputs
    provider = recorded.named("csi-aws-provider").inputs
    assert (driver["name"], driver["namespace"]) == ("secrets-store-csi-driver", "kube-system")
    assert (provider["name"], provider["namespace"]) == (
        "secrets-store-csi-driver-provider-aws",
        "kube-system",
    )


def test_namespace_and_release_names_reach_both_releases(build):
    def program():
        namespace = k8s.core.v1.Namespace("ns", metadata={"name": "secrets-store"})
        SecretsStoreCsi(
            "csi",
            SecretsStoreCsiArgs(
                aws_region="eu-west-1",
                namespace=namespace.metadata.name,
                driver_release_name="csi",
                provider_release_name="ascp",
            ),
        )

    recorded = build(program)
    driver = recorded.named("csi-driver")
    provider = recorded.named("csi-aws-provider")
    assert (driver.inputs["name"], driver.inputs["namespace"]) == ("csi", "secrets-store")
    assert (provider.inputs["name"], provider.inputs["namespace"]) == ("ascp", "secrets-store")
    assert recorded.depends_on(driver, recorded.named("ns"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespace": "Kube_System"}, "namespace 'Kube_System' must be a DNS-1123 label"),
        ({"driver_release_name": "CSI"}, "driver_release_name 'CSI' must be a Helm release name"),
        (
            {"provider_release_name": "a" * 54},
            "provider_release_name 'a{54}' must be a Helm release name: at most 53",
        ),
        (
            {"driver_release_name": "csi", "provider_release_name": "csi"},
            "driver_release_name and provider_release_name are both 'csi'",
        ),
    ],
)
def test_namespace_and_release_names_are_validated(overrides, message):
    with pytest.raises(ValueError, match=message):
        SecretsStoreCsiArgs(aws_region="eu-west-1", **overrides)


def test_a_53_character_release_name_is_allowed():
    assert SecretsStoreCsiArgs(aws_region="eu-west-1", driver_release_name="a" * 53)


def test_extra_values_merge_over_ours_key_by_key():
    args = SecretsStoreCsiArgs(
        aws_region="eu-west-1",
        driver_values={
            "logVerbosity": 2,
            "linux": {
                "priorityClassName": "system-node-critical",
                "crds": {"resources": {"limits": {"memory": "256Mi"}}},
            },
        },
        provider_values={"priorityClassName": "system-node-critical", "resources": {}},
    )
    driver = driver_values(args)
    assert driver["logVerbosity"] == 2
    assert driver["linux"]["priorityClassName"] == "system-node-critical"
    assert driver["linux"]["crds"]["resources"] == {
        "requests": {"cpu": "10m", "memory": "32Mi"},
        "limits": {"cpu": "100m", "memory": "256Mi"},
    }, "theirs win, map by map, where a key is not kept"
    assert driver["linux"]["tolerations"] == [{"operator": "Exists"}], "ours stay beside theirs"
    assert driver["tokenRequests"] == driver_values(ARGS)["tokenRequests"]
    provider = provider_values(args)
    assert provider["priorityClassName"] == "system-node-critical"
    assert provider["securityContext"]["readOnlyRootFilesystem"] is True
    assert provider["secrets-store-csi-driver"] == {"install": False}


def test_extra_values_are_not_modified_by_the_merge():
    extra = {"linux": {"priorityClassName": "a"}}
    args = SecretsStoreCsiArgs(aws_region="eu-west-1", driver_values=extra)
    driver_values(args)["linux"]["priorityClassName"] = "b"
    assert extra == {"linux": {"priorityClassName": "a"}}
    assert driver_values(args)["linux"]["priorityClassName"] == "a"


@pytest.mark.parametrize(
    ("field", "values", "path"),
    [
        ("driver_values", {"tokenRequests": []}, "tokenRequests"),
        ("driver_values", {"syncSecret": {"enabled": True}}, "syncSecret"),
        ("driver_values", {"enableSecretRotation": False}, "enableSecretRotation"),
        ("driver_values", {"rotationPollInterval": "1s"}, "rotationPollInterval"),
        ("driver_values", {"linux": {"tolerations": []}}, "linux.tolerations"),
        ("driver_values", {"linux": None}, "linux.tolerations"),
        ("provider_values", {"securityContext": {"privileged": True}}, "securityContext"),
        (
            "provider_values",
            {"secrets-store-csi-driver": {"install": True}},
            "secrets-store-csi-driver",
        ),
        ("provider_values", {"awsRegion": "us-east-1"}, "awsRegion"),
        ("provider_values", {"tolerations": []}, "tolerations"),
    ],
)
def test_extra_values_cannot_change_the_keys_we_keep(field, values, path):
    with pytest.raises(ValueError, match=f"{field} sets '{path}', which SecretsStoreCsi keeps"):
        SecretsStoreCsiArgs(aws_region="eu-west-1", **{field: values})


def test_every_kept_key_is_one_we_set():
    from eksplatform.secrets_store import PROTECTED_DRIVER_VALUES, PROTECTED_PROVIDER_VALUES

    def has(values, path):
        for key in path.split("."):
            if not isinstance(values, dict) or key not in values:
                return False
            values = values[key]
        return True

    assert all(has(driver_values(ARGS), p) for p in PROTECTED_DRIVER_VALUES)
    assert all(has(provider_values(ARGS), p) for p in PROTECTED_PROVIDER_VALUES)


def test_an_extra_value_may_be_an_output(build):
    def program():
        priority = k8s.scheduling.v1.PriorityClass(
            "priority", metadata={"name": "secrets-critical"}, value=1000
        )
        SecretsStoreCsi(
            "csi",
            SecretsStoreCsiArgs(
                aws_region="eu-west-1",
                driver_values={"linux": {"priorityClassName": priority.metadata.name}},
            ),
        )

    recorded = build(program)
    driver = recorded.named("csi-driver")
    assert driver.inputs["values"]["linux"]["priorityClassName"] == "secrets-critical"
    assert driver.inputs["values"]["linux"]["tolerations"] == [{"operator": "Exists"}]
    assert recorded.depends_on(driver, recorded.named("priority"))
