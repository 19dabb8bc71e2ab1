"""The hosted components built the way another language's program builds them: the engine's
ConstructRequest sent over gRPC to the plugin (provider/__main__.py, from the installed wheel),
with inputs as the engine sends them (Output values carrying dependencies, secrets), and every
child the plugin registers recorded at a resource monitor served here (fake_engine.py).

Read against pulumi 3.272.0: pulumi/provider/server.py (`_construct` points the SDK at the
request's monitor, deserializes the inputs, wraps a secret or a value with dependencies in an
Output, and calls the provider), pulumi/provider/experimental/component.py (`construct` maps
the schema names to the TypedDict's Python names and calls the adapter with them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from . import fake_engine
from .conftest import Installed, started_plugin
from .fake_engine import STACK_URN, Recorder, output, reveal, secret
from .hosted import tolerations_in

OIDC_ISSUER = "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
OIDC_ARN = f"arn:aws:iam::123456789012:oidc-provider/{OIDC_ISSUER}"
OIDC_URN = "urn:pulumi:dev::consumer::aws:iam/openIdConnectProvider:OpenIdConnectProvider::oidc"
POLICY_ARN = "arn:aws:iam::123456789012:policy/read"
POLICY_URN = "urn:pulumi:dev::consumer::aws:iam/policy:Policy::read"
NAMESPACE_URN = "urn:pulumi:dev::consumer::kubernetes:core/v1:Namespace::secrets-store"
CLUSTER_URN = "urn:pulumi:dev::consumer::aws:eks/cluster:Cluster::eks"


class Engine:
    def __init__(
        self, address: str, recorder: Recorder, plugin: provider_pb2_grpc.ResourceProviderStub
    ) -> None:
        self.address = address
        self.recorder = recorder
        self.plugin = plugin

    def construct(self, component: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Construct `eksplatform:index:<component>` under the stack; its output state."""
        struct = struct_pb2.Struct()
        struct.update(inputs)
        dependencies = {
            key: provider_pb2.ConstructRequest.PropertyDependencies(urns=urns)
            for key, value in inputs.items()
            if (urns := dependencies_of(value))
        }
        response = self.plugin.Construct(
            provider_pb2.ConstructRequest(
                project=fake_engine.PROJECT,
                stack=fake_engine.STACK,
                organization="organization",
                monitorEndpoint=self.address,
                type=f"eksplatform:index:{component}",
                name=name,
                parent=STACK_URN,
                inputs=struct,
                inputDependencies=dependencies,
                accepts_output_values=True,
            ),
            timeout=120,
        )
        assert response.urn == fake_engine.child_urn(
            STACK_URN, f"eksplatform:index:{component}", name
        )
        return json_format.MessageToDict(response.state)


def dependencies_of(value: Any) -> list[str]:
    """The URNs an Output value (anywhere inside `value`) carries."""
    if isinstance(value, dict):
        if value.get(fake_engine.SIG) == fake_engine.OUTPUT_SIG:
            return list(value["dependencies"])
        return [urn for v in value.values() for urn in dependencies_of(v)]
    if isinstance(value, list):
        return [urn for v in value for urn in dependencies_of(v)]
    return []


@pytest.fixture(scope="module")
def engine(installed: Installed) -> Iterator[Engine]:
    """The plugin started as the engine starts it, with the engine's address as argument."""
    with fake_engine.serve() as (address, recorder), started_plugin(installed, address) as stub:
        yield Engine(address, recorder, stub)


@pytest.fixture(scope="module")
def irsa(engine: Engine) -> dict[str, Any]:
    """An IrsaRole whose OIDC provider and policy come as Outputs of resources of the calling
    program, and whose service account is a secret Output."""
    return engine.construct(
        "IrsaRole",
        "grpc-irsa",
        {
            "oidcProviderArn": output(OIDC_ARN, OIDC_URN),
            "oidcIssuer": output(f"https://{OIDC_ISSUER}", OIDC_URN),
            "namespace": "team-a",
            "serviceAccount": output("api", is_secret=True),
            "policyArns": [output(POLICY_ARN, POLICY_URN)],
        },
    )


def test_construct_irsa_role_trust_pins_the_issuer_and_service_account_sent_as_outputs(
    engine: Engine, irsa: dict[str, Any]
) -> None:
    role = engine.recorder.get("aws:iam/role:Role", "grpc-irsa-role")
    (statement,) = json.loads(reveal(role.inputs["assumeRolePolicy"]))["Statement"]
    assert statement["Principal"] == {"Federated": OIDC_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        f"{OIDC_ISSUER}:sub": "system:serviceaccount:team-a:api",
        f"{OIDC_ISSUER}:aud": "sts.amazonaws.com",
    }
    assert OIDC_URN in role.property_dependencies["assumeRolePolicy"]
    assert irsa == {"roleArn": "arn:aws:iam::123456789012:role/grpc-irsa-role"}


def test_construct_irsa_role_keeps_a_secret_service_account_secret_in_the_trust_policy(
    engine: Engine, irsa: dict[str, Any]
) -> None:
    role = engine.recorder.get("aws:iam/role:Role", "grpc-irsa-role")
    assert fake_engine.is_secret(role.inputs["assumeRolePolicy"])
    account = engine.recorder.get("kubernetes:core/v1:ServiceAccount", "grpc-irsa-sa")
    assert fake_engine.is_secret(account.inputs["metadata"]["name"])
    assert reveal(account.inputs["metadata"]["name"]) == "api"
    assert account.inputs["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": irsa["roleArn"]
    }


def test_construct_irsa_role_attaches_the_policy_output_and_keeps_its_dependency(
    engine: Engine, irsa: dict[str, Any]
) -> None:
    attachment = engine.recorder.get(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "grpc-irsa-policy-0"
    )
    assert attachment.inputs["policyArn"] == POLICY_ARN
    assert attachment.property_dependencies["policyArn"] == [POLICY_URN]


def test_construct_builds_the_python_component_as_the_only_child_of_the_hosted_type(
    engine: Engine, irsa: dict[str, Any]
) -> None:
    hosted = engine.recorder.get("eksplatform:index:IrsaRole", "grpc-irsa")
    assert hosted.parent == STACK_URN
    (inner,) = engine.recorder.children_of(hosted.urn)
    assert (inner.type, inner.name) == ("eksplatform:identity:IrsaRole", "grpc-irsa")
    assert {r.type for r in engine.recorder.children_of(inner.urn)} == {
        "aws:iam/role:Role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "kubernetes:core/v1:ServiceAccount",
    }


@pytest.fixture(scope="module")
def csi(engine: Engine) -> dict[str, Any]:
    """SecretsStoreCsi installed in a namespace the calling program created, sent as a secret
    Output depending on it."""
    return engine.construct(
        "SecretsStoreCsi",
        "grpc-csi",
        {
            "awsRegion": "ap-southeast-1",
            "namespace": output("secrets-store", NAMESPACE_URN, is_secret=True),
            "installMethod": "helm",
            "tolerateEveryTaint": False,
            "tolerations": [{"key": "gpu", "value": "", "effect": "NoSchedule"}],
            "driverReleaseName": "csi",
            "providerReleaseName": "ascp",
            "driverValues": {"logVerbosity": 2},
            "providerValues": {"priorityClassName": "system-node-critical"},
        },
    )


def test_construct_secrets_store_csi_installs_both_releases_in_the_namespace_output(
    engine: Engine, csi: dict[str, Any]
) -> None:
    driver = engine.recorder.get("kubernetes:helm.sh/v3:Release", "grpc-csi-driver")
    provider = engine.recorder.get("kubernetes:helm.sh/v3:Release", "grpc-csi-aws-provider")
    for release, release_name in ((driver, "csi"), (provider, "ascp")):
        assert release.inputs["name"] == release_name
        assert reveal(release.inputs["namespace"]) == "secrets-store"
        assert fake_engine.is_secret(release.inputs["namespace"]), "a secret input stays secret"
        assert NAMESPACE_URN in release.property_dependencies["namespace"]
    assert csi == {}


def test_construct_secrets_store_csi_passes_region_tolerations_and_values_from_the_request(
    engine: Engine, csi: dict[str, Any]
) -> None:
    driver = engine.recorder.get("kubernetes:helm.sh/v3:Release", "grpc-csi-driver")
    provider = engine.recorder.get("kubernetes:helm.sh/v3:Release", "grpc-csi-aws-provider")
    assert provider.inputs["values"]["awsRegion"] == "ap-southeast-1"
    assert provider.inputs["values"]["priorityClassName"] == "system-node-critical"
    assert driver.inputs["values"]["logVerbosity"] == 2
    gpu_only = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    for release in (driver, provider):
        found = tolerations_in(release.inputs["values"])
        assert found
        assert all(t == gpu_only for t in found)


def test_construct_pod_identity_role_associates_in_the_cluster_output(engine: Engine) -> None:
    state = engine.construct(
        "PodIdentityRole",
        "grpc-pod-identity",
        {
            "clusterName": output("eks-dev", CLUSTER_URN),
            "namespace": "team-a",
            "serviceAccount": "worker",
        },
    )
    association = engine.recorder.get(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "grpc-pod-identity-binding-association",
    )
    assert association.inputs["clusterName"] == "eks-dev"
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "team-a",
        "worker",
    )
    assert CLUSTER_URN in association.property_dependencies["clusterName"]
    assert state["roleArn"] == association.inputs["roleArn"]


def test_construct_secret_provider_class_lands_in_the_namespace_output(engine: Engine) -> None:
    state = engine.construct(
        "SecretProviderClass",
        "grpc-spc",
        {
            "namespace": output("team-a", NAMESPACE_URN),
            "className": "api-secrets",
            "objects": [
                {
                    "objectName": "team-a/db",
                    "jmesPath": [{"path": "password", "objectAlias": "db-password"}],
                }
            ],
            "region": "ap-southeast-1",
        },
    )
    spc = engine.recorder.get(
        "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "grpc-spc-spc"
    )
    assert spc.inputs["metadata"]["namespace"] == "team-a"
    assert NAMESPACE_URN in spc.property_dependencies["metadata"]
    (obj,) = yaml.safe_load(spc.inputs["spec"]["parameters"]["objects"])
    assert obj["jmesPath"] == [{"path": "password", "objectAlias": "db-password"}]
    assert state["className"] == "api-secrets"
    assert "db-password" in state["fileNames"]


def test_construct_managed_secret_keeps_the_secret_value_secret(engine: Engine) -> None:
    state = engine.construct(
        "ManagedSecret",
        "grpc-secret",
        {"secretName": "team-a/api-key", "value": secret("not-a-real-value")},
    )
    version = engine.recorder.get(
        "aws:secretsmanager/secretVersion:SecretVersion", "grpc-secret-value"
    )
    assert fake_engine.is_secret(version.inputs["secretString"])
    assert reveal(version.inputs["secretString"]) == "not-a-real-value"
    created = engine.recorder.get("aws:secretsmanager/secret:Secret", "grpc-secret-secret")
    assert created.inputs["name"] == "team-a/api-key"
    assert state["arn"].startswith("arn:aws:secretsmanager:")


def test_construct_namespace_baseline_returns_the_namespace_name(engine: Engine) -> None:
    state = engine.construct(
        "NamespaceBaseline", "grpc-ns", {"name": "team-b", "denyEgress": False}
    )
    namespace = engine.recorder.get("kubernetes:core/v1:Namespace", "grpc-ns-namespace")
    assert namespace.inputs["metadata"]["name"] == "team-b"
    assert state == {"name": "team-b"}


def test_construct_refuses_a_missing_required_input_naming_it(engine: Engine) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        engine.construct("IrsaRole", "grpc-incomplete", {"namespace": "team-a"})
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert not [r for r in engine.recorder.registrations if r.name == "grpc-incomplete"]


def test_construct_logs_no_warning_or_error(engine: Engine) -> None:
    engine.construct("NamespaceBaseline", "grpc-quiet", {"name": "team-c"})
    assert engine.recorder.warnings == []
