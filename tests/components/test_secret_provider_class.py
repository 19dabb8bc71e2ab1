"""SecretProviderClass: objects YAML, aliases and jmesPath files, sync to a Secret."""

import pytest
import yaml
from eksplatform.secret_provider_class import (
    API_VERSION,
    JmesPath,
    SecretObject,
    SecretProviderClass,
    SecretProviderClassArgs,
    SyncedSecret,
    file_names,
    secret_provider_class_spec,
)

CREDS = SecretObject(
    "demo-app-credentials",
    jmes_path=[JmesPath("username", "username"), JmesPath("password", "password")],
)
BY_ARN = SecretObject(
    "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:shared-AbCdEf",
    object_alias="shared",
)


def test_objects_are_a_yaml_string_the_aws_provider_reads():
    spec = secret_provider_class_spec([CREDS, BY_ARN], region="ap-southeast-1")
    assert spec["provider"] == "aws"
    assert spec["parameters"]["region"] == "ap-southeast-1"
    assert yaml.safe_load(spec["parameters"]["objects"]) == [
        {
            "objectName": "demo-app-credentials",
            "objectType": "secretsmanager",
            "jmesPath": [
                {"path": "username", "objectAlias": "username"},
                {"path": "password", "objectAlias": "password"},
            ],
        },
        {
            "objectName": BY_ARN.object_name,
            "objectType": "secretsmanager",
            "objectAlias": "shared",
        },
    ]
    assert "secretObjects" not in spec
    assert "usePodIdentity" not in spec["parameters"]


def test_every_json_key_and_secret_becomes_a_file():
    assert file_names([CREDS, BY_ARN]) == ["demo-app-credentials", "username", "password", "shared"]


def test_colliding_file_names_are_refused():
    clash = SecretObject("other", jmes_path=[JmesPath("user", "username")])
    with pytest.raises(ValueError, match=r"mounted file names collide: \['username'\]"):
        secret_provider_class_spec([CREDS, clash], region="ap-southeast-1")


def test_synced_secret_maps_files_to_keys():
    synced = SyncedSecret("creds", [("username", "username"), ("password", "password")])
    spec = secret_provider_class_spec([CREDS], region="eu-west-1", synced_secrets=[synced])
    assert spec["secretObjects"] == [
        {
            "secretName": "creds",
            "type": "Opaque",
            "data": [
                {"key": "username", "objectName": "username"},
                {"key": "password", "objectName": "password"},
            ],
        }
    ]


def test_synced_secret_cannot_read_a_file_that_is_not_mounted():
    synced = SyncedSecret("creds", [("token", "token")])
    with pytest.raises(ValueError, match=r"reads unknown files \['token'\]"):
        secret_provider_class_spec([CREDS], region="eu-west-1", synced_secrets=[synced])


def test_unknown_object_type_is_refused():
    with pytest.raises(ValueError, match="object_type 'vault' is not one of"):
        SecretObject("x", object_type="vault")


def test_component_registers_the_v1_custom_resource(build):
    args = SecretProviderClassArgs(
        namespace="secrets-demo", class_name="demo-aws", objects=[CREDS], region="ap-southeast-1"
    )
    rec = build(lambda: SecretProviderClass("spc", args))
    spc = rec.named("spc-spc")
    assert spc.type == "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
    assert spc.inputs["apiVersion"] == API_VERSION
    assert spc.inputs["metadata"]["namespace"] == "secrets-demo"
    assert spc.inputs["spec"]["parameters"]["objects"].startswith(
        "- objectName: demo-app-credentials"
    )
