"""Args take `pulumi.Input` where a caller may hold an Output (issue 16): namespaces and service
accounts of objects that already exist, cluster names, ARNs and the OIDC issuer. An Output given
for each such field reaches the registered resource as its value (not the text of an Output);
a bad plain value is still refused when the Args are built."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from eksplatform.cluster import access_entries
from eksplatform.irsa import IrsaRole, IrsaRoleArgs
from eksplatform.modes import IdentityMode
from eksplatform.pod_identity import (
    PodIdentityBinding,
    PodIdentityBindingArgs,
    PodIdentityRole,
    PodIdentityRoleArgs,
)
from eksplatform.secret_provider_class import (
    SecretObject,
    SecretProviderClass,
    SecretProviderClassArgs,
)
from eksplatform.workload_secrets import WorkloadSecrets, WorkloadSecretsArgs
from eksplatform.workloads.adapter import AdapterExample, AdapterExampleArgs
from eksplatform.workloads.ambassador import AmbassadorExample, AmbassadorExampleArgs
from eksplatform.workloads.init_container import InitContainerExample, InitContainerExampleArgs
from eksplatform.workloads.nginx_secrets_demo import NginxSecretsDemo, NginxSecretsDemoArgs
from eksplatform.workloads.redis_secret_sidecar import RedisSecretSidecar, RedisSecretSidecarArgs
from eksplatform.workloads.sidecar import SidecarExample, SidecarExampleArgs

from tools.pulumi_mocks import Recorder, install_mocks

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
ISSUER = "https://oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
ISSUER_HOST = "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
CLUSTER_ARN = "arn:aws:eks:ap-southeast-1:123456789012:cluster/eks-secrets-dev"
ROLE_ARN = "arn:aws:iam::123456789012:role/shared"
SECRET_ARN = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:orders-db-AbCdEf"


def out(value: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(value)


def _pod_spec(rec: Recorder, name: str) -> dict[str, Any]:
    return rec.named(name).inputs["spec"]["template"]["spec"]


def test_irsa_role_takes_outputs_for_namespace_service_account_and_the_cluster_identity(build):
    def program() -> None:
        # The namespace as another resource's output, as a caller that creates it holds it.
        namespace = k8s.core.v1.Namespace("team-a", metadata={"name": "team-a"})
        IrsaRole(
            "app",
            IrsaRoleArgs(
                oidc_provider_arn=out(PROVIDER),
                oidc_issuer=out(ISSUER),
                namespace=namespace.metadata.apply(lambda m: m.name or ""),
                service_account=out("reader"),
            ),
        )

    rec = build(program)
    role = rec.named("app-role").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Federated": PROVIDER}
    assert trust["Condition"]["StringEquals"][f"{ISSUER_HOST}:sub"] == (
        "system:serviceaccount:team-a:reader"
    )
    assert role["description"] == "IRSA for team-a/reader"
    metadata = rec.named("app-sa").inputs["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("reader", "team-a")
    assert metadata["labels"]["app.kubernetes.io/name"] == "reader"


def test_pod_identity_role_takes_outputs_for_every_name_and_arn(build):
    rec = build(
        lambda: PodIdentityRole(
            "app",
            PodIdentityRoleArgs(
                cluster_name=out("eks-secrets-dev"),
                cluster_arn=out(CLUSTER_ARN),
                namespace=out("team-a"),
                service_account=out("reader"),
            ),
        )
    )
    role = rec.named("app-role").inputs
    conditions = json.loads(role["assumeRolePolicy"])["Statement"][0]["Condition"]
    assert conditions["StringEquals"] == {
        "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
        "aws:RequestTag/kubernetes-namespace": ["team-a"],
        "aws:RequestTag/kubernetes-service-account": "reader",
    }
    assert role["description"] == "EKS Pod Identity for team-a/reader"
    association = rec.named("app-binding-association").inputs
    assert association["clusterName"] == "eks-secrets-dev"
    assert (association["namespace"], association["serviceAccount"]) == ("team-a", "reader")
    metadata = rec.named("app-binding-sa").inputs["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("reader", "team-a")


def test_pod_identity_binding_takes_outputs_for_namespace_service_account_and_role(build):
    rec = build(
        lambda: PodIdentityBinding(
            "bind",
            PodIdentityBindingArgs(
                cluster_name=out("eks-secrets-dev"),
                namespace=out("team-a"),
                service_account=out("reader"),
                role_arn=out(ROLE_ARN),
            ),
        )
    )
    association = rec.named("bind-association").inputs
    assert association["roleArn"] == ROLE_ARN
    assert (association["namespace"], association["serviceAccount"]) == ("team-a", "reader")
    assert rec.named("bind-sa").inputs["metadata"]["namespace"] == "team-a"


def test_secret_provider_class_takes_an_output_namespace(build):
    rec = build(
        lambda: SecretProviderClass(
            "spc",
            SecretProviderClassArgs(
                namespace=out("team-a"),
                class_name="orders",
                objects=[SecretObject("orders-db")],
                region="ap-southeast-1",
            ),
        )
    )
    assert rec.named("spc-spc").inputs["metadata"]["namespace"] == "team-a"


def test_workload_secrets_passes_output_names_to_its_policy_identity_and_class(build):
    rec = build(
        lambda: WorkloadSecrets(
            "ws",
            WorkloadSecretsArgs(
                namespace=out("team-a"),
                service_account=out("reader"),
                secret_provider_class="orders",
                objects=[SecretObject("orders-db")],
                secret_arns=[out(SECRET_ARN)],
                region="ap-southeast-1",
                identity_mode=IdentityMode.IRSA,
                oidc_provider_arn=out(PROVIDER),
                oidc_issuer=out(ISSUER),
            ),
        )
    )
    assert rec.named("ws-read-policy").inputs["description"] == (
        "Read the secrets of team-a/reader"
    )
    trust = json.loads(rec.named("ws-irsa-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER_HOST}:sub"] == (
        "system:serviceaccount:team-a:reader"
    )
    assert rec.named("ws-irsa-sa").inputs["metadata"]["namespace"] == "team-a"
    assert rec.named("ws-class-spc").inputs["metadata"]["namespace"] == "team-a"


def test_examples_take_an_output_namespace_and_service_account(build):
    def program() -> None:
        marker = k8s.core.v1.ConfigMap("crd", metadata={"name": "crd", "namespace": "default"})
        AdapterExample("adapter", AdapterExampleArgs(namespace=out("ex-a"), crd_ready=[marker]))
        AmbassadorExample("amb", AmbassadorExampleArgs(namespace=out("ex-b")))
        InitContainerExample("init", InitContainerExampleArgs(namespace=out("ex-c")))
        NginxSecretsDemo(
            "demo",
            NginxSecretsDemoArgs(
                namespace=out("ex-d"), service_account=out("demo-sa"), secret_provider_class="d"
            ),
        )
        RedisSecretSidecar(
            "redis",
            RedisSecretSidecarArgs(
                namespace=out("ex-e"),
                service_account=out("redis-sa"),
                secret_provider_class="r",
                password_file="redis-password",
            ),
        )
        SidecarExample(
            "web",
            SidecarExampleArgs(
                namespace=out("ex-f"),
                hostname="web.example.com",
                service_account=out("web-sa"),
                secret_provider_class="w",
            ),
        )

    rec = build(program)
    monitor = rec.named("adapter-servicemonitor").inputs
    assert monitor["metadata"]["namespace"] == "ex-a"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ex-a"]}
    conf = rec.named("amb-ambassador-conf").inputs
    assert conf["metadata"]["namespace"] == "ex-b"
    assert "server1.ex-b.svc.cluster.local" in conf["data"]["nginx.conf"]
    assert rec.named("init-deployment").inputs["metadata"]["namespace"] == "ex-c"
    assert rec.named("demo-deployment").inputs["metadata"]["namespace"] == "ex-d"
    assert _pod_spec(rec, "demo-deployment")["serviceAccountName"] == "demo-sa"
    assert rec.named("redis-deployment").inputs["metadata"]["namespace"] == "ex-e"
    assert _pod_spec(rec, "redis-deployment")["serviceAccountName"] == "redis-sa"
    assert rec.named("web-deployment").inputs["metadata"]["namespace"] == "ex-f"
    assert _pod_spec(rec, "web-deployment")["serviceAccountName"] == "web-sa"


@pytest.fixture
def mocked() -> None:
    install_mocks(Recorder(), "test")


def test_verify_command_of_an_example_with_an_output_namespace_names_it(mocked):
    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        example = InitContainerExample("init", InitContainerExampleArgs(namespace=out("ex-c")))
        command = pulumi.Output.from_input(example.verify_command)

        def names_it(text: str) -> None:
            assert text.startswith("kubectl -n ex-c get pod"), text

        return command.apply(names_it)

    check()


def test_a_plain_namespace_still_gives_a_plain_verify_command(mocked):
    @pulumi.runtime.test
    def check() -> None:
        example = InitContainerExample("init", InitContainerExampleArgs(namespace="ex-c"))
        assert isinstance(example.verify_command, str)
        assert example.verify_command.startswith("kubectl -n ex-c get pod")

    check()


BAD_PLAIN: list[tuple[str, Callable[[], object], str]] = [
    ("irsa", lambda: IrsaRoleArgs(PROVIDER, ISSUER, "Team_A", "reader"), "namespace 'Team_A'"),
    (
        "irsa-sa",
        lambda: IrsaRoleArgs(PROVIDER, ISSUER, "team-a", "Reader!"),
        "service_account 'Reader!'",
    ),
    (
        "pod-identity-role",
        lambda: PodIdentityRoleArgs("c", "Team_A", "reader"),
        "namespace 'Team_A'",
    ),
    (
        "pod-identity-binding",
        lambda: PodIdentityBindingArgs("c", "team-a", "x" * 40 + "." + "y" * 30, ROLE_ARN),
        "over 63 characters",
    ),
    (
        "secret-provider-class",
        lambda: SecretProviderClassArgs("Team_A", "orders", [SecretObject("a")], "eu-west-1"),
        "namespace 'Team_A'",
    ),
    ("adapter", lambda: AdapterExampleArgs(namespace="Ex_A"), "namespace 'Ex_A'"),
    ("ambassador", lambda: AmbassadorExampleArgs(namespace="Ex_B"), "namespace 'Ex_B'"),
    ("init-container", lambda: InitContainerExampleArgs(namespace="Ex_C"), "namespace 'Ex_C'"),
    (
        "redis",
        lambda: RedisSecretSidecarArgs("Ex_E", "redis-sa", "r", "redis-password"),
        "namespace 'Ex_E'",
    ),
    (
        "sidecar",
        lambda: SidecarExampleArgs("Ex_F", "web.example.com", "web-sa", "w"),
        "namespace 'Ex_F'",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"), [(m, msg) for _, m, msg in BAD_PLAIN], ids=[i for i, _, _ in BAD_PLAIN]
)
def test_a_bad_plain_value_is_still_refused(make: Callable[[], object], message: str):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make()


def test_an_output_is_not_checked_before_it_is_known():
    # Not a valid label, but unknown to the Args: it is accepted and left to the API server.
    args = IrsaRoleArgs(PROVIDER, ISSUER, out("Team_A"), out("reader"))
    assert isinstance(args.namespace, pulumi.Output)


def test_cluster_admins_may_be_outputs_one_access_entry_each():
    """An admin role created elsewhere in the caller's program (an Output) gets its entry."""
    role_arn = pulumi.Output.from_input("arn:aws:iam::123456789012:role/Admin")
    entries = access_entries([role_arn, "arn:aws:iam::123456789012:role/Other"], {"stack": "t"})
    assert sorted(entries) == ["admin-0", "admin-1"]
    assert entries["admin-0"].principal_arn is role_arn
    assert entries["admin-1"].principal_arn == "arn:aws:iam::123456789012:role/Other"
