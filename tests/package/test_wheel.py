"""The built wheel, installed where the repository is out of reach, runs an outside program."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from eksplatform import __version__

from . import dependency_check
from .conftest import ROOT, Installed

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def outside_run(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("outside")
    shutil.copy(HERE / "outside_program.py", workdir / "main.py")
    return installed.run_json(["main.py"], workdir, timeout=120)


def test_wheel_carries_the_package_under_its_import_name_with_license(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert installed.wheel.name == f"eks_secrets_platform-{__version__}-py3-none-any.whl"
    assert "eksplatform/irsa.py" in names
    assert "eksplatform/workloads/sidecar.py" in names
    assert "eksplatform/provider.py" in names
    assert "eksplatform/chart_shapes.json" in names
    assert not [n for n in names if n.startswith(("components/", "stacks/", "tools/", "tests/"))]
    assert any(n.endswith("licenses/LICENSE") for n in names)


def test_the_installed_package_checks_extra_chart_values_with_its_shipped_shapes(
    installed: Installed,
) -> None:
    """The chart shapes are package data: read from the wheel, not from the repository."""
    code = (
        "from eksplatform.secrets_store import SecretsStoreCsiArgs\n"
        "SecretsStoreCsiArgs(aws_region='eu-west-1', driver_values={'linux': {'typo': 1}})\n"
    )
    done = subprocess.run(
        [str(installed.python), "-c", code],
        capture_output=True,
        text=True,
        env=installed.env(),
        cwd=installed.site_packages,
    )
    assert done.returncode == 1
    assert "driver_values has keys that chart secrets-store-csi-driver" in done.stderr
    assert "linux.typo" in done.stderr


def test_outside_program_imports_eksplatform_from_the_installed_wheel(
    installed: Installed, outside_run: dict[str, Any]
) -> None:
    imported_from = Path(outside_run["eksplatform_file"]).resolve()
    assert imported_from.is_relative_to(installed.site_packages.resolve())
    assert not imported_from.is_relative_to(ROOT)
    assert not outside_run["components_importable"]
    assert not [p for p in outside_run["sys_path"] if Path(p).resolve() == ROOT]
    assert outside_run["version"] == __version__


def test_outside_program_builds_an_irsa_role_and_a_secret_provider_class(
    outside_run: dict[str, Any],
) -> None:
    by_name = {(r["type"], r["name"]): r for r in outside_run["registered"]}
    assert ("eksplatform:identity:IrsaRole", "orders") in by_name
    trust = json.loads(by_name[("aws:iam/role:Role", "orders-role")]["inputs"]["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"] == (
        "system:serviceaccount:orders:orders"
    )
    attachment = by_name[("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "orders-policy-0")]
    assert attachment["inputs"]["policyArn"] == "arn:aws:iam::123456789012:policy/orders-read"
    account = by_name[("kubernetes:core/v1:ServiceAccount", "orders-sa")]["inputs"]
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/orders-role"
    }
    assert outside_run["role_arn"] == "arn:aws:iam::123456789012:role/orders-role"
    spc = by_name[
        ("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "orders-secrets-spc")
    ]
    assert spc["inputs"]["metadata"]["namespace"] == "orders"
    assert "objectAlias: db-url" in spc["inputs"]["spec"]["parameters"]["objects"]


def test_hosted_adapter_registers_the_index_type_over_the_one_implementation(
    outside_run: dict[str, Any],
) -> None:
    registered = {(r["type"], r["name"]) for r in outside_run["registered"]}
    assert ("eksplatform:index:SecretProviderClass", "hosted") in registered
    assert ("eksplatform:secrets:SecretProviderClass", "hosted") in registered
    assert ("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "hosted-spc") in (
        registered
    )


def wheel_requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode()
    return [
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.startswith("Requires-Dist:")
    ]


def test_outside_program_loads_no_third_party_module_the_wheel_does_not_declare(
    installed: Installed, outside_run: dict[str, Any]
) -> None:
    checked = outside_run["dependencies"]
    assert checked["requires"] == wheel_requires(installed.wheel)
    assert Path(checked["location"]).resolve() == installed.site_packages.resolve()
    assert {"eks-secrets-platform", "pulumi", "pulumi-aws", "pulumi-kubernetes"} <= set(
        checked["closure"]
    )
    assert checked["checked_modules"] > 100, "pulumi and its providers were loaded and checked"
    assert checked["undeclared"] == []


STRAY_IMPORT = """
import json
import eksplatform.irsa
import boto3  # in the repository's virtualenv, declared by nothing the wheel requires
from dependency_check import undeclared
print(json.dumps(undeclared()))
"""


def test_dependency_check_flags_an_import_outside_the_declared_closure(
    installed: Installed, tmp_path: Path
) -> None:
    undeclared = installed.run_json(["-c", STRAY_IMPORT], tmp_path, timeout=120)["undeclared"]
    assert "boto3 (boto3)" in undeclared
    assert "botocore (botocore)" in undeclared
    assert not [m for m in undeclared if m.startswith(("eksplatform", "pulumi", "yaml"))]


def test_dependency_check_names_each_stray_top_level_module_once_with_its_distribution() -> None:
    files = {
        "pulumi": "/sp/pulumi/__init__.py",
        "ruamel.yaml": "/sp/ruamel/yaml/__init__.py",
        "ruamel.yaml.main": "/sp/ruamel/yaml/main.py",
        "stray": "/sp/stray.py",
    }
    owned = {
        "/sp/pulumi/__init__.py": "pulumi",
        "/sp/ruamel/yaml/__init__.py": "ruamel-yaml",
        "/sp/ruamel/yaml/main.py": "ruamel-yaml",
    }
    assert dependency_check.undeclared_in(files, owned, ["Pulumi"]) == [
        "ruamel (ruamel-yaml)",
        "stray (no distribution)",
    ]
