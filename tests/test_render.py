"""The offline render (`python -m tools.render`): complete, redacted, deterministic, and it
fails on bad config exactly as `pulumi up` does."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from eksplatform.versions import NGINX_UNPRIVILEGED_IMAGE, SECRETS_STORE_CSI_DRIVER

from stacks.config.reader import ConfigError
from stacks.load import load
from tests.conftest import FIXTURES, TEST_SECRET_VALUES, fixture, secret_values_for
from tools import render as render_module
from tools.pulumi_mocks import PROJECT, Registration, stack_config
from tools.render import REDACTED, Render, clean, created_secret_names, render, render_recorded

ROOT = Path(__file__).resolve().parent.parent


def _tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _cli(*args: str, seed: str = "0") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-m", "tools.render", "--directory", str(FIXTURES), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def with_test_secrets(tmp_path_factory, stack_runs) -> Render:
    """The fixture dev rendered with the test suite's secret values, as if they were real."""
    out = tmp_path_factory.mktemp("with-secrets")
    return render_recorded(stack_runs.run(fixture("dev")), "dev", out)


@pytest.fixture(scope="module")
def from_the_command_line(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The fixture dev rendered by the documented command in a fresh process, placeholders
    for secrets."""
    out = tmp_path_factory.mktemp("cli")
    done = _cli("--stack", "dev", "--out", str(out), seed="12345")
    assert done.returncode == 0, done.stderr
    return out, done


def test_render_writes_every_kubernetes_object_policy_and_the_inventory(with_test_secrets):
    rec, files = with_test_secrets.recorder, with_test_secrets.files
    k8s = [p for p in files if p.startswith("k8s/") and "/HelmRelease-" not in p]
    assert len(k8s) == len(rec.kubernetes_objects())
    releases = [p for p in files if "/HelmRelease-" in p]
    assert len(releases) == len([r for r in rec.resources if r.type.startswith("kubernetes:helm")])
    for policy in rec.of_type("aws:iam/policy:Policy"):
        assert f"iam/{policy.name}.json" in files
    for role in rec.of_type("aws:iam/role:Role"):
        assert f"iam/{role.name}.trust.json" in files
    inventory = json.loads(files["inventory.json"])
    assert len(inventory["resources"]) == len(rec.resources) == inventory["resourceCount"]
    entry = next(
        e for e in inventory["resources"] if e["name"] == "secrets-demo-workload-deployment"
    )
    assert entry["file"] == "k8s/secrets-demo/Deployment-nginx-secrets-demo.yaml"
    assert entry["parent"] == "eksplatform:workloads:NginxSecretsDemo::secrets-demo-workload"
    assert {"type", "name", "parent", "protect"} <= set(entry)


def test_objects_land_in_their_namespace_folder_and_cluster_scoped_ones_in_cluster(
    with_test_secrets,
):
    files = with_test_secrets.files
    assert "k8s/_cluster/Namespace-secrets-demo.yaml" in files
    deployment = yaml.safe_load(files["k8s/secrets-demo/Deployment-nginx-secrets-demo.yaml"])
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    assert (
        deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 8080
    ), "ports must be ints, not the wire's doubles"
    driver = yaml.safe_load(files["k8s/kube-system/HelmRelease-secrets-store-csi-driver.yaml"])
    assert (driver["chart"], driver["version"], driver["repo"]) == (
        SECRETS_STORE_CSI_DRIVER.chart,
        SECRETS_STORE_CSI_DRIVER.version,
        SECRETS_STORE_CSI_DRIVER.repo,
    )
    assert driver["values"]["tokenRequests"] == [
        {"audience": "sts.amazonaws.com"},
        {"audience": "pods.eks.amazonaws.com"},
    ]


def test_no_secret_value_reaches_the_render_output(with_test_secrets):
    written = b"".join(_tree(with_test_secrets.out).values()).decode()
    summary = with_test_secrets.summary()
    values = secret_values_for(fixture("dev"))
    assert values, "dev creates no secret: the test would prove nothing"
    needles = set()
    for value in values.values():
        needles.add(value if isinstance(value, str) else json.dumps(value, sort_keys=True))
        if isinstance(value, dict):
            needles.update(v for v in value.values() if len(str(v)) >= 8)
    needles.update(
        v for value in TEST_SECRET_VALUES.values() for v in value.values() if len(v) >= 8
    )
    for needle in needles:
        assert needle not in written, f"a secret value leaked into the render: {needle[:4]}..."
        assert needle not in summary
    assert REDACTED in written


def test_render_is_identical_with_real_or_placeholder_secrets_and_across_processes(
    with_test_secrets, from_the_command_line
):
    """Byte-identical files from another process (other hash seed, placeholder secrets):
    the output is deterministic and secret values cannot influence it."""
    out, _ = from_the_command_line
    mine, theirs = _tree(with_test_secrets.out), _tree(out)
    assert sorted(mine) == sorted(theirs)
    changed = [path for path in mine if mine[path] != theirs[path]]
    if changed:
        diff = difflib.unified_diff(
            mine[changed[0]].decode().splitlines(),
            theirs[changed[0]].decode().splitlines(),
            "in-process, test secrets",
            "command line, placeholders",
            lineterm="",
        )
        pytest.fail(
            f"{len(changed)} files differ, e.g. {changed[0]}:\n" + "\n".join(list(diff)[:40])
        )


def test_command_prints_the_summary_table(from_the_command_line):
    _, done = from_the_command_line
    repository, tag = NGINX_UNPRIVILEGED_IMAGE.rsplit(":", 1)
    assert "Secret values are placeholders (<redacted>) for: demo-app-credentials" in done.stdout
    image_line = next(line for line in done.stdout.splitlines() if line.startswith(repository))
    assert tag in image_line
    chart_line = next(
        line for line in done.stdout.splitlines() if SECRETS_STORE_CSI_DRIVER.chart + " " in line
    )
    assert SECRETS_STORE_CSI_DRIVER.version in chart_line
    assert "kubernetes:apps/v1:Deployment" in done.stdout


def test_bad_config_fails_with_the_same_message_as_pulumi_up(tmp_path):
    overrides = {"nodeMinSize": "banana", "natGatewayMode": "sometimes"}
    done = _cli(
        "--stack",
        "dev",
        "--out",
        str(tmp_path),
        *(f"-c{key}={value}" for key, value in overrides.items()),
    )
    assert done.returncode == 2
    config = stack_config(
        "dev", {f"{PROJECT}:{k}": v for k, v in overrides.items()}, directory=FIXTURES
    )
    config[f"{PROJECT}:secretValues"] = json.dumps(
        dict.fromkeys(created_secret_names(config), REDACTED)
    )
    with pytest.raises(ConfigError) as expected:
        load(config.get, stack="dev", keys=list(config))
    assert done.stderr.strip() == str(expected.value).strip()
    assert "nodeMinSize = 'banana'" in done.stderr and "natGatewayMode" in done.stderr
    assert not (tmp_path / "inventory.json").exists(), "nothing is written for a bad config"


def test_undeclared_project_key_is_refused_with_a_suggestion_as_the_cli_does(tmp_path):
    done = _cli("--stack", "dev", "--out", str(tmp_path), "-c", "clusterVersion=1.35")
    assert done.returncode == 2
    assert (
        "eks-secrets-platform:clusterVersion is not a key of this project (Pulumi.yaml "
        "declares none); did you mean eks-secrets-platform:kubernetesVersion?"
    ) in done.stderr
    assert not (tmp_path / "inventory.json").exists()
    # Other namespaces (providers) are not the project's to declare.
    assert stack_config("dev", {"aws:skipMetadataApiCheck": "false"})["aws:region"]


def test_unknown_stack_exits_non_zero_and_names_the_stacks(tmp_path):
    with pytest.raises(FileNotFoundError):
        render("no-such-stack", tmp_path)
    assert render_module.main(["--stack", "no-such-stack", "--out", str(tmp_path)]) == 2


def test_clean_redacts_secrets_sensitive_fields_and_normalises_numbers():
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "x"}
    data = {
        "kubeconfig": "{...}",
        "nested": {"secretString": "hunter2", "token": "", "plain": secret},
        "port": 8080.0,
        "ratio": 0.5,
        "note": "contains a-known-secret-value inside",
    }
    assert clean(data, known_secrets=frozenset({"a-known-secret-value"})) == {
        "kubeconfig": REDACTED,
        "nested": {"secretString": REDACTED, "token": "", "plain": REDACTED},
        "port": 8080,
        "ratio": 0.5,
        "note": REDACTED,
    }


def _registration(type_token: str, name: str, secret_inputs: dict) -> Registration:
    """A resource as the mocks record it, with these inputs on the wire."""
    return Registration(
        urn=f"urn:pulumi:dev::p::{type_token}::{name}",
        id=f"{name}-id",
        type=type_token,
        name=name,
        custom=True,
        parent="",
        inputs={},
        secret_inputs=secret_inputs,
    )


def test_kubernetes_secret_data_is_redacted_even_when_not_marked_secret():
    secret = _registration(
        "kubernetes:core/v1:Secret",
        "s",
        {
            "metadata": {"name": "s", "namespace": "shop"},
            "stringData": {"password": "plain-text-password"},
            "data": {"token": "c2VjcmV0"},
        },
    )
    manifest = render_module.kubernetes_manifest(secret, frozenset())
    assert manifest["stringData"] == {"password": REDACTED}
    assert manifest["data"] == {"token": REDACTED}
    assert (manifest["apiVersion"], manifest["kind"]) == ("v1", "Secret")


def test_iam_document_marked_secret_is_never_written():
    marker = "4dabf18193072939515e22adb298388d"
    role = _registration(
        "aws:iam/role:Role",
        "r",
        {
            "assumeRolePolicy": {marker: "1b47061264138c4ac30d75fd1eb44270", "value": "{}"},
            "inlinePolicies": [{"name": "read", "policy": '{"Version": "2012-10-17"}'}],
        },
    )
    documents = render_module.iam_documents(role)
    assert documents == {
        "r.trust.json": render_module.SECRET_DOCUMENT,
        "r.inline-read.json": {"Version": "2012-10-17"},
    }
