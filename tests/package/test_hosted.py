"""The hosted adapters hand other languages' inputs to the one Python implementation intact."""

from __future__ import annotations

import pytest
import yaml
from eksplatform import provider

from tests.package.hosted import build_hosted, tolerations_in


def by_key(recorder) -> dict[tuple[str, str], dict]:
    return {(r.type, r.name): r.inputs for r in recorder.resources}


def test_hosted_secret_provider_class_keeps_jmes_paths_and_synced_secrets(build):
    resources = by_key(build(build_hosted))
    spec = resources[
        ("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "hosted-spc-spc")
    ]["spec"]
    (obj,) = yaml.safe_load(spec["parameters"]["objects"])
    assert obj["jmesPath"] == [{"path": "password", "objectAlias": "db-password"}]
    assert spec["secretObjects"][0]["data"] == [{"key": "password", "objectName": "db-password"}]


def test_hosted_secrets_store_csi_passes_its_tolerations_to_both_releases(build):
    resources = by_key(build(build_hosted))
    releases = [v for (t, _), v in resources.items() if t == "kubernetes:helm.sh/v3:Release"]
    assert len(releases) == 2
    gpu_only = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    for release in releases:
        found = tolerations_in(release["values"])
        assert found
        assert all(t == gpu_only for t in found)


def test_hosted_secrets_store_csi_passes_namespace_release_names_and_extra_values(build):
    resources = by_key(build(build_hosted))
    driver = resources[("kubernetes:helm.sh/v3:Release", "hosted-csi-driver")]
    provider_ = resources[("kubernetes:helm.sh/v3:Release", "hosted-csi-aws-provider")]
    assert (driver["name"], driver["namespace"]) == ("csi", "secrets-store")
    assert (provider_["name"], provider_["namespace"]) == ("ascp", "secrets-store")
    assert driver["values"]["logVerbosity"] == 2
    assert driver["values"]["tokenRequests"], "ours stay beside theirs"
    assert provider_["values"]["priorityClassName"] == "system-node-critical"


def test_hosted_components_register_the_index_type_the_engine_asks_for(build):
    types = {(r.type, r.name) for r in build(build_hosted).resources}
    for cls in provider.HOSTED:
        assert any(t == f"eksplatform:index:{cls.__name__}" for t, _ in types), cls.__name__


def test_hosted_inputs_are_still_validated_by_the_python_args():
    with pytest.raises(ValueError, match="namespace 'Team_A'"):
        provider.IrsaRole(
            "bad",
            {
                "oidc_provider_arn": "arn",
                "oidc_issuer": "issuer",
                "namespace": "Team_A",
                "service_account": "api",
            },
        )
