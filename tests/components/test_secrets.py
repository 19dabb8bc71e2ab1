"""ManagedSecret: the value stays a Pulumi secret; an existing ARN is never owned."""

import pulumi
import pytest
from eksplatform.secrets import ManagedSecret, ManagedSecretArgs

EXISTING = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:shared-AbCdEf"


def test_created_secret_stores_its_value_as_a_pulumi_secret(build):
    rec = build(
        lambda: ManagedSecret(
            "db",
            ManagedSecretArgs(secret_name="db", value="s3cr3t", description="db", tags={"a": "b"}),
        )
    )
    secret = rec.named("db-secret")
    assert secret.inputs["name"] == "db"
    assert secret.inputs["recoveryWindowInDays"] == 7
    assert secret.inputs["tags"] == {"a": "b"}
    version = rec.named("db-value")
    assert version.inputs["secretString"] == "s3cr3t"
    wrapped = version.secret_inputs["secretString"]
    assert isinstance(wrapped, dict) and wrapped.get("value") == "s3cr3t"  # marked secret
    assert version.inputs["secretId"] == secret.outputs["arn"]  # the mock's id is the ARN


def test_referenced_secret_creates_nothing(build):
    rec = build(lambda: ManagedSecret("shared", ManagedSecretArgs("shared", existing_arn=EXISTING)))
    assert [r.type for r in rec.resources] == ["eksplatform:secrets:ManagedSecret"]


@pulumi.runtime.test
def test_referenced_secret_exposes_its_arn(pulumi_mocks):
    secret = ManagedSecret("shared", ManagedSecretArgs("shared", existing_arn=EXISTING))

    def check(arn: str) -> None:
        assert arn == EXISTING

    return secret.arn.apply(check)


def test_value_and_existing_arn_are_exclusive():
    with pytest.raises(ValueError, match="give exactly one of value or existing_arn"):
        ManagedSecretArgs("x", value="v", existing_arn=EXISTING)
    with pytest.raises(ValueError, match="give exactly one of value or existing_arn"):
        ManagedSecretArgs("x")


def test_recovery_window_is_bounded():
    with pytest.raises(ValueError, match="recovery_window_in_days must be 0 or between 7 and 30"):
        ManagedSecretArgs("x", value="v", recovery_window_in_days=3)
