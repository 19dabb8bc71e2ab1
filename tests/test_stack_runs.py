"""The session's shared program runs (tests/conftest.py `stack_runs`) are run once and kept
read-only, so one test cannot change what another sees."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, config_of, fixture
from tools.pulumi_mocks import Recorder, Registration, stack_config


def _recorder() -> Recorder:
    recorder = Recorder()
    recorder.resources.append(
        Registration(
            urn="urn:pulumi:test::p::aws:iam/role:Role::r",
            id="r",
            type="aws:iam/role:Role",
            name="r",
            custom=True,
            parent="",
            inputs={"tags": {"team": "a"}},
        )
    )
    return recorder


def test_each_stack_runs_once_per_session_and_is_shared(stack_runs):
    assert stack_runs.run("dev") is stack_runs.run("dev")
    assert stack_runs.render("dev").recorder is stack_runs.run("dev")


def test_a_shared_run_refuses_new_registrations(stack_runs):
    with pytest.raises(AttributeError):
        stack_runs.run("dev").resources.append(None)  # type: ignore[attr-defined]


def test_changing_anything_inside_a_frozen_run_changes_its_fingerprint():
    recorder = _recorder().freeze()
    before = recorder.fingerprint()
    assert recorder.fingerprint() == before
    recorder.resources[0].inputs["tags"]["team"] = "b"
    assert recorder.fingerprint() != before


def test_a_fixture_key_runs_the_frozen_file_under_its_stack_name(stack_runs):
    """`fixture:prod` is tests/fixtures/stacks/Pulumi.prod.yaml run as the stack `prod`: the
    name gives the cluster its name and turns production protection on."""
    rec = stack_runs.run(fixture("prod"))
    assert rec.stack_outputs["clusterName"] == "eks-secrets-prod"
    (cluster,) = rec.of_type("eks:index:Cluster")
    assert cluster.protect
    assert config_of(fixture("prod")) == stack_config("prod", directory=FIXTURES)


def test_stack_config_reads_the_stack_file_of_the_directory_it_is_given(tmp_path):
    (tmp_path / "Pulumi.qa.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    assert stack_config("qa", directory=tmp_path)["aws:region"] == "eu-west-1"
    with pytest.raises(FileNotFoundError, match=r"no stack file Pulumi\.qa\.yaml"):
        stack_config("qa", directory=tmp_path / "elsewhere")
