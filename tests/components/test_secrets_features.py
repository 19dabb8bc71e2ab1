"""Secret features beyond create-or-reference: replicas, rotation, imports, SSM parameters,
and the multi-Region secrets key."""

import pulumi
import pytest
from eksplatform.secrets import (
    ManagedParameter,
    ManagedParameterArgs,
    ManagedSecret,
    ManagedSecretArgs,
    ReplicaRegion,
    SecretsKey,
    SecretsKeyArgs,
)

from tools.pulumi_mocks import PROJECT, RealisticMocks, Recorder, RecordingMonitor

EXISTING = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:shared-AbCdEf"
LAMBDA = "arn:aws:lambda:ap-southeast-1:123456789012:function:rotate-db"
REPLICA_KEY = "arn:aws:kms:ap-southeast-2:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"


class ImportRecordingMonitor(RecordingMonitor):
    """Also records which resources were registered with the `import` option."""

    def __init__(self, mocks, recorder):
        super().__init__(mocks, recorder)
        self.imports: dict[str, str] = {}

    def RegisterResource(self, request):
        if request.importId:
            self.imports[request.name] = request.importId
        return super().RegisterResource(request)


def test_replicas_carry_their_region_and_regional_key(build):
    rec = build(
        lambda: ManagedSecret(
            "db",
            ManagedSecretArgs(
                "db",
                value="v",
                replicas=[ReplicaRegion("ap-southeast-2", REPLICA_KEY), ReplicaRegion("eu-west-1")],
            ),
        )
    )
    assert rec.named("db-secret").inputs["replicas"] == [
        {"region": "ap-southeast-2", "kmsKeyId": REPLICA_KEY},
        {"region": "eu-west-1"},
    ]


def test_no_replicas_sends_no_replica_block(build):
    rec = build(lambda: ManagedSecret("db", ManagedSecretArgs("db", value="v")))
    assert "replicas" not in rec.named("db-secret").inputs


def test_rotation_schedule_waits_for_the_first_value_and_keeps_rotated_versions(build):
    rec = build(
        lambda: ManagedSecret(
            "db",
            ManagedSecretArgs("db", value="v", rotation_lambda_arn=LAMBDA, rotation_days=30),
        )
    )
    rotation = rec.named("db-rotation")
    assert rotation.type == "aws:secretsmanager/secretRotation:SecretRotation"
    assert rotation.inputs["rotationLambdaArn"] == LAMBDA
    assert rotation.inputs["rotationRules"] == {"automaticallyAfterDays": 30}
    assert rotation.inputs["rotateImmediately"] is False
    assert rec.depends_on(rotation, rec.named("db-value"))
    assert rec.named("db-value").ignore_changes == ["versionStages"]


def test_rotation_by_schedule_expression(build):
    rec = build(
        lambda: ManagedSecret(
            "db",
            ManagedSecretArgs(
                "db", value="v", rotation_lambda_arn=LAMBDA, rotation_schedule="rate(4 hours)"
            ),
        )
    )
    assert rec.named("db-rotation").inputs["rotationRules"] == {
        "scheduleExpression": "rate(4 hours)"
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rotation_lambda_arn": LAMBDA}, "exactly one of rotation_days or rotation_schedule"),
        (
            {"rotation_lambda_arn": LAMBDA, "rotation_days": 7, "rotation_schedule": "rate(1 day)"},
            "exactly one of rotation_days or rotation_schedule",
        ),
        ({"rotation_days": 7}, "rotation needs rotation_lambda_arn"),
        ({"rotation_lambda_arn": LAMBDA, "rotation_days": 1001}, "between 1 and 1000"),
    ],
)
def test_rotation_settings_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ManagedSecretArgs("db", value="v", **kwargs)


def test_referenced_secret_cannot_be_replicated_or_rotated():
    with pytest.raises(ValueError, match="a referenced secret is never changed"):
        ManagedSecretArgs("shared", existing_arn=EXISTING, replicas=[ReplicaRegion("eu-west-1")])
    with pytest.raises(ValueError, match="import_existing needs existing_arn"):
        ManagedSecretArgs("shared", value="v", existing_arn="", import_existing=True)


def test_imported_secret_is_adopted_retained_and_its_value_never_written():
    recorder = Recorder()
    mocks = RealisticMocks()
    monitor = ImportRecordingMonitor(mocks, recorder)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="test", preview=False, monitor=monitor)

    @pulumi.runtime.test
    def run():
        ManagedSecret(
            "shared",
            ManagedSecretArgs(
                "shared",
                existing_arn=EXISTING,
                import_existing=True,
                replicas=[ReplicaRegion("ap-southeast-2")],
            ),
        )

    run()
    secret = recorder.named("shared-secret")
    assert monitor.imports == {"shared-secret": EXISTING}
    assert secret.retain_on_delete is True
    assert secret.inputs["name"] == "shared"
    assert not recorder.of_type("aws:secretsmanager/secretVersion:SecretVersion")


def test_created_parameter_is_a_secure_string_with_the_stack_key(build):
    key = "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-1234abcd1234abcd1234abcd1234abcd"
    rec = build(
        lambda: ManagedParameter(
            "url",
            ManagedParameterArgs("/team-a/db-url", value="postgres://db", kms_key_id=key),
        )
    )
    parameter = rec.named("url-parameter")
    assert parameter.type == "aws:ssm/parameter:Parameter"
    assert parameter.inputs["type"] == "SecureString"
    assert parameter.inputs["name"] == "/team-a/db-url"
    assert parameter.inputs["keyId"] == key
    assert isinstance(parameter.secret_inputs["value"], dict)  # stays a Pulumi secret


def test_referenced_parameter_creates_nothing(build):
    arn = "arn:aws:ssm:ap-southeast-1:123456789012:parameter/shared/url"
    rec = build(
        lambda: ManagedParameter("url", ManagedParameterArgs("/shared/url", existing_arn=arn))
    )
    assert [r.type for r in rec.resources] == ["eksplatform:secrets:ManagedParameter"]


def test_parameter_names_are_validated():
    with pytest.raises(ValueError, match="is not a valid SSM name"):
        ManagedParameterArgs("team a/url", value="v")
    with pytest.raises(ValueError, match="is not a valid SSM name"):
        ManagedParameterArgs("/team/caf\u00e9", value="v")


@pytest.mark.parametrize("name", ["awsParam", "/SSM/db", "/aws/service/x"])
def test_a_created_parameter_may_not_take_a_name_aws_reserves(name):
    """SSM refuses names prefixed aws or ssm (any case); AWS's own may still be referenced."""
    with pytest.raises(ValueError, match="begins with aws or ssm"):
        ManagedParameterArgs(name, value="v")
    arn = f"arn:aws:ssm:ap-southeast-1:123456789012:parameter/{name.lstrip('/')}"
    ManagedParameterArgs(name, existing_arn=arn)


def test_secrets_key_is_multi_region_rotated_and_replicated_where_secrets_go(build):
    holder = {}

    def program():
        holder["key"] = SecretsKey(
            "kms",
            SecretsKeyArgs(
                alias="alias/eks-secrets-dev-secrets",
                region="ap-southeast-1",
                replica_regions=["ap-southeast-2"],
            ),
        )

    rec = build(program)
    key = rec.named("kms-key").inputs
    assert key["multiRegion"] is True
    assert key["enableKeyRotation"] is True
    replica = rec.named("kms-replica-ap-southeast-2").inputs
    assert replica["region"] == "ap-southeast-2"
    assert replica["primaryKeyArn"] == rec.named("kms-key").outputs["arn"]
    assert rec.named("kms-alias").inputs["name"] == "alias/eks-secrets-dev-secrets"
    assert list(holder["key"].arn_by_region) == ["ap-southeast-1", "ap-southeast-2"]
