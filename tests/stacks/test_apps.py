"""Applications on the platform: a team onboards with a few lines in its stack file, and
gets a namespace of its own, an identity reading exactly its secrets, and the class that
mounts them."""

from __future__ import annotations

import json
import shlex

import pytest
import yaml

from stacks.app import check_pod_manifest
from tests.conftest import FIXTURES, fixture
from tests.pod_security import violations
from tools.pulumi_mocks import PROJECT, Recorder, run_program, stack_config

NS = PROJECT
PAYMENTS = """\
    - name: payments
      identity: pod-identity
      secrets: [eks-secrets-dev/payments-db]
      egress:
        - {name: to-db, podLabels: {app: payments}, ports: [5432], cidr: 10.40.0.0/16}
      quota: {pods: 4, limitsMemory: 1Gi}
    - name: ledger
      secrets: [/eks-secrets-dev/ledger/db-url]
"""
PAYMENTS_SECRET = """\
    - name: eks-secrets-dev/payments-db
      description: Database credentials of the payments team
      namespace: payments
      jmesPath:
        - {path: url, objectAlias: db-url}
    - name: /eks-secrets-dev/ledger/db-url
      type: ssmparameter
      objectAlias: db-url
"""


def _with_lines_in_dev_stack_file(key: str, lines: str) -> str:
    """The value `key` has once `lines` are appended to it in the fixture dev stack file."""
    text = (FIXTURES / "Pulumi.dev.yaml").read_text()
    _, rest = text.split(f"  {NS}:{key}: |\n", 1)
    block = []
    for line in rest.splitlines(keepends=True):
        if line.startswith("    ") or not line.strip():
            block.append(line)
        else:
            break
    value = "".join(block).rstrip("\n") + "\n" + lines
    return yaml.safe_load(f"{key}: |\n{value}")[key]


@pytest.fixture(scope="module")
def onboarded() -> Recorder:
    """dev's two apps plus a third and a fourth, added in the stack file's YAML alone."""
    apps = _with_lines_in_dev_stack_file("apps", PAYMENTS)
    secrets = _with_lines_in_dev_stack_file("secrets", PAYMENTS_SECRET)
    names = [s["name"] for s in yaml.safe_load(secrets)]
    values = json.dumps({n: f"test-value-of-{n}" for n in names})
    overrides = {f"{NS}:apps": apps, f"{NS}:secrets": secrets, f"{NS}:secretValues": values}
    config = stack_config("dev", overrides, directory=FIXTURES)
    return run_program("dev", config)


def _app_resources(rec: Recorder, app: str) -> list:
    return [r for r in rec.resources if any(a.name == app for a in rec.ancestors(r))]


def test_an_application_added_in_the_stack_file_gets_its_own_unit(onboarded):
    (app,) = [r for r in onboarded.of_type("eksplatform:platform:App") if r.name == "payments"]
    assert app.parent.endswith(f"{PROJECT}-dev")
    owned = {r.type for r in _app_resources(onboarded, "payments")}
    assert {
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:LimitRange",
        "kubernetes:core/v1:ResourceQuota",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    } <= owned
    apps = onboarded.stack_outputs["apps"]
    assert set(apps) == {"secrets-demo", "secrets-demo-podid", "payments", "ledger"}


def test_the_new_application_reads_exactly_its_own_secret(onboarded):
    secret = onboarded.named("secret-eks-secrets-dev-payments-db-secret")
    policy = json.loads(onboarded.named("payments-secrets-read-policy").inputs["policy"])
    assert [s["Resource"] for s in policy["Statement"]] == [[secret.outputs["arn"]]]
    spc = onboarded.named("payments-secrets-class-spc").inputs
    assert spc["metadata"] == {
        "name": "payments",
        "namespace": "payments",
        "labels": spc["metadata"]["labels"],
    }
    objects = yaml.safe_load(spc["spec"]["parameters"]["objects"])
    assert objects == [
        {
            "objectName": "eks-secrets-dev/payments-db",
            "objectType": "secretsmanager",
            "jmesPath": [{"path": "url", "objectAlias": "db-url"}],
        }
    ]
    assert spc["spec"]["parameters"]["usePodIdentity"] == "true"
    association = onboarded.named("payments-secrets-podid-binding-association").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("payments", "payments")


def test_the_new_application_gets_its_baseline_quota_and_allows(onboarded):
    quota = onboarded.named("payments-ns-quota").inputs["spec"]["hard"]
    assert quota["pods"] == "4" and quota["limits.memory"] == "1Gi"
    namespace = onboarded.named("payments-ns-namespace").inputs["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"
    egress = onboarded.named("payments-ns-allow-egress-to-db").inputs["spec"]
    assert egress["podSelector"] == {"matchLabels": {"app": "payments"}}
    assert egress["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}],
            "ports": [{"protocol": "TCP", "port": 5432}],
        }
    ]
    assert onboarded.named("payments-ns-default-deny").inputs["spec"]["policyTypes"] == [
        "Ingress",
        "Egress",
    ]


def test_the_fourth_application_reads_its_ssm_parameter_through_irsa(onboarded):
    parameter = onboarded.named("secret-eks-secrets-dev-ledger-db-url-parameter").outputs["arn"]
    policy = json.loads(onboarded.named("ledger-secrets-read-policy").inputs["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "ReadListedParameters",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": [parameter],
        }
    ]
    sa = onboarded.named("ledger-secrets-irsa-sa").inputs["metadata"]
    assert (sa["namespace"], sa["name"]) == ("ledger", "ledger")
    assert onboarded.stack_outputs["apps"]["ledger"]["files"] == ["db-url"]


def test_the_new_application_gets_a_verify_command_that_restricted_admits(onboarded):
    out = onboarded.stack_outputs["apps"]["payments"]
    assert out["files"] == ["eks-secrets-dev_payments-db", "db-url"]
    command = shlex.split(out["verifyCommand"])
    assert command[:4] == ["kubectl", "-n", "payments", "run"]
    overrides = json.loads(
        next(a for a in command if a.startswith("--overrides=")).split("=", 1)[1]
    )
    assert overrides == check_pod_manifest("payments", "payments", "payments")
    assert violations(overrides["spec"], "restricted") == []
    assert overrides["spec"]["automountServiceAccountToken"] is False
    # `kubectl run -i` attaches to the container named after the pod.
    assert [c["name"] for c in overrides["spec"]["containers"]] == ["secrets-check"]
    assert "secrets-check" in command


def test_the_demo_apps_keep_their_class_and_the_nginx_workload(onboarded):
    spc = onboarded.named("secrets-demo-secrets-class-spc").inputs["metadata"]
    assert spc["name"] == "nginx-secrets-demo-aws"
    pod = onboarded.named("secrets-demo-workload-deployment").inputs["spec"]["template"]
    volume = next(v for v in pod["spec"]["volumes"] if "csi" in v)
    assert volume["csi"]["volumeAttributes"]["secretProviderClass"] == "nginx-secrets-demo-aws"
    assert not [r for r in _app_resources(onboarded, "payments") if "Deployment" in r.type]


def test_an_app_can_sync_its_files_to_a_kubernetes_secret(run_stack):
    apps = yaml.safe_load(stack_config("dev", directory=FIXTURES)[f"{NS}:apps"])
    apps[0]["syncSecret"] = True
    overrides = {f"{NS}:apps": yaml.safe_dump(apps), f"{NS}:enableSyncSecret": "true"}
    rec = run_stack(fixture("dev"), overrides)
    spc = rec.named("secrets-demo-secrets-class-spc").inputs["spec"]
    assert spc["secretObjects"][0]["secretName"] == "nginx-secrets-demo-synced"
    container = rec.named("secrets-demo-workload-deployment").inputs["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert {e["name"] for e in container["env"]} == {"DEMO_APP_CREDENTIALS", "USERNAME", "PASSWORD"}
