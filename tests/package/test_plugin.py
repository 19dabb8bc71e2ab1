"""The components other Pulumi languages use: the schema the SDK infers from the hosted
classes, and the plugin answering GetSchema over gRPC as the engine starts it.

Read against pulumi 3.272.0: pulumi/provider/experimental/host.py (component_provider_host
serves a ComponentProvider through pulumi.provider.main), pulumi/provider/server.py (`main`
takes the engine address as its argument, serves on 127.0.0.1:<free port> and prints the port
on stdout, as the engine expects of a plugin), pulumi/runtime/proto/provider_pb2_grpc.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from eksplatform import __version__
from eksplatform.provider import HOSTED, PACKAGE
from google.protobuf import empty_pb2
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pulumi.runtime.proto.plugin_pb2 import PluginInfo

from .conftest import Installed, started_plugin

PUBLIC = {
    "IrsaRole",
    "PodIdentityRole",
    "SecretProviderClass",
    "SecretsStoreCsi",
    "ManagedSecret",
    "NamespaceBaseline",
}


def inferred_schema() -> dict[str, Any]:
    """What component_provider_host computes before it serves: ComponentProvider's schema."""
    provider = ComponentProvider(HOSTED, PACKAGE, None, __version__)
    assert provider.schema is not None
    return json.loads(provider.schema)


def undescribed_or_untyped(where: str, properties: dict[str, Any]) -> list[str]:
    problems = []
    for name, prop in properties.items():
        if not prop.get("description"):
            problems.append(f"{where}.{name}: no description")
        if "type" not in prop and "$ref" not in prop:
            problems.append(f"{where}.{name}: no type")
        if (
            prop.get("type") == "array"
            and "type" not in prop["items"]
            and "$ref" not in prop["items"]
        ):
            problems.append(f"{where}.{name}: untyped items")
    return problems


def test_inferred_schema_hosts_every_public_component_by_its_index_type() -> None:
    schema = inferred_schema()
    assert schema["name"] == "eksplatform"
    assert schema["version"] == __version__
    assert set(schema["resources"]) == {f"eksplatform:index:{name}" for name in PUBLIC}
    assert all(r["isComponent"] for r in schema["resources"].values())


def test_inferred_schema_types_and_describes_every_input_and_output() -> None:
    schema = inferred_schema()
    problems: list[str] = []
    for token, resource in schema["resources"].items():
        assert resource.get("description"), token
        problems += undescribed_or_untyped(f"{token} input", resource.get("inputProperties", {}))
        problems += undescribed_or_untyped(f"{token} output", resource.get("properties", {}))
    for token, complex_type in schema["types"].items():
        assert complex_type.get("description"), token
        problems += undescribed_or_untyped(token, complex_type.get("properties", {}))
    assert problems == []


def test_inferred_schema_takes_outputs_where_callers_hold_them_and_plain_names_elsewhere() -> None:
    resources = inferred_schema()["resources"]
    irsa = resources["eksplatform:index:IrsaRole"]
    assert "plain" not in irsa["inputProperties"]["oidcProviderArn"]
    assert "plain" not in irsa["inputProperties"]["policyArns"]["items"]
    # Names of objects that already exist take Outputs too (issue 16).
    assert "plain" not in irsa["inputProperties"]["namespace"]
    assert "plain" not in irsa["inputProperties"]["serviceAccount"]
    assert irsa["inputProperties"]["createServiceAccount"]["plain"] is True
    pod_identity = resources["eksplatform:index:PodIdentityRole"]
    assert "plain" not in pod_identity["inputProperties"]["namespace"]
    assert "plain" not in pod_identity["inputProperties"]["serviceAccount"]
    assert set(irsa["requiredInputs"]) == {
        "oidcProviderArn",
        "oidcIssuer",
        "namespace",
        "serviceAccount",
    }
    assert irsa["properties"]["roleArn"]["type"] == "string"
    spc = resources["eksplatform:index:SecretProviderClass"]
    assert spc["inputProperties"]["objects"]["items"]["$ref"] == (
        "#/types/eksplatform:index:SecretObject"
    )
    assert "plain" not in spc["inputProperties"]["namespace"]
    # Its name is plain: it is the `className` output a pod's CSI volume is built from.
    assert spc["inputProperties"]["className"]["plain"] is True
    assert spc["properties"]["fileNames"]["type"] == "array"
    assert spc["properties"]["fileNames"]["items"]["type"] == "string"
    csi = resources["eksplatform:index:SecretsStoreCsi"]
    assert (
        csi["inputProperties"]["installMethod"]["$ref"] == "#/types/eksplatform:index:InstallMethod"
    )
    assert "plain" not in csi["inputProperties"]["namespace"]
    assert csi["inputProperties"]["driverReleaseName"]["plain"] is True
    assert csi["inputProperties"]["driverValues"]["type"] == "object"
    assert csi["inputProperties"]["providerValues"]["additionalProperties"]["$ref"] == (
        "pulumi.json#/Any"
    )
    secret = resources["eksplatform:index:ManagedSecret"]
    assert "plain" not in secret["inputProperties"]["value"]


@pytest.fixture(scope="module")
def plugin(installed: Installed) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The plugin as the engine starts it; nothing listens at the engine's address it is given:
    GetSchema needs no engine."""
    with started_plugin(installed, "127.0.0.1:1") as stub:
        yield stub


def test_plugin_answers_get_schema_with_every_public_component(
    plugin: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    response = plugin.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
    schema = json.loads(response.schema)
    assert set(schema["resources"]) == {f"eksplatform:index:{name}" for name in PUBLIC}
    assert schema == inferred_schema()


def test_plugin_reports_the_package_version(
    plugin: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    info: PluginInfo = plugin.GetPluginInfo(empty_pb2.Empty(), timeout=30)
    assert info.version == __version__
