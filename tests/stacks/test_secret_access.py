"""Exactly one code path turns "this workload reads these secrets" into a policy, an
identity and a class, so every workload honours SSM parameters, the stack's key and
failover alike. The two regressions here were bugs of a second path."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import yaml

from tests.stacks.configs import key, raw_config, stack_secrets
from tools.pulumi_mocks import ROOT, Recorder, run_program


def _run(overrides=None, secrets=None) -> Recorder:
    return run_program("dev", raw_config(overrides, secrets=secrets))


def _statements(rec: Recorder, name: str) -> list[dict]:
    return json.loads(rec.named(name).inputs["policy"])["Statement"]


def test_redis_password_as_an_ssm_parameter_is_read_with_ssm_actions():
    """A second path once granted secretsmanager:* on the parameter's ARN."""
    secrets = [
        {"name": "redis-password", "type": "ssmparameter"} if s["name"] == "redis-password" else s
        for s in stack_secrets()
    ]
    rec = _run(secrets=secrets)
    parameter = rec.named("secret-redis-password-parameter").outputs["arn"]
    assert _statements(rec, "redis-secret-secrets-read-policy") == [
        {
            "Sid": "ReadListedParameters",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": [parameter],
        }
    ]
    objects = yaml.safe_load(
        rec.named("redis-secret-secrets-class-spc").inputs["spec"]["parameters"]["objects"]
    )
    assert objects == [{"objectName": "redis-password", "objectType": "ssmparameter"}]


def test_sidecar_certificate_is_encrypted_with_the_stack_key_and_listed():
    """A second path once left the generated certificate on the AWS managed key, out of
    `secretArns`, and its reader without kms:Decrypt."""
    rec = _run({key("secretsKmsKey"): "create"})
    stack_key = rec.named("secrets-kms-key").outputs["arn"]
    secret = rec.named("sidecar-tls-secret-secret")
    assert secret.inputs["kmsKeyId"] == stack_key
    name = secret.inputs["name"]
    assert rec.stack_outputs["secretArns"][name] == secret.outputs["arn"]
    read, decrypt = _statements(rec, "sidecar-secrets-read-policy")
    assert read["Resource"] == [secret.outputs["arn"]]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Resource"] == [stack_key]


def test_sidecar_certificate_fails_over_like_every_secret():
    secrets = [dict(s, replicaRegions=["ap-southeast-2"]) for s in stack_secrets()]
    rec = _run({key("failoverRegion"): "ap-southeast-2", key("secretsKmsKey"): "create"}, secrets)
    secret = rec.named("sidecar-tls-secret-secret")
    replica_key = rec.named("secrets-kms-replica-ap-southeast-2").outputs["arn"]
    assert secret.inputs["replicas"] == [{"region": "ap-southeast-2", "kmsKeyId": replica_key}]
    spc = rec.named("sidecar-secrets-class-spc").inputs["spec"]["parameters"]
    assert spc["failoverRegion"] == "ap-southeast-2"


def _calls(path: Path, name: str) -> int:
    tree = ast.parse(path.read_text())
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == name
    )


def test_only_the_platform_and_team_app_build_secret_access():
    """WorkloadSecrets is constructed in two places only: the platform (for `apps` entries and
    examples, which ask it) and TeamApp (a team's own stack, which has no platform handle)."""
    program = [*ROOT.glob("components/**/*.py"), *ROOT.glob("stacks/**/*.py")]
    builders = {
        str(p.relative_to(ROOT)): n
        for p in program
        if (n := _calls(p, "WorkloadSecrets")) and p.name != "workload_secrets.py"
    }
    assert builders == {"stacks/platform.py": 1, "components/app.py": 1}
    askers = {str(p.relative_to(ROOT)) for p in program if _calls(p, "secret_access")}
    assert askers == {"stacks/app.py"}
