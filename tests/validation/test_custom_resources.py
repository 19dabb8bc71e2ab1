"""SecretProviderClasses pass our schema of SPC v1 for ASCP (the `objects` YAML included);
ServiceMonitors and other prometheus-operator objects pass cloudcoil's models, strictly."""

from __future__ import annotations

import copy

import yaml

from tests.validation.conftest import require
from tools import gate

SPC = {
    "apiVersion": "secrets-store.csi.x-k8s.io/v1",
    "kind": "SecretProviderClass",
    "metadata": {"name": "app-aws", "namespace": "shop"},
    "spec": {
        "provider": "aws",
        "parameters": {
            "region": "ap-southeast-1",
            "objects": yaml.safe_dump(
                [
                    {
                        "objectName": "app-credentials",
                        "objectType": "secretsmanager",
                        "jmesPath": [{"path": "password", "objectAlias": "password"}],
                    }
                ]
            ),
        },
        "secretObjects": [
            {
                "secretName": "app-synced",
                "type": "Opaque",
                "data": [{"key": "password", "objectName": "password"}],
            }
        ],
    },
}
SERVICE_MONITOR = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "redis", "namespace": "shop"},
    "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "redis"}},
        "endpoints": [{"port": "metrics", "interval": "30s", "path": "/metrics"}],
    },
}


def _with_objects(objects: object) -> dict:
    spc = copy.deepcopy(SPC)
    spc["spec"]["parameters"]["objects"] = (
        objects if isinstance(objects, str) else yaml.safe_dump(objects)
    )
    return spc


def _of_groups(rendered, *groups: str) -> dict:
    return {
        path: m
        for path, m in rendered.manifests.items()
        if m["apiVersion"].rpartition("/")[0] in groups
    }


# --- the render of every stack ---------------------------------------------------------------


def test_every_secret_provider_class_passes_our_schema(rendered):
    classes = _of_groups(rendered, "secrets-store.csi.x-k8s.io")
    require(rendered, classes, "SecretProviderClass")
    errors = [
        e
        for path, m in classes.items()
        for e in gate.secret_provider_class_errors(m, gate.describe(path, m))
    ]
    assert not errors, "\n".join(errors)


def test_every_prometheus_operator_object_passes_its_model(rendered):
    objects = _of_groups(rendered, "monitoring.coreos.com")
    require(rendered, objects, "prometheus-operator object")
    errors = [
        e
        for path, m in objects.items()
        for e in gate.prometheus_operator_errors(m, gate.describe(path, m))
    ]
    assert not errors, "\n".join(errors)


# --- each validator can fail -----------------------------------------------------------------


def test_good_samples_pass():
    assert gate.secret_provider_class_errors(SPC, "spc") == []
    assert gate.prometheus_operator_errors(SERVICE_MONITOR, "sm") == []


def test_spc_with_bad_object_type_missing_name_and_unknown_key_is_rejected():
    broken = _with_objects(
        [
            {"objectName": "a", "objectType": "secretmanager"},
            {"objectType": "ssmparameter"},
            {"objectName": "c", "objectType": "ssmparameter", "objectAliass": "x"},
        ]
    )
    errors = gate.secret_provider_class_errors(broken, "spc")
    assert any("'secretmanager' is not one of" in e for e in errors), errors
    assert any("'objectName' is a required property" in e for e in errors), errors
    assert any("'objectAliass' was unexpected" in e for e in errors), errors


def test_spc_whose_objects_is_not_yaml_or_has_incomplete_jmes_path_is_rejected():
    not_yaml = gate.secret_provider_class_errors(_with_objects("- objectName: [unclosed"), "spc")
    assert any("is not YAML" in e for e in not_yaml), not_yaml
    jmes = _with_objects(
        [{"objectName": "a", "objectType": "secretsmanager", "jmesPath": [{"path": "user"}]}]
    )
    errors = gate.secret_provider_class_errors(jmes, "spc")
    assert any("'objectAlias' is a required property" in e for e in errors), errors


def test_spc_with_wrong_provider_colliding_files_or_unknown_synced_file_is_rejected():
    broken = _with_objects(
        [
            {"objectName": "a", "objectType": "secretsmanager", "objectAlias": "password"},
            {"objectName": "b", "objectType": "secretsmanager", "objectAlias": "password"},
        ]
    )
    broken["spec"]["provider"] = "azure"
    broken["spec"]["secretObjects"][0]["data"][0]["objectName"] = "token"
    errors = gate.secret_provider_class_errors(broken, "spc")
    assert any("'aws' was expected" in e for e in errors), errors
    assert any("collide: ['password']" in e for e in errors), errors
    assert any("reads 'token', which is not a mounted file" in e for e in errors), errors


def test_service_monitor_with_wrong_type_or_unknown_field_is_rejected():
    wrong_type = copy.deepcopy(SERVICE_MONITOR)
    wrong_type["spec"]["endpoints"][0]["port"] = 9121
    errors = gate.prometheus_operator_errors(wrong_type, "sm")
    assert any("spec.endpoints.0.port" in e for e in errors), errors
    unknown = copy.deepcopy(SERVICE_MONITOR)
    unknown["spec"]["endpoints"][0]["intervall"] = "30s"
    errors = gate.prometheus_operator_errors(unknown, "sm")
    assert errors == ["sm: spec.endpoints[0].intervall: unknown field"]


def test_service_monitor_selecting_no_service_is_rejected():
    cluster = gate.Cluster({"k8s/shop/ServiceMonitor-redis.yaml": SERVICE_MONITOR})
    errors = gate.selector_target_errors(cluster)
    assert errors and "selects no Service" in errors[0]
