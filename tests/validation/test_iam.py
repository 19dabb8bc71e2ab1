"""Every rendered IAM document: identity policies with zero parliament findings, trust
policies pinned to the cluster's OIDC provider and one service account (or a known AWS
service), KMS key policies confined to the account."""

from __future__ import annotations

import json

import pytest

from tests.validation.conftest import require
from tools import gate
from tools.pulumi_mocks import ACCOUNT

ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"


def _irsa(**overrides) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {
                f"{ISSUER}:sub": "system:serviceaccount:shop:web",
                f"{ISSUER}:aud": "sts.amazonaws.com",
            }
        },
    }
    statement.update(overrides)
    return {"Version": "2012-10-17", "Statement": [statement]}


def _service_trust(service: str, actions: list[str]) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}],
    }


def _trust_errors(document: dict) -> list[str]:
    return gate.trust_policy_errors(
        json.dumps(document), oidc_provider_arn=ARN, oidc_issuer=ISSUER, where="trust"
    )


def _kind(path: str) -> str:
    if path.endswith(".trust.json"):
        return "trust"
    if path.endswith(".key-policy.json"):
        return "key"
    return "identity"


def _of_kind(rendered, kind: str) -> dict[str, str]:
    return {p: t for p, t in rendered.iam.items() if _kind(p) == kind}


# --- the render of every stack ---------------------------------------------------------------


def test_every_identity_policy_has_zero_parliament_findings(rendered):
    policies = _of_kind(rendered, "identity")
    require(rendered, policies, "identity policy")
    findings = [f for p, t in policies.items() for f in gate.identity_policy_findings(t, p)]
    assert not findings, "\n".join(findings)


def test_every_trust_policy_is_pinned(rendered):
    provider_arn, issuer = rendered.oidc
    trusts = _of_kind(rendered, "trust")
    require(rendered, trusts, "IAM role")
    errors = [
        e
        for path, text in trusts.items()
        for e in gate.trust_policy_errors(
            text, oidc_provider_arn=provider_arn, oidc_issuer=issuer, where=path
        )
    ]
    assert not errors, "\n".join(errors)


def test_every_irsa_role_is_bound_to_a_rendered_service_account_annotated_with_it(rendered):
    roles = {
        r.name: r.outputs["arn"] for r in rendered.render.recorder.of_type("aws:iam/role:Role")
    }
    accounts = {
        f"system:serviceaccount:{m['metadata']['namespace']}:{m['metadata']['name']}": (
            (m["metadata"].get("annotations") or {}).get("eks.amazonaws.com/role-arn")
        )
        for m in rendered.manifests.values()
        if m["kind"] == "ServiceAccount"
    }
    errors = []
    for path, text in _of_kind(rendered, "trust").items():
        role_arn = roles[path.removeprefix("iam/").removesuffix(".trust.json")]
        for subject in gate.irsa_subjects(text):
            if subject not in accounts:
                errors.append(f"{path}: {subject} is not a rendered ServiceAccount")
            elif accounts[subject] != role_arn:
                errors.append(f"{path}: {subject} is annotated with {accounts[subject]}")
    assert not errors, "\n".join(errors)


def test_every_key_policy_names_only_this_account(rendered):
    errors = [
        e
        for path, text in _of_kind(rendered, "key").items()
        for e in gate.key_policy_errors(text, ACCOUNT, path)
    ]
    assert not errors, "\n".join(errors)


# --- each check can fail, and accepts the shapes it should -----------------------------------


def test_over_broad_identity_policy_is_rejected():
    broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}],
    }
    findings = gate.identity_policy_findings(json.dumps(broad), "broad")
    assert findings, "parliament must flag secretsmanager:* on *"
    assert any("RESOURCE_STAR" in f for f in findings), findings


def test_pinned_irsa_trust_policy_passes():
    assert _trust_errors(_irsa()) == []


def test_trust_policy_without_aud_is_rejected():
    document = _irsa()
    del document["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:aud"]
    assert _trust_errors(document) == [
        f"trust Statement[0]: StringEquals {ISSUER}:aud must be sts.amazonaws.com"
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"Principal": {"Federated": ARN.replace("ABC", "OTHER")}}, "is not the cluster's OIDC"),
        ({"Action": ["sts:AssumeRoleWithWebIdentity", "sts:AssumeRole"]}, "is not exactly"),
        (
            {"Condition": {"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:shop:*"}}},
            "must be StringEquals only",
        ),
        ({"Principal": "*"}, "must name a federated provider or a service"),
    ],
)
def test_loose_irsa_trust_policies_are_rejected(overrides, expected):
    errors = _trust_errors(_irsa(**overrides))
    assert any(expected in e for e in errors), errors


def test_service_trust_policies_pass_for_nodes_control_plane_and_pod_identity():
    assert _trust_errors(_service_trust("ec2.amazonaws.com", ["sts:AssumeRole"])) == []
    assert (
        _trust_errors(_service_trust("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]))
        == []
    )
    pod_identity = _service_trust("pods.eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"])
    assert _trust_errors(pod_identity) == []


def test_unexpected_service_trust_policies_are_rejected():
    pod_identity = _service_trust("pods.eks.amazonaws.com", ["sts:AssumeRole"])
    assert any("Pod Identity needs exactly" in e for e in _trust_errors(pod_identity))
    lambda_trust = _service_trust("lambda.amazonaws.com", ["sts:AssumeRole"])
    assert any("is not expected" in e for e in _trust_errors(lambda_trust))
    ec2_extra = _service_trust("ec2.amazonaws.com", ["sts:AssumeRole", "sts:SetSourceIdentity"])
    assert any("may use" in e for e in _trust_errors(ec2_extra))


def test_key_policy_open_to_everyone_or_another_account_is_rejected():
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        ],
    }
    errors = gate.key_policy_errors(json.dumps(document), ACCOUNT, "key")
    assert len(errors) == 2, errors
