"""Redis sidecar with a secret (seed 002): the password only ever arrives as a CSI file."""

import dataclasses
import json

import pytest

from components.k8s import SECRETS_MOUNT_PATH
from components.secret_provider_class import JmesPath, SecretObject
from components.workloads.common import WorkloadIdentity
from components.workloads.redis_secret_sidecar import (
    RedisSecretSidecar,
    RedisSecretSidecarArgs,
    app_script,
    redis_script,
    redis_secret_pod_spec,
)
from tests.workload_checks import assert_hardened, container, mounts, volumes_are_declared

ISSUER = "oidc.eks.ap-southeast-1.amazonaws.com/id/X"
IDENTITY = WorkloadIdentity(
    oidc_provider_arn=f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}",
    oidc_issuer=ISSUER,
    region="ap-southeast-1",
)
ARN = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:redis-password-AbCdEf"
FILE = f"{SECRETS_MOUNT_PATH}/redis-password"


def test_redis_requires_the_password_read_from_the_mounted_file():
    script = redis_script("redis-password")
    assert script.startswith("exec redis-server --bind 127.0.0.1 ")
    assert f'--requirepass "$(cat {FILE})"' in script


def test_app_authenticates_from_the_file_without_the_password_on_its_command_line():
    script = app_script("redis-password")
    assert f'export REDISCLI_AUTH="$(cat {FILE})"' in script
    assert "incr visits" in script
    assert " -a " not in script


def test_pod_is_hardened_and_both_containers_mount_the_secret_read_only():
    spec = redis_secret_pod_spec("redis-secret-app", "redis-secret-app", "redis-password")
    assert_hardened(spec)
    assert volumes_are_declared(spec)
    for name in ("app", "redis"):
        c = container(spec, name)
        assert mounts(c)[SECRETS_MOUNT_PATH] == "secrets-store"
        assert all(m["readOnly"] for m in c["volumeMounts"] if m["name"] == "secrets-store")
        assert "env" not in c  # no password in the pod spec
    assert container(spec, "app")["readinessProbe"]["exec"]["command"][-1] == "test -s /tmp/visits"
    assert "REDISCLI_AUTH" in container(spec, "redis")["readinessProbe"]["exec"]["command"][-1]
    assert spec["serviceAccountName"] == "redis-secret-app"


def test_a_json_secret_is_refused():
    secret = SecretObject("redis-password", jmes_path=(JmesPath("password", "password"),))
    with pytest.raises(ValueError, match="plain-string secret"):
        RedisSecretSidecarArgs("redis", secret=secret, secret_arn=ARN, identity=IDENTITY)


def _component(build, **overrides):
    values = dict(secret=SecretObject("redis-password"), secret_arn=ARN, identity=IDENTITY)
    values.update(overrides)
    args = RedisSecretSidecarArgs("redis-secret-example", **values)
    return build(lambda: RedisSecretSidecar("redis", args))


def test_component_gets_its_own_role_reading_only_the_password(build):
    rec = _component(build)
    policy = json.loads(rec.named("redis-secrets-read-policy").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == [ARN]
    trust = json.loads(rec.named("redis-secrets-irsa-role").inputs["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:redis-secret-example:redis-secret-app" in condition.values()
    deployment = rec.named("redis-deployment")
    assert rec.depends_on(deployment, rec.named("redis-secrets-class-spc"))
    spec = deployment.inputs["spec"]["template"]["spec"]
    assert spec["volumes"][0]["csi"]["volumeAttributes"] == {
        "secretProviderClass": "redis-secret-app"
    }


def test_with_failover_and_a_customer_key_the_replica_and_the_key_are_granted(build):
    identity = dataclasses.replace(IDENTITY, failover_region="ap-southeast-2")
    key = "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
    rec = _component(build, identity=identity, kms_key_arns=[key])
    policy = json.loads(rec.named("redis-secrets-read-policy").inputs["policy"])
    read, decrypt = policy["Statement"]
    assert read["Resource"] == [ARN, ARN.replace(":ap-southeast-1:", ":ap-southeast-2:")]
    assert decrypt["Action"] == "kms:Decrypt" and decrypt["Resource"] == [key]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.ap-southeast-1.amazonaws.com",
        "secretsmanager.ap-southeast-2.amazonaws.com",
    ]
    spc = rec.named("redis-secrets-class-spc")
    assert spc.inputs["spec"]["parameters"]["failoverRegion"] == "ap-southeast-2"
