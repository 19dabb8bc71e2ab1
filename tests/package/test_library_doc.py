"""The Python snippet of docs/library.md ("Use it from your own program") runs as written,
under the mocks, on a cluster it looks up: the page a library user copies from stays true."""

from __future__ import annotations

import json
import re

import pytest

from tools.pulumi_mocks import ACCOUNT, ROOT, Recorder, run_program

PAGE = ROOT / "docs" / "library.md"


def _snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert blocks, "docs/library.md has no python block"
    return blocks[0]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorder:
    program = tmp_path_factory.mktemp("library") / "__main__.py"
    program.write_text(_snippet())
    return run_program("library", {"aws:region": "eu-west-1"}, program=program)


def test_the_snippet_trusts_exactly_its_service_account_from_the_looked_up_provider(recorded):
    (role,) = recorded.of_type("aws:iam/role:Role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    federated = statement["Principal"]["Federated"]
    assert federated.startswith(f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.")
    conditions = statement["Condition"]["StringEquals"]
    assert sorted(conditions.values()) == [
        "sts.amazonaws.com",
        "system:serviceaccount:orders:orders",
    ]


def test_the_snippet_reads_exactly_the_secret_it_names(recorded):
    (policy,) = recorded.of_type("aws:iam/policy:Policy")
    document = json.loads(policy.inputs["policy"])
    resources = [
        r
        for s in document["Statement"]
        for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    ]
    secret = re.compile(rf"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:orders/db-url-\w{{6}}")
    assert resources and all(secret.fullmatch(r) for r in resources), resources


def test_every_kubernetes_object_goes_through_the_provider_it_builds(recorded):
    (provider,) = recorded.of_type("pulumi:providers:kubernetes")
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    args = kubeconfig["users"][0]["user"]["exec"]["args"]
    assert args[:2] == ["eks", "get-token"]
    assert args[args.index("--region") + 1] == "eu-west-1"
    objects = [r for r in recorded.resources if r.type.startswith("kubernetes:")]
    assert {r.type for r in objects} >= {
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
        "kubernetes:helm.sh/v3:Release",
    }
    assert all(r.provider and "::cluster::" in r.provider for r in objects), [
        (r.type, r.provider) for r in objects if not (r.provider and "::cluster::" in r.provider)
    ]
