"""The stack diagram the offline render writes (`diagram.md`): the platform, one box per app
with its identity, and an edge to every secret the app's SecretProviderClass mounts."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tools.diagram import app_boxes, stack_diagram
from tools.pulumi_mocks import Recorder, Registration
from tools.render import render_recorded

STACK_URN = "urn:pulumi:t::p::pulumi:pulumi:Stack::p-t"


def _add(recorder: Recorder, type_: str, name: str, parent: str = STACK_URN, **inputs: Any) -> str:
    urn = f"urn:pulumi:t::p::{type_}::{name}"
    recorder.resources.append(
        Registration(
            urn=urn, id=name, type=type_, name=name, custom=True, parent=parent, inputs=inputs
        )
    )
    return urn


def _small_stack() -> Recorder:
    rec = Recorder()
    _add(rec, "eksplatform:cluster:Cluster", "cluster")
    _add(rec, "eksplatform:secrets:ManagedSecret", "secret-db")
    app = _add(rec, "eksplatform:platform:App", "payments")
    _add(rec, "kubernetes:core/v1:Namespace", "payments-ns", app, metadata={"name": "payments"})
    access = _add(rec, "eksplatform:secrets:WorkloadSecrets", "payments-secrets", app)
    _add(rec, "eksplatform:identity:IrsaRole", "payments-irsa", access)
    _add(rec, "kubernetes:core/v1:ServiceAccount", "payments-sa", access, metadata={"name": "pay"})
    objects = yaml.safe_dump([{"objectName": "db", "objectType": "secretsmanager"}])
    _add(
        rec,
        "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
        "payments-spc",
        access,
        spec={"provider": "aws", "parameters": {"objects": objects}},
    )
    _add(rec, "eksplatform:platform:App", "batch")  # reads nothing
    return rec


def test_small_stack_draws_platform_app_identity_and_the_secret_it_reads():
    assert stack_diagram(_small_stack(), "t") == (
        "### What stack `t` builds\n"
        "\n"
        "```mermaid\n"
        "flowchart LR\n"
        '  subgraph platform["Platform"]\n'
        "    direction TB\n"
        '    p_cluster["Cluster<br/>cluster"]\n'
        "  end\n"
        '  subgraph app_batch["App batch"]\n'
        "    direction TB\n"
        '    id_batch["no AWS identity"]\n'
        "  end\n"
        '  subgraph app_payments["App payments · namespace payments"]\n'
        "    direction TB\n"
        '    id_payments["ServiceAccount pay<br/>IRSA role payments-irsa"]\n'
        "  end\n"
        '  subgraph secrets["Secrets"]\n'
        "    direction TB\n"
        '    s_db[("db<br/>secretsmanager")]\n'
        "  end\n"
        "  id_payments -- reads --> s_db\n"
        "```\n"
    )


def test_every_app_of_a_shipped_stack_is_a_box_and_every_mounted_object_a_secret(stack_runs):
    """Holds for any valid stack file: one box per App, one edge per object it mounts."""
    for stack in ("dev", "staging", "prod"):
        recorder = stack_runs.run(stack)
        text = stack_diagram(recorder, stack)
        apps = recorder.of_type("eksplatform:platform:App")
        assert len(re.findall(r'^  subgraph app_\w+\["App ', text, re.M)) == len(apps)
        edges = re.findall(r"^  id_\w+ -- reads --> s_\w+$", text, re.M)
        assert len(edges) == sum(len(box.secrets) for box in app_boxes(recorder))
        assert text.count("```") == 2 and "<redacted>" not in text


def test_the_render_writes_the_diagram_beside_the_inventory(stack_runs, tmp_path):
    result = render_recorded(stack_runs.run("dev"), "dev", tmp_path)
    written = (tmp_path / "diagram.md").read_text()
    assert written == result.files["diagram.md"] == stack_diagram(stack_runs.run("dev"), "dev")
