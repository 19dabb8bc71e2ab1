"""SecretProviderClass parameters in each mode: IRSA, Pod Identity, failover, SSM parameters."""

import pytest
import yaml
from eksplatform.secret_provider_class import (
    JmesPath,
    SecretObject,
    file_names,
    secret_provider_class_spec,
)

CREDS = SecretObject(
    "demo-app-credentials",
    jmes_path=[JmesPath("username", "username"), JmesPath("password", "password")],
)
PARAMETER = SecretObject("/app/db-url", object_type="ssmparameter")
ALIASED_PARAMETER = SecretObject(
    "/app/config",
    object_type="ssmparameter",
    object_alias="config.json",
    jmes_path=[JmesPath("log.level", "log-level")],
)


def test_irsa_mode_sets_only_objects_and_region():
    spec = secret_provider_class_spec([CREDS], region="ap-southeast-1")
    assert spec == {
        "provider": "aws",
        "parameters": {
            "objects": (
                "- objectName: demo-app-credentials\n"
                "  objectType: secretsmanager\n"
                "  jmesPath:\n"
                "  - path: username\n"
                "    objectAlias: username\n"
                "  - path: password\n"
                "    objectAlias: password\n"
            ),
            "region": "ap-southeast-1",
        },
    }


def test_pod_identity_mode_adds_use_pod_identity_as_a_string():
    parameters = secret_provider_class_spec(
        [CREDS], region="ap-southeast-1", use_pod_identity=True
    )["parameters"]
    assert parameters["usePodIdentity"] == "true"
    assert set(parameters) == {"objects", "region", "usePodIdentity"}


def test_failover_mode_names_the_second_region():
    parameters = secret_provider_class_spec(
        [CREDS], region="ap-southeast-1", failover_region="ap-southeast-2", use_pod_identity=True
    )["parameters"]
    assert parameters["region"] == "ap-southeast-1"
    assert parameters["failoverRegion"] == "ap-southeast-2"
    assert parameters["usePodIdentity"] == "true"


def test_failover_region_must_differ_from_the_region():
    with pytest.raises(ValueError, match="failover_region 'ap-southeast-1' must differ"):
        secret_provider_class_spec(
            [CREDS], region="ap-southeast-1", failover_region="ap-southeast-1"
        )


def test_ssm_parameters_render_with_their_type_alias_and_jmes_path():
    objects = yaml.safe_load(
        secret_provider_class_spec([PARAMETER, ALIASED_PARAMETER], region="eu-west-1")[
            "parameters"
        ]["objects"]
    )
    assert objects == [
        {"objectName": "/app/db-url", "objectType": "ssmparameter"},
        {
            "objectName": "/app/config",
            "objectType": "ssmparameter",
            "objectAlias": "config.json",
            "jmesPath": [{"path": "log.level", "objectAlias": "log-level"}],
        },
    ]


def test_file_names_follow_ascp_path_translation():
    assert file_names([PARAMETER, ALIASED_PARAMETER]) == [
        "_app_db-url",
        "config.json",
        "log-level",
    ]
