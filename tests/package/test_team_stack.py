"""The team stack example (examples/team-stack), run from the installed wheel under mocks,
against the contract a fixture platform stack exports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import fixture

from .conftest import ROOT, Installed

HERE = Path(__file__).resolve().parent
EXAMPLE = ROOT / "examples" / "team-stack"
PLATFORM_STACK = "acme/eks-secrets-platform/prod"
SECRET = "prod-app-credentials"


def run_example(
    installed: Installed, workdir: Path, contract: dict[str, Any], **config: str
) -> dict[str, Any]:
    shutil.copytree(EXAMPLE, workdir, dirs_exist_ok=True)
    shutil.copy(HERE / "team_stack_program.py", workdir / "team_stack_program.py")
    (workdir / "contract.json").write_text(json.dumps(contract))
    values = {
        "aws:region": contract["region"],
        "orders-team:platformStack": PLATFORM_STACK,
        "orders-team:secretNames": json.dumps([SECRET]),
        **config,
    }
    (workdir / "config.json").write_text(json.dumps(values))
    return installed.run_json(
        ["team_stack_program.py", "contract.json", "config.json"], workdir, timeout=180
    )


@pytest.fixture(scope="module")
def contract(stack_runs) -> dict[str, Any]:
    """What the prod fixture platform stack exports (its own key, an app on IRSA)."""
    return stack_runs.run(fixture("prod")).stack_outputs["platform"]


@pytest.fixture(scope="module")
def team_run(
    installed: Installed, contract: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    run = run_example(installed, tmp_path_factory.mktemp("team-stack"), contract)
    assert not run["error"]
    return run


def registered(run: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    return next(r for r in run["registered"] if (r["type"], r["name"]) == (type_, name))


def test_example_is_a_project_of_its_own_that_installs_the_package() -> None:
    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    platform = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] != platform["name"]
    assert "platformStack" in project["config"]
    requirements = (EXAMPLE / "requirements.txt").read_text().splitlines()
    assert [r for r in requirements if r.startswith("eks-secrets-platform")]
    assert (EXAMPLE / "README.md").is_file()


def test_team_stack_reads_the_contract_through_a_stack_reference(
    team_run: dict[str, Any],
) -> None:
    ref = registered(team_run, "pulumi:pulumi:StackReference", PLATFORM_STACK)
    assert ref["inputs"]["name"] == PLATFORM_STACK
    assert registered(team_run, "eksplatform:platform:TeamApp", "orders")


def test_team_role_trust_pins_the_service_account_and_audience_of_the_platform_issuer(
    team_run: dict[str, Any], contract: dict[str, Any]
) -> None:
    role = registered(team_run, "aws:iam/role:Role", "orders-secrets-irsa-role")
    (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": contract["oidcProviderArn"]}
    issuer = contract["oidcIssuer"]
    assert statement["Condition"]["StringEquals"] == {
        f"{issuer}:sub": "system:serviceaccount:orders:orders",
        f"{issuer}:aud": "sts.amazonaws.com",
    }


def test_team_role_and_policy_sit_under_the_platform_path_with_the_boundary(
    team_run: dict[str, Any], contract: dict[str, Any]
) -> None:
    path = f"{contract['iamPath']}teams/orders-team/"
    assert path.startswith("/eks-secrets-platform/prod/")
    role = registered(team_run, "aws:iam/role:Role", "orders-secrets-irsa-role")
    assert role["inputs"]["path"] == path
    assert role["inputs"]["permissionsBoundary"] == (
        "arn:aws:iam::123456789012:policy/eks-secrets-platform-boundary"
    )
    policy = registered(team_run, "aws:iam/policy:Policy", "orders-secrets-read-policy")
    assert policy["inputs"]["path"] == path


def test_team_policy_reads_exactly_its_secret_with_the_stack_key(
    team_run: dict[str, Any], contract: dict[str, Any]
) -> None:
    policy = registered(team_run, "aws:iam/policy:Policy", "orders-secrets-read-policy")
    statements = {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
    assert statements["ReadListedSecrets"]["Resource"] == [contract["secrets"][SECRET]["arn"]]
    assert contract["secrets"][SECRET]["stackKey"]
    decrypt = [s for s in statements.values() if "kms:Decrypt" in s["Action"]]
    assert [s["Resource"] for s in decrypt] == [[contract["secretsKmsKeyArn"]]]
    assert set(statements) <= {"ReadListedSecrets", *(s["Sid"] for s in decrypt)}


def test_team_secret_provider_class_mounts_its_secret_in_the_platform_region(
    team_run: dict[str, Any], contract: dict[str, Any]
) -> None:
    spc = registered(
        team_run,
        "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
        "orders-secrets-class-spc",
    )
    assert spc["inputs"]["metadata"] == {
        "name": "orders",
        "namespace": "orders",
        "labels": spc["inputs"]["metadata"]["labels"],
    }
    parameters = spc["inputs"]["spec"]["parameters"]
    assert parameters["region"] == contract["region"]
    assert yaml.safe_load(parameters["objects"]) == [
        {"objectName": SECRET, "objectType": "secretsmanager"}
    ]
    assert team_run["outputs"]["files"] == [SECRET]


def test_every_kubernetes_object_goes_through_the_provider_built_from_the_contract(
    team_run: dict[str, Any], contract: dict[str, Any]
) -> None:
    provider = registered(team_run, "pulumi:providers:kubernetes", "platform-cluster")
    kubeconfig = json.loads(provider["inputs"]["kubeconfig"])
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"] == {
        "server": contract["endpoint"],
        "certificate-authority-data": contract["certificateAuthority"],
    }
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "aws"
    cluster_name = contract["clusterName"]
    assert user["user"]["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name", cluster_name]
    objects = [r for r in team_run["registered"] if r["type"].startswith("kubernetes:")]
    assert {r["inputs"].get("metadata", {}).get("name") for r in objects} >= {"orders"}
    assert objects
    assert all("::platform-cluster::" in (r["provider"] or "") for r in objects), [
        (r["name"], r["provider"]) for r in objects if "::platform-cluster::" not in r["provider"]
    ]


def test_team_stack_loads_no_third_party_module_the_wheel_does_not_declare(
    team_run: dict[str, Any],
) -> None:
    checked = team_run["dependencies"]
    assert "pulumi-kubernetes" in checked["closure"]
    assert checked["checked_modules"] > 100, "pulumi and its providers were loaded and checked"
    assert checked["undeclared"] == []


def test_team_stack_refuses_a_contract_of_an_unknown_major_version(
    installed: Installed, contract: dict[str, Any], tmp_path: Path
) -> None:
    run = run_example(installed, tmp_path, {**contract, "contractVersion": "2"})
    assert "contractVersion '2' is not one this package reads (1)" in run["error"]
    assert not [r for r in run["registered"] if r["type"].startswith("aws:")]
