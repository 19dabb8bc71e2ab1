"""Moving resources under the App units renamed or reparented them; their aliases must
let an existing stack keep every one of them. The URN lists were taken from the program
before the change (`tests/fixtures/urns-before-apps`), in the engine's URN form, so they
belong to the fixture stacks (frozen copies of the stacks of that time), not to the user's
stack files: a stack added or changed since has no "before" to keep."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURE_STACKS, fixture, stack_name
from tools.pulumi_mocks import ROOT

BEFORE = ROOT / "tests" / "fixtures" / "urns-before-apps"


BEFORE_STACKS = [s for s in FIXTURE_STACKS if (BEFORE / f"{stack_name(s)}.txt").exists()]
"""The fixture stacks that existed before apps (`existing` came later: it has no before)."""


def test_the_fixture_stacks_of_that_time_all_have_their_urn_lists():
    assert {stack_name(s) for s in BEFORE_STACKS} >= {"dev", "staging", "prod"}


@pytest.mark.parametrize("stack", BEFORE_STACKS)
def test_every_resource_of_the_old_program_is_kept_or_aliased_exactly_once(run_stack, stack):
    before = set((BEFORE / f"{stack_name(stack)}.txt").read_text().split())
    rec = run_stack(stack)
    engine = rec.engine_urns()
    former = rec.former_urns()
    claims: dict[str, list[str]] = {}
    for urn, new in engine.items():
        for old in ({new} | former[urn]) & before:
            claims.setdefault(old, []).append(new)
    assert sorted(before - set(claims)) == [], "these would be deleted and created anew"
    assert {old: new for old, new in claims.items() if len(new) > 1} == {}
    added = sorted(
        new for urn, new in engine.items() if new not in before and not former[urn] & before
    )
    # New since: the App units themselves, and CoreDNS as a managed add-on (issue 9).
    assert all(
        "::eksplatform:platform:App::" in urn or "::eksplatform:cluster:CoreDns" in urn
        for urn in added
    ), added


def test_the_resolver_follows_renamed_parents_to_their_children(run_stack):
    rec = run_stack(fixture("dev"))
    engine = rec.engine_urns()
    by_name = {r.name: r for r in rec.resources}
    deployment = by_name["secrets-demo-workload-deployment"]
    assert (
        "urn:pulumi:dev::eks-secrets-platform::eksplatform:workloads:NginxSecretsDemo"
        "$kubernetes:apps/v1:Deployment::demo-deployment"
    ) in rec.former_urns()[deployment.urn]
    assert engine[deployment.urn] == (
        "urn:pulumi:dev::eks-secrets-platform::eksplatform:platform:App"
        "$eksplatform:workloads:NginxSecretsDemo$kubernetes:apps/v1:Deployment"
        "::secrets-demo-workload-deployment"
    )
