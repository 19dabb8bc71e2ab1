"""Every EKS add-on the program installs runs the build pinned for the cluster's Kubernetes
version in components/versions.py, never EKS's default of the day (which changes under a
running stack): the shipped stacks as they are, and dev with Pod Identity and the ASCP add-on
for each version that has pins."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml
from eksplatform.pod_identity import AGENT_ADDON
from eksplatform.secrets_store import ASCP_ADDON
from eksplatform.versions import EKS_ADDON_VERSIONS, EKS_STANDARD_SUPPORT

from tests.conftest import created_secret_names
from tools.pulumi_mocks import PROJECT, Recorder, run_program, stack_config

NS = PROJECT
ADDON = "aws:eks/addon:Addon"
IN_STANDARD_SUPPORT = sorted(
    v for v, end in EKS_STANDARD_SUPPORT.items() if end is None or end > date.today()
)
"""The versions the config accepts today (a version past its end is refused before any
resource); the component tests cover the pins of every row."""


def unpinned_addons(rec: Recorder) -> list[str]:
    """Each registered add-on whose build is not the pin for the cluster's version."""
    version = rec.named("cluster-eks").inputs["version"]
    pins = EKS_ADDON_VERSIONS[version]
    return [
        f"{a.name}: {a.inputs['addonName']} {a.inputs.get('addonVersion')!r}, "
        f"pinned {pins.get(a.inputs['addonName'])!r} for {version}"
        for a in rec.of_type(ADDON)
        if a.inputs.get("addonVersion") != pins.get(a.inputs["addonName"])
        or not a.inputs.get("addonVersion")
    ]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_addon_of_a_shipped_stack_runs_its_pinned_build(stack_runs, stack):
    rec = stack_runs.run(stack)
    assert rec.of_type(ADDON), "CoreDNS at least is an EKS add-on"
    assert unpinned_addons(rec) == []


def _with_pod_identity_and_the_ascp_addon(kubernetes_version: str) -> dict[str, str]:
    """dev, plus an app that reads its own secret through Pod Identity, with ASCP installed
    as the EKS add-on, on the given Kubernetes version."""
    base = stack_config("dev")
    secrets = yaml.safe_load(base[f"{NS}:secrets"]) or []
    secrets.append({"name": "eks-secrets-dev/addon-pins-demo", "namespace": "addon-pins"})
    apps = yaml.safe_load(base[f"{NS}:apps"]) or []
    apps.append(
        {
            "name": "addon-pins",
            "identity": "pod-identity",
            "secrets": ["eks-secrets-dev/addon-pins-demo"],
        }
    )
    config = stack_config(
        "dev",
        {
            f"{NS}:kubernetesVersion": kubernetes_version,
            f"{NS}:secretsStoreInstallMethod": "eks-addon",
            f"{NS}:secrets": yaml.safe_dump(secrets),
            f"{NS}:apps": yaml.safe_dump(apps),
        },
    )
    values = {name: f"test-value-of-{name}" for name in created_secret_names(config)}
    config[f"{NS}:secretValues"] = json.dumps(values)
    return config


@pytest.mark.parametrize("kubernetes_version", IN_STANDARD_SUPPORT)
def test_pod_identity_agent_and_ascp_addon_run_the_builds_pinned_for_the_version(
    kubernetes_version,
):
    rec = run_program("dev", _with_pod_identity_and_the_ascp_addon(kubernetes_version))
    assert rec.named("cluster-eks").inputs["version"] == kubernetes_version
    names = {a.inputs["addonName"] for a in rec.of_type(ADDON)}
    assert {AGENT_ADDON, ASCP_ADDON, "coredns"} <= names
    assert unpinned_addons(rec) == []
    assert not rec.of_type("kubernetes:helm.sh/v3:Release") or all(
        "secrets-store" not in r.inputs["chart"]
        for r in rec.of_type("kubernetes:helm.sh/v3:Release")
    ), "the add-on replaces both Helm releases"
