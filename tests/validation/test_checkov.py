"""checkov over every stack's rendered manifests: zero failed checks, and the only skips are
the ones in checkov-skips.yaml, each with a one-line reason."""

from __future__ import annotations

import json

import pytest
import yaml

from tools import gate

BAD_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "root-shell", "namespace": "shop"},
    "spec": {
        "hostNetwork": True,
        "containers": [
            {
                "name": "shell",
                "image": "busybox",
                "securityContext": {"privileged": True, "allowPrivilegeEscalation": True},
            }
        ],
    },
}


def test_checkov_finds_no_failed_check(checkov_run):
    assert not checkov_run.failed, "\n".join(gate.describe_failed(checkov_run.failed))


def test_checkov_scanned_the_rendered_objects(checkov_run, rendered):
    summary = checkov_run.report.get("summary") or {}
    assert summary.get("parsing_errors") == 0, summary
    assert summary.get("passed", 0) > len(rendered.manifests), summary


def test_resource_scoped_skips_still_match_a_finding(checkov_run, charts_checkov_run):
    stale = gate.stale_scoped_skips(gate.load_skips(), [checkov_run, charts_checkov_run])
    assert not stale, (
        "remove these skips from checkov-skips.yaml, the findings are gone: " + ", ".join(stale)
    )


def test_a_skip_on_a_scanned_resource_without_its_finding_is_stale():
    report = {
        "results": {
            "passed_checks": [{"check_id": "CKV_K8S_8", "resource": "Deployment.shop.web"}],
            "failed_checks": [{"check_id": "CKV_K8S_9", "resource": "Deployment.shop.web"}],
        }
    }
    run = gate.CheckovRun([], report, [], [])
    skips = [
        gate.Skip("CKV_K8S_8", "gone", ("Deployment.shop.web",)),
        gate.Skip("CKV_K8S_9", "still there", ("Deployment.shop.web",)),
        gate.Skip("CKV_K8S_8", "not installed in this stack", ("Deployment.other.api",)),
    ]
    assert gate.stale_scoped_skips(skips, [run]) == ["CKV_K8S_8 on Deployment.shop.web"]


def test_every_skip_has_a_one_line_reason():
    skips = gate.load_skips()
    assert all(s.reason and "\n" not in s.reason for s in skips)


def test_checkov_is_never_called_without_skip_download(tmp_path):
    command = gate.checkov_command(tmp_path, gate.load_skips(), tmp_path / "checkov")
    assert "--skip-download" in command
    assert command[command.index("--framework") + 1] == "kubernetes"
    everywhere = [s.check_id for s in gate.load_skips() if not s.resources]
    if everywhere:
        assert command[command.index("--skip-check") + 1] == ",".join(sorted(everywhere))


# --- the gate can fail -----------------------------------------------------------------------


def test_a_privileged_pod_fails_checkov_despite_the_skips(tmp_path):
    (tmp_path / "Pod-root-shell.yaml").write_text(yaml.safe_dump(BAD_POD))
    run = gate.run_checkov(tmp_path, gate.load_skips())
    failed = {c["check_id"] for c in run.failed}
    for expected in ("CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_19", "CKV_K8S_14", "CKV_K8S_22"):
        assert expected in failed, sorted(failed)


@pytest.mark.parametrize(
    "text",
    [
        "CKV_K8S_43:\n  reason: ''\n",
        "CKV_K8S_43:\n",
        "CKV_K8S_43:\n  resources: [Deployment.shop.web]\n",
        "CKV_K8S_43: '   '\n",
    ],
)
def test_a_skip_without_a_reason_fails_the_gate(tmp_path, text):
    path = tmp_path / "checkov-skips.yaml"
    path.write_text(text)
    with pytest.raises(gate.SkipFileError, match="CKV_K8S_43: no reason given"):
        gate.load_skips(path)


def test_a_skip_of_something_that_is_not_a_kubernetes_check_fails(tmp_path):
    path = tmp_path / "checkov-skips.yaml"
    path.write_text("CKV_AWS_1: not even Kubernetes\n")
    with pytest.raises(gate.SkipFileError, match="not a checkov Kubernetes check id"):
        gate.load_skips(path)


def test_missing_checkov_fails_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(gate, "ROOT", tmp_path)
    monkeypatch.delenv("CHECKOV_BIN", raising=False)
    with pytest.raises(gate.GateError, match="run `make install`"):
        gate.checkov_bin()


def test_resource_scoped_skip_hides_only_that_resource_and_stale_ones_are_reported(tmp_path):
    """With a stand-in checkov that reports two findings on two objects."""
    report = {
        "check_type": "kubernetes",
        "summary": {"passed": 1, "failed": 2, "parsing_errors": 0},
        "results": {
            "failed_checks": [
                {"check_id": "CKV_K8S_8", "check_name": "probe", "resource": r, "file_path": "x"}
                for r in ("Deployment.shop.web", "Deployment.shop.api")
            ]
        },
    }
    fake = tmp_path / "checkov"
    fake.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" --skip-download "*) ;; *) exit 3;; esac\n'
        f"cat <<'JSON'\n{json.dumps(report)}\nJSON\nexit 1\n"
    )
    fake.chmod(0o755)
    skips = [
        gate.Skip("CKV_K8S_8", "web has no probe endpoint", ("Deployment.shop.web",)),
        gate.Skip("CKV_K8S_9", "gone", ("Deployment.shop.gone",)),
    ]
    run = gate.run_checkov(tmp_path, skips, binary=fake)
    assert [c["resource"] for c in run.failed] == ["Deployment.shop.api"]
    assert run.stale_skips == ["CKV_K8S_9 on Deployment.shop.gone"]
    assert "--skip-check" not in run.command, "scoped skips must not switch a check off"
