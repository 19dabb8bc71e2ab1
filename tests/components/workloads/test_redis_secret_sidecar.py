"""Redis sidecar with a secret (seed 002): the password only ever arrives as a CSI file."""

import pytest
from eksplatform.k8s import SECRETS_MOUNT_PATH
from eksplatform.workloads.redis_secret_sidecar import (
    RedisSecretSidecar,
    RedisSecretSidecarArgs,
    app_script,
    redis_script,
    redis_secret_pod_spec,
)

from tests.workload_checks import assert_hardened, container, mounts, volumes_are_declared

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


def test_bad_namespace_is_refused():
    with pytest.raises(ValueError, match="must be a DNS-1123 label"):
        RedisSecretSidecarArgs("Redis", "redis-secret-app", "redis-secret-app", "redis-password")


def test_component_runs_the_pod_with_the_given_identity_and_class(build):
    args = RedisSecretSidecarArgs("redis", "redis-secret-app", "redis-secret-app", "redis-password")
    rec = build(lambda: RedisSecretSidecar("redis-secret", args))
    pod = rec.named("redis-secret-deployment").inputs["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "redis-secret-app"
    volume = next(v for v in pod["volumes"] if "csi" in v)
    assert volume["csi"]["volumeAttributes"] == {"secretProviderClass": "redis-secret-app"}
    redis = next(c for c in pod["containers"] if c["name"] == "redis")
    assert redis["command"] == ["sh", "-c", redis_script("redis-password")]
