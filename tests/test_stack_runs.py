"""The session's shared program runs (tests/conftest.py `stack_runs`) are run once and kept
read-only, so one test cannot change what another sees."""

from __future__ import annotations

import pytest

from tools.pulumi_mocks import Recorder, Registration


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
