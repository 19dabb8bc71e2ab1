"""IrsaRole: one service account, pinned trust, annotated ServiceAccount."""

import json

import pytest
from eksplatform.irsa import ROLE_ARN_ANNOTATION, IrsaRole, IrsaRoleArgs

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.ap-southeast-1.amazonaws.com/id/ABC"
POLICY = "arn:aws:iam::123456789012:policy/read"


def _irsa(**overrides):
    values = dict(
        oidc_provider_arn=PROVIDER,
        oidc_issuer=ISSUER,
        namespace="team-a",
        service_account="reader",
        policy_arns=[POLICY],
        tags={"project": "p"},
    )
    values.update(overrides)
    return IrsaRoleArgs(**values)


def test_role_trusts_only_the_named_service_account(build):
    rec = build(lambda: IrsaRole("app", _irsa()))
    trust = json.loads(rec.named("app-role").inputs["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {
        f"{ISSUER}:sub": "system:serviceaccount:team-a:reader",
        f"{ISSUER}:aud": "sts.amazonaws.com",
    }
    assert trust["Statement"][0]["Principal"] == {"Federated": PROVIDER}


def test_each_policy_is_attached_to_the_role(build):
    other = "arn:aws:iam::123456789012:policy/other"
    rec = build(lambda: IrsaRole("app", _irsa(policy_arns=[POLICY, other])))
    attachments = rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert sorted(a.inputs["policyArn"] for a in attachments) == sorted([POLICY, other])
    role_name = rec.named("app-role").outputs["name"]
    assert {a.inputs["role"] for a in attachments} == {role_name}


def test_service_account_is_annotated_with_the_role_arn(build):
    rec = build(lambda: IrsaRole("app", _irsa()))
    sa = rec.named("app-sa")
    assert sa.inputs["metadata"]["name"] == "reader"
    assert sa.inputs["metadata"]["namespace"] == "team-a"
    annotation = sa.inputs["metadata"]["annotations"][ROLE_ARN_ANNOTATION]
    assert annotation == rec.named("app-role").outputs["arn"]
    assert annotation.startswith("arn:aws:iam::123456789012:role/")


def test_children_are_parented_to_the_component(build):
    rec = build(lambda: IrsaRole("app", _irsa()))
    component = rec.named("app")
    assert component.type == "eksplatform:identity:IrsaRole"
    assert all(r.parent == component.urn for r in rec.resources if r is not component)


def test_service_account_can_be_left_to_the_caller(build):
    rec = build(lambda: IrsaRole("app", _irsa(create_service_account=False)))
    assert rec.of_type("kubernetes:core/v1:ServiceAccount") == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("namespace", "Team_A", "namespace 'Team_A' must be a DNS-1123 label"),
        ("service_account", "Reader!", "service_account 'Reader!' must be a DNS-1123 subdomain"),
    ],
)
def test_bad_names_are_rejected_before_anything_is_created(field, value, message):
    with pytest.raises(ValueError, match=message):
        _irsa(**{field: value})
