"""The rendered IAM documents, evaluated by a real IAM policy evaluator (tests/iam_eval.py):
each workload identity reads exactly what its pods mount, decrypts only through Secrets
Manager or SSM, is assumable only by its own service account, and CI's roles change only
their own stack's secrets and never IAM.

Over the shipped stacks this asserts only what holds for any valid stack; `abac-ssm-kms`
is dev plus two ABAC apps, an SSM parameter read through IRSA and the stack key, so every
identity kind and key path is exercised. Each check is also shown to FAIL on a seeded
over-grant, and each positive check needs at least one Allow, so a wrong context key cannot
turn every answer into a silent deny that passes.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import pytest

from tests import iam_eval, iam_model
from tests.ci_iam import rendered as ci_rendered
from tests.conftest import STACKS
from tests.conftest import fixture as fixture_key
from tests.iam_eval import Request
from tests.iam_model import Expect, StackModel
from tests.stacks.configs import key, raw_config, stack_apps, stack_secrets
from tools.pulumi_mocks import ACCOUNT, run_program, stack_config
from tools.render import render_recorded

FIXTURE = "abac-ssm-kms"
FIXTURE_SECRETS = [
    {"name": "eks-secrets-dev/team-a-credentials", "namespace": "team-a"},
    {"name": "eks-secrets-dev/team-b-credentials", "namespace": "team-b"},
    {"name": "/eks-secrets-dev/ledger/db-url", "type": "ssmparameter"},
]
FIXTURE_APPS = [
    {
        "name": "team-a",
        "identity": "pod-identity-abac",
        "secrets": ["eks-secrets-dev/team-a-credentials"],
    },
    {
        "name": "team-b",
        "identity": "pod-identity-abac",
        "secrets": ["eks-secrets-dev/team-b-credentials"],
    },
    {"name": "ledger", "secrets": ["/eks-secrets-dev/ledger/db-url"]},
]


@dataclass
class Evaluated:
    """A stack's model, its expectations and the evaluator's decisions (one batch)."""

    model: StackModel
    expects: list[Expect]
    decisions: list[str]
    seconds: float

    def failures(self, category: str) -> list[str]:
        return [
            f"{e.subject}: {e.what}: {d}, expected {'Allowed' if e.allowed else 'a deny'}"
            for e, d in zip(self.expects, self.decisions, strict=True)
            if e.category == category and (d == iam_eval.ALLOWED) != e.allowed
        ]

    def allowed_per_identity(self, category: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        for e, d in zip(self.expects, self.decisions, strict=True):
            if e.category == category:
                counts[e.subject.split(" as ")[0]] += d == iam_eval.ALLOWED
        return counts


_EVALUATED: dict[str, Evaluated] = {}


def _fixture_render(tmp_path_factory):
    config = raw_config(
        {key("secretsKmsKey"): "create"},
        secrets=stack_secrets() + FIXTURE_SECRETS,
        apps=stack_apps() + FIXTURE_APPS,
    )
    return render_recorded(
        run_program("dev", config), "dev", tmp_path_factory.mktemp("iam-eval") / FIXTURE
    )


@pytest.fixture(scope="session", params=[*STACKS, FIXTURE, fixture_key("existing")])
def evaluated(request, stack_runs, tmp_path_factory) -> Evaluated:
    stack = request.param
    if stack not in _EVALUATED:
        fixture = stack == FIXTURE
        render = _fixture_render(tmp_path_factory) if fixture else stack_runs.render(stack)
        model = iam_model.build_model(render)
        expects = iam_model.expectations(model)
        started = time.perf_counter()
        decisions = iam_eval.evaluate([e.request for e in expects])
        _EVALUATED[stack] = Evaluated(model, expects, decisions, time.perf_counter() - started)
    return _EVALUATED[stack]


@pytest.fixture(scope="module")
def fixture_model(tmp_path_factory) -> StackModel:
    if FIXTURE not in _EVALUATED:
        return iam_model.build_model(_fixture_render(tmp_path_factory))
    return _EVALUATED[FIXTURE].model


def _assert_allows_somewhere(evaluated: Evaluated, category: str) -> None:
    """A check whose every answer is a deny proves nothing: each bound identity gets at least
    one Allow."""
    counts = evaluated.allowed_per_identity(category)
    bound = [i.name for i in evaluated.model.identities if i.bindings]
    silent = [name for name in bound if not counts[name]]
    assert not silent, f"{category}: no request of {silent} was allowed"


# --- every stack -----------------------------------------------------------------------------


def test_every_workload_identity_is_bound_to_a_service_account(evaluated):
    unbound = [i.name for i in evaluated.model.identities if not i.bindings]
    assert not unbound, f"roles no service account or Pod Identity association uses: {unbound}"


def test_each_workload_reads_exactly_the_secrets_and_parameters_its_pods_mount(evaluated):
    failures = evaluated.failures("read")
    assert not failures, "\n".join(failures)
    _assert_allows_somewhere(evaluated, "read")


def test_kms_decrypt_is_allowed_only_through_the_secret_services_with_the_stack_key(evaluated):
    failures = evaluated.failures("kms")
    assert not failures, "\n".join(failures)
    used = {
        s.key_arn
        for i in evaluated.model.identities
        for b in i.bindings
        for arn in i.reads(b, evaluated.model.stored.values())
        if (s := evaluated.model.stored[arn]).key_arn
    }
    if used:
        decrypts = [
            e
            for e, d in zip(evaluated.expects, evaluated.decisions, strict=True)
            if e.category == "kms" and d == iam_eval.ALLOWED
        ]
        assert decrypts, "a stack key encrypts what pods read, yet no Decrypt was allowed"


def test_each_workload_role_is_assumable_only_by_its_own_service_account(evaluated):
    failures = evaluated.failures("trust")
    assert not failures, "\n".join(failures)
    _assert_allows_somewhere(evaluated, "trust")


# --- the fixture covers every identity kind and key path -------------------------------------


def test_the_fixture_exercises_abac_ssm_irsa_pod_identity_and_the_stack_key(fixture_model):
    kinds = {
        ("abac" if i.abac else "pod-identity" if i.pod_identity else "irsa")
        for i in fixture_model.identities
    }
    assert kinds == {"abac", "pod-identity", "irsa"}
    (abac,) = [i for i in fixture_model.identities if i.abac]
    assert [b[0] for b in abac.bindings] == ["team-a", "team-b"]
    assert any(s.parameter and s.key_arn for s in fixture_model.stored.values())
    assert fixture_model.keys


def test_the_abac_role_reads_only_secrets_tagged_with_the_sessions_namespace(fixture_model):
    (abac,) = [i for i in fixture_model.identities if i.abac]
    names = {
        binding[0]: sorted(
            fixture_model.stored[a].name for a in abac.reads(binding, fixture_model.stored.values())
        )
        for binding in abac.bindings
    }
    assert names == {
        "team-a": ["eks-secrets-dev/team-a-credentials"],
        "team-b": ["eks-secrets-dev/team-b-credentials"],
    }
    expects = [e for e in iam_model.read_expectations(fixture_model, abac) if e.category == "read"]
    decisions = iam_eval.evaluate([e.request for e in expects])
    allowed = sorted(
        (e.subject, e.what) for e, d in zip(expects, decisions, strict=True) if d == "Allowed"
    )
    assert allowed == [
        (
            "secrets-abac-role as team-a/team-a",
            "secretsmanager:GetSecretValue on eks-secrets-dev/team-a-credentials",
        ),
        (
            "secrets-abac-role as team-b/team-b",
            "secretsmanager:GetSecretValue on eks-secrets-dev/team-b-credentials",
        ),
    ]


# --- each check fails on a seeded over-grant -------------------------------------------------


def _identity(model: StackModel, *, abac: bool = False, pod_identity: bool = False):
    return next(
        i
        for i in model.identities
        if i.abac == abac and i.pod_identity == pod_identity and i.bindings
    )


def test_a_read_policy_naming_another_secret_fails_the_read_check(fixture_model):
    irsa = _identity(fixture_model)
    mine = irsa.reads(irsa.bindings[0], fixture_model.stored.values())
    other = next(s for s in fixture_model.stored.values() if s.arn not in mine and not s.parameter)
    policies = iam_model.with_statement(
        irsa.policies,
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": other.arn},
    )
    failures = iam_model.failures(iam_model.read_expectations(fixture_model, irsa, policies))
    assert failures == [
        f"{irsa.name} as {irsa.bindings[0][0]}/{irsa.bindings[0][1]}: "
        f"secretsmanager:GetSecretValue on {other.name}: Allowed, expected a deny"
    ]


def test_a_read_policy_on_every_resource_fails_the_read_check(fixture_model):
    irsa = _identity(fixture_model)
    policies = iam_model.with_statement(
        irsa.policies,
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameter"],
            "Resource": "*",
        },
    )
    failures = iam_model.failures(iam_model.read_expectations(fixture_model, irsa, policies))
    others = [s for s in fixture_model.stored.values()]
    assert len(failures) >= len(others), failures
    assert any("not-this-stacks" in f for f in failures), failures


def test_decrypt_without_the_via_service_condition_fails_the_kms_check(fixture_model):
    irsa = _identity(fixture_model)
    key_arn = next(iter(fixture_model.keys))
    policies = iam_model.with_statement(
        irsa.policies, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}
    )
    failures = iam_model.failures(iam_model.read_expectations(fixture_model, irsa, policies))
    assert any("kms:Decrypt" in f and "via no service" in f for f in failures), failures


def test_an_abac_policy_without_the_tag_condition_fails_the_read_check(fixture_model):
    abac = _identity(fixture_model, abac=True, pod_identity=True)
    policies = [
        {
            **p,
            "Statement": [{k: v for k, v in s.items() if k != "Condition"} for s in p["Statement"]],
        }
        for p in abac.policies
    ]
    failures = iam_model.failures(iam_model.read_expectations(fixture_model, abac, policies))
    assert any(
        "eks-secrets-dev/team-b-credentials: Allowed" in f and "team-a/" in f for f in failures
    ), failures


def test_an_irsa_trust_without_the_sub_condition_fails_the_trust_check(fixture_model):
    irsa = _identity(fixture_model)
    trust: dict[str, Any] = {
        **irsa.trust,
        "Statement": [
            {
                **s,
                "Condition": {
                    "StringEquals": {
                        k: v
                        for k, v in s["Condition"]["StringEquals"].items()
                        if not k.endswith(":sub")
                    }
                },
            }
            for s in irsa.trust["Statement"]
        ],
    }
    failures = iam_model.failures(iam_model.trust_expectations(fixture_model, irsa, trust))
    namespace, account = irsa.bindings[0]
    assert failures == [
        f"{irsa.name}: another service account {namespace}/{account}-other: Allowed, "
        "expected a deny",
        f"{irsa.name}: another namespace other-{namespace}/{account}: Allowed, expected a deny",
    ]


def test_a_pod_identity_trust_without_its_pins_fails_the_trust_check(fixture_model):
    podid = _identity(fixture_model, pod_identity=True)
    pinned = iam_model.trust_expectations(fixture_model, podid)
    loose = {
        **podid.trust,
        "Statement": [
            {k: v for k, v in s.items() if k != "Condition"} for s in podid.trust["Statement"]
        ],
    }
    decisions = iam_eval.evaluate([replace(e.request, resource_policy=loose) for e in pinned])
    wrongly = [
        e.what for e, d in zip(pinned, decisions, strict=True) if d == "Allowed" and not e.allowed
    ]
    assert "sts:AssumeRole from another cluster" in wrongly
    assert "sts:AssumeRole from another namespace" in wrongly


def test_the_evaluator_rejects_a_dropped_context_key_instead_of_denying():
    """runSimulation silently drops the OIDC keys of a trust policy; the wrapper refuses."""
    model_issuer = "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{model_issuer}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{model_issuer}:sub": "system:serviceaccount:a:b"}},
            }
        ],
    }
    request = Request(
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/{model_issuer}",
        "sts:AssumeRoleWithWebIdentity",
        f"arn:aws:iam::{ACCOUNT}:role/r",
        resource_policy=trust,
        trust=True,
        context={f"{model_issuer}:sub": "system:serviceaccount:a:b"},
    )
    with pytest.raises(iam_eval.EvaluatorError, match="were dropped"):
        iam_eval.evaluate([request])
    assert iam_eval.evaluate([replace(request, unsafe=True)]) == ["Allowed"]


# --- CI roles --------------------------------------------------------------------------------

CI_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/{{role}}/github-actions"
SECRET_CHANGES = (
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
)
PARAMETER_CHANGES = ("ssm:PutParameter", "ssm:DeleteParameter")
IAM_CHANGES = ("iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:PassRole")
# The stacks CI deploys: those that name a CI deploy role (config requires it with a runner).
CI_STACKS = [s for s in STACKS if stack_config(s).get(key("ciDeployRoleArn"))]


@dataclass
class CiStack:
    cluster: str
    registered: dict[str, tuple[str, bool]]
    """ARN -> (name, is a parameter) of every secret and parameter the program registers."""


@pytest.fixture(scope="module")
def ci_secrets(stack_runs) -> dict[str, CiStack]:
    """What each stack's program registers (the shared run), as ci/iam/render.py sees it."""
    found = {}
    for stack in CI_STACKS:
        recorder = stack_runs.run(stack)
        found[stack] = CiStack(
            recorder.stack_outputs["clusterName"],
            {
                r.outputs["arn"]: (r.inputs["name"], False)
                for r in recorder.of_type("aws:secretsmanager/secret:Secret")
            }
            | {
                r.outputs["arn"]: (r.inputs["name"], True)
                for r in recorder.of_type("aws:ssm/parameter:Parameter")
            },
        )
    return found


def _ci_expectations(stack: str, ci_secrets: dict[str, CiStack]) -> list[Expect]:
    """The deploy role may change every secret and parameter its stack registers; neither
    CI role may change another stack's (by its names, or under its `<cluster>/` prefix) or an
    arbitrary one, nor create, attach, put or pass an IAM role. Holds whether the fence
    lists one ARN per secret or a name prefix plus exact names."""
    documents = ci_rendered(stack)
    deploy = CI_SESSION.format(role=f"{stack}-deploy")
    preview = CI_SESSION.format(role=f"{stack}-preview")
    region = stack_config(stack)["aws:region"]
    own = ci_secrets[stack].registered
    own_names = {name for name, _ in own.values()}
    prefix = f"{ci_secrets[stack].cluster}/"
    out: list[Expect] = []

    def expect(role: str, session: str, action: str, resource: str, allowed: bool, what: str):
        policies = [documents[f"{role}-policy.json"]]
        out.append(
            Expect(
                what, f"{stack} {role}", Request(session, action, resource, policies), allowed, "ci"
            )
        )

    for arn, (name, parameter) in own.items():
        for action in PARAMETER_CHANGES if parameter else SECRET_CHANGES:
            expect("deploy", deploy, action, arn, True, f"{action} on own {name}")
    others = [
        (arn, name, parameter)
        for other in CI_STACKS
        if other != stack
        for arn, (name, parameter) in ci_secrets[other].registered.items()
        if name not in own_names and not name.startswith(prefix)
    ]
    other_prefixes = {f"{ci_secrets[o].cluster}/" for o in CI_STACKS if o != stack}
    others += [
        (
            f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{p}anything-AbCdEf",
            f"{p}anything",
            False,
        )
        for p in sorted(other_prefixes)
    ]
    others += [
        (f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:arbitrary-AbCdEf", "arbitrary", False),
        (f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/arbitrary", "/arbitrary", True),
    ]
    for arn, name, parameter in others:
        for action in PARAMETER_CHANGES if parameter else SECRET_CHANGES:
            for role, session in (("deploy", deploy), ("preview", preview)):
                expect(role, session, action, arn, False, f"{action} on {name} (not {stack}'s)")
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/eks-secrets-platform/{stack}/any"
    for action in IAM_CHANGES:
        for role, session in (("deploy", deploy), ("preview", preview)):
            expect(role, session, action, role_arn, False, f"{action}")
            expect(role, session, action, f"arn:aws:iam::{ACCOUNT}:role/any", False, f"{action}")
    return out


@pytest.mark.parametrize("stack", CI_STACKS)
def test_ci_deploy_role_changes_only_its_own_stacks_secrets_and_no_ci_role_manages_iam(
    stack, ci_secrets
):
    expects = _ci_expectations(stack, ci_secrets)
    failures = iam_model.failures(expects)
    assert not failures, "\n".join(failures)
    assert any(e.allowed for e in expects), f"{stack} registers no secret: nothing proved"


def test_a_deploy_policy_on_every_secret_fails_the_ci_check(ci_secrets):
    stack = CI_STACKS[0]
    expects = _ci_expectations(stack, ci_secrets)
    broad = {"Effect": "Allow", "Action": list(SECRET_CHANGES), "Resource": "*"}
    changed = [
        replace(
            e.request,
            identity_policies=iam_model.with_statement(e.request.identity_policies, broad),
        )
        for e in expects
    ]
    decisions = iam_eval.evaluate(changed)
    wrongly = [
        e.what for e, d in zip(expects, decisions, strict=True) if d == "Allowed" and not e.allowed
    ]
    assert any("arbitrary" in w for w in wrongly), wrongly
    assert all("iam:" not in w for w in wrongly), wrongly
