"""The online pins job (pins.yml) covers every pin in components/versions.py.

ci/check_pins.py finds the pins by introspecting the module; this test introspects it
independently (every ChartPin instance, every module-level `*_IMAGE` string, every add-on
version table) and requires the two lists to be equal, so a pin added to versions.py
cannot escape the online check. Offline: commands are only printed (--dry-run).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml
from eksplatform import versions

from ci import check_pins

ROOT = Path(__file__).resolve().parent.parent


def _introspected() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for name, value in vars(versions).items():
        members = value.items() if isinstance(value, dict) else [(None, value)]
        if isinstance(value, list | tuple):
            members = enumerate(value)
        for key, member in members:
            if isinstance(member, versions.ChartPin):
                found.add(("chart", name if key is None else f"{name}[{key!r}]"))
        if name.endswith("_IMAGE") and isinstance(value, str):
            found.add(("image", name))
    return found


def test_the_script_lists_every_chart_and_image_pin_of_versions_py():
    listed = {(p.kind, p.name) for p in check_pins.pins() if p.kind != "addon"}

    assert listed == _introspected()
    assert {"chart", "image"} <= {kind for kind, _ in listed}


def test_every_add_on_version_table_is_listed():
    tables = [
        n
        for n, v in vars(versions).items()
        if "ADDON" in n.upper() and isinstance(v, dict | list | tuple) and v
    ]
    addons = [p for p in check_pins.pins() if p.kind == "addon"]

    assert {p.name.split("[")[0] for p in addons} == set(tables)


def test_check_pulls_every_chart_and_inspects_every_image(capsys):
    assert check_pins.main(["--check", "--dry-run"]) == 0
    printed = capsys.readouterr().out

    for pin in check_pins.pins():
        if pin.kind == "chart":
            repo, chart, version = pin.reference.split(" ")
            assert f"helm pull --repo {repo} {chart} --version {version} -d " in printed
        elif pin.kind == "image":
            assert f"docker manifest inspect {pin.reference}\n" in printed
        else:
            assert f"SKIP addon {pin.reference}" in printed


def test_pins_are_discovered_not_listed(tmp_path):
    module = tmp_path / "versions.py"
    module.write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass

            @dataclass(frozen=True)
            class ChartPin:
                chart: str
                version: str
                repo: str

            @dataclass(frozen=True)
            class AddonPin:
                name: str
                version: str

            NEW_CHART = ChartPin("new", "1.2.3", "https://example.org/charts/")
            MORE_CHARTS = (ChartPin("other", "0.1.0", "https://example.org/other"),)
            SIDECAR_IMAGE = "example/sidecar:1.0.0"
            EKS_ADDON_VERSIONS = {"1.35": {"vpc-cni": "v1.20.0-eksbuild.1"}}
            POD_IDENTITY = AddonPin("eks-pod-identity-agent", "v1.3.8-eksbuild.2")
            NOT_A_PIN = "ignored:1.0"
            """
        )
    )

    found = check_pins.pins(check_pins.load_versions(module))

    assert [(p.kind, p.name, p.reference) for p in found] == [
        ("addon", "EKS_ADDON_VERSIONS['1.35']['vpc-cni']", "vpc-cni v1.20.0-eksbuild.1"),
        ("addon", "POD_IDENTITY", "eks-pod-identity-agent v1.3.8-eksbuild.2"),
        ("chart", "MORE_CHARTS[0]", "https://example.org/other other 0.1.0"),
        ("chart", "NEW_CHART", "https://example.org/charts new 1.2.3"),
        ("image", "SIDECAR_IMAGE", "example/sidecar:1.0.0"),
    ]


def test_the_pins_workflow_runs_the_check_without_credentials():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pins.yml").read_text())
    (job,) = workflow["jobs"].values()

    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs == ["python ci/check_pins.py --check"]
    assert job["permissions"] == {"contents": "read"}
    assert "secrets." not in yaml.safe_dump(job)
    on = workflow.get("on", workflow.get(True))
    assert "components/versions.py" in on["pull_request"]["paths"] and "schedule" in on
