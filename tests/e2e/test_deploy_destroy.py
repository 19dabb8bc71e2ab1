"""End to end: deploy an ephemeral copy of the dev stack to AWS, check what the pods see,
destroy it, and check that nothing is left.

Never part of `make test` (the `e2e` marker is deselected by default). Run it in a sandbox
account and region where no other stack of this project lives, because the demo secret
has a fixed name:

    AWS_PROFILE=sandbox AWS_REGION=ap-southeast-1 .venv/bin/python -m pytest -m e2e tests/e2e

It needs the Pulumi CLI (logged in to any backend), kubectl, the AWS CLI (the kubeconfig
calls `aws eks get-token`) and AWS credentials. It takes about 30 minutes and costs what the
dev stack costs for that time (an EKS control plane, one node, one NAT gateway).
Set E2E_PUBLIC_ACCESS_CIDRS (comma separated) to the CIDRs kubectl connects from; without
it the test asks checkip.amazonaws.com for this machine's address.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from pulumi import automation as auto

from scripts.find_leftovers import Clients, Leftover, Target, find_leftovers

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "eks-secrets-platform"
REGION = os.environ.get("AWS_REGION", "ap-southeast-1")
CHECKED_EXAMPLES = ("sidecar", "ambassador", "adapter")
EXAMPLE_SWITCH = re.compile(r"enable(?P<name>[A-Z]\w*?)Example")
DEMO_DEPLOYMENT = "nginx-secrets-demo"
DEMO_LABEL = f"app.kubernetes.io/name={DEMO_DEPLOYMENT}"
DEMO_NAMESPACE = "secrets-demo"
DEMO_FILE = "/mnt/secrets-store/demo-app-credentials"
AMBASSADOR_REQUESTS = 40
LEFTOVER_WAIT_SECONDS = 600


@pytest.fixture(scope="module")
def prerequisites() -> None:
    """Checked when the test runs, never at collection: the unit run must not touch AWS."""
    for tool, why in (
        ("pulumi", "the Pulumi CLI"),
        ("kubectl", "kubectl"),
        ("aws", "the AWS CLI (the kubeconfig runs `aws eks get-token`)"),
    ):
        if shutil.which(tool) is None:
            pytest.skip(f"e2e needs {why} on PATH")
    if boto3.Session(region_name=REGION).get_credentials() is None:
        pytest.skip("e2e needs AWS credentials (environment, profile, SSO or instance role)")


# --- stack configuration ---------------------------------------------------------------


def dev_config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]


def example_switches() -> dict[str, bool]:
    """Every enable<Name>Example switch of Pulumi.yaml: on for the checked examples only."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    switches = {
        f"{PROJECT}:{key}": match["name"].lower() in CHECKED_EXAMPLES
        for key in declared
        if (match := EXAMPLE_SWITCH.fullmatch(key))
    }
    found = {key.split(":")[1][len("enable") : -len("Example")].lower() for key in switches}
    missing = set(CHECKED_EXAMPLES) - found
    if missing:
        pytest.fail(f"Pulumi.yaml declares no enable<Name>Example switch for {sorted(missing)}")
    return switches


def public_access_cidrs() -> list[str]:
    if cidrs := os.environ.get("E2E_PUBLIC_ACCESS_CIDRS"):
        return [c.strip() for c in cidrs.split(",") if c.strip()]
    with urllib.request.urlopen("https://checkip.amazonaws.com", timeout=10) as response:
        return [f"{response.read().decode().strip()}/32"]


def config_value(value: Any) -> auto.ConfigValue:
    """Stack files hold typed YAML; the program reads lists and booleans as JSON text."""
    return auto.ConfigValue(value if isinstance(value, str) else json.dumps(value))


def created_secret_names() -> list[str]:
    specs = yaml.safe_load(dev_config()[f"{PROJECT}:secrets"]) or []
    return [s["name"] for s in specs if not s.get("existingArn")]


def secret_values(credentials: dict[str, str]) -> str:
    """A value for every secret the stack creates; the demo's is the checked one."""
    values = {name: secrets.token_urlsafe(24) for name in created_secret_names()}
    return json.dumps({**values, "demo-app-credentials": credentials})


def configure(stack: auto.Stack, credentials: dict[str, str]) -> None:
    config = {key: config_value(value) for key, value in dev_config().items()}
    config.update({key: config_value(on) for key, on in example_switches().items()})
    config[f"{PROJECT}:publicAccessCidrs"] = config_value(public_access_cidrs())
    config["aws:region"] = config_value(REGION)
    config[f"{PROJECT}:secretValues"] = auto.ConfigValue(secret_values(credentials), secret=True)
    stack.set_all_config(config)


def expected_server1_share() -> float:
    config = dev_config()
    first = int(config.get(f"{PROJECT}:ambassadorServer1Weight", 3))
    second = int(config.get(f"{PROJECT}:ambassadorServer2Weight", 1))
    return first / (first + second)


def require_free_secret_names(region: str) -> None:
    """A secret of another stack, or one still in its recovery window, blocks creation."""
    client = boto3.client("secretsmanager", region_name=region)
    for name in created_secret_names():
        try:
            client.describe_secret(SecretId=name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                continue
            raise
        pytest.skip(f"secret {name!r} already exists in {region}; run the e2e in a sandbox")


# --- kubectl -----------------------------------------------------------------------------


def kubectl(kubeconfig: Path, *args: str, timeout: int = 120) -> str:
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def write_kubeconfig(outputs: dict[str, auto.OutputValue], directory: Path) -> Path:
    value = outputs["kubeconfig"].value
    path = directory / "kubeconfig.json"
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    path.chmod(0o600)
    return path


def namespace_of(outputs: dict[str, auto.OutputValue], example: str) -> str:
    """From the `exampleNamespaces` output ({"sidecar": ..., "ambassador": ...})."""
    namespaces = outputs["exampleNamespaces"].value if "exampleNamespaces" in outputs else {}
    assert example in namespaces, f"example {example!r} is not deployed: {namespaces}"
    return namespaces[example]


def exec_in(
    kubeconfig: Path, namespace: str, deployment: str, container: str, *command: str
) -> str:
    return kubectl(
        kubeconfig, "-n", namespace, "exec", f"deploy/{deployment}", "-c", container, "--", *command
    )


def wait_ready(kubeconfig: Path, namespace: str, deployment: str) -> None:
    rollout = ("rollout", "status", f"deploy/{deployment}", "--timeout=600s")
    kubectl(kubeconfig, "-n", namespace, *rollout, timeout=660)


@contextmanager
def port_forward(kubeconfig: Path, namespace: str, target: str, port: int) -> Iterator[int]:
    """Forwards a free local port to `target`:`port` and yields the local port."""
    command = ["kubectl", "--kubeconfig", str(kubeconfig), "-n", namespace, "port-forward"]
    process = subprocess.Popen([*command, target, f":{port}"], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert match, f"kubectl port-forward did not start: {line!r}"
        yield int(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=10)


def https_get(port: int) -> tuple[bytes, str]:
    """The certificate the server presents (DER) and its response to GET /."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the caller compares the certificate itself
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw) as tls,
    ):
        certificate = tls.getpeercert(binary_form=True) or b""
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        return certificate, b"".join(iter(lambda: tls.recv(4096), b"")).decode()


# --- checks ------------------------------------------------------------------------------


def check_demo_reads_the_secret(kubeconfig: Path, credentials: dict[str, str]) -> None:
    ready = ("wait", "--for=condition=Ready", "pod", "-l", DEMO_LABEL, "--timeout=600s")
    kubectl(kubeconfig, "-n", DEMO_NAMESPACE, *ready, timeout=660)
    mounted = exec_in(kubeconfig, DEMO_NAMESPACE, DEMO_DEPLOYMENT, "nginx", "cat", DEMO_FILE)
    assert json.loads(mounted) == credentials


def check_ambassador_splits_by_weight(kubeconfig: Path, namespace: str) -> None:
    # Imported here so a renamed constant fails the e2e run, not the unit run's collection.
    from eksplatform.workloads.ambassador import AMBASSADOR, PROXY_PORT

    wait_ready(kubeconfig, namespace, AMBASSADOR)
    loop = f"for i in $(seq {AMBASSADOR_REQUESTS}); do curl -s localhost:{PROXY_PORT}; done"
    out = exec_in(kubeconfig, namespace, AMBASSADOR, "main", "sh", "-c", loop)
    counts = Counter(line.strip() for line in out.splitlines() if line.strip())
    first, second = counts["served by server1"], counts["served by server2"]
    assert first + second == AMBASSADOR_REQUESTS, counts
    share = expected_server1_share()
    assert abs(first / AMBASSADOR_REQUESTS - share) <= 0.15, f"expected {share:.0%}: {counts}"


def check_adapter_exports_redis_metrics(kubeconfig: Path, namespace: str) -> None:
    from eksplatform.workloads.adapter import APP_NAME, METRICS_PORT

    wait_ready(kubeconfig, namespace, APP_NAME)
    url = f"http://127.0.0.1:{METRICS_PORT}/metrics"
    metrics = exec_in(kubeconfig, namespace, APP_NAME, "redis", "wget", "-qO-", url)
    assert re.search(r"^redis_up 1$", metrics, re.MULTILINE), "redis_up is not 1"


def check_sidecar_serves_the_mounted_certificate(kubeconfig: Path, namespace: str) -> None:
    from eksplatform.k8s import SECRETS_MOUNT_PATH
    from eksplatform.workloads.sidecar import APP_NAME, CERT_FILE, PAGE, SERVICE_PORT

    wait_ready(kubeconfig, namespace, APP_NAME)
    pem = exec_in(
        kubeconfig, namespace, APP_NAME, "nginx", "cat", f"{SECRETS_MOUNT_PATH}/{CERT_FILE}"
    )
    end = "-----END CERTIFICATE-----"
    mounted = ssl.PEM_cert_to_DER_cert(pem.split(end)[0] + end + "\n")
    with port_forward(kubeconfig, namespace, f"svc/{APP_NAME}", SERVICE_PORT) as port:
        served, response = https_get(port)
    assert served == mounted, "nginx does not serve the certificate mounted from the secret"
    assert response.startswith("HTTP/1.1 200"), response.splitlines()[:1]
    assert PAGE.strip() in response


# --- teardown ----------------------------------------------------------------------------


def remaining(target: Target) -> list[Leftover]:
    clients = Clients.from_session(boto3.Session(region_name=REGION))
    deadline = time.monotonic() + LEFTOVER_WAIT_SECONDS
    while True:  # ENIs and load balancers go a few minutes after the cluster
        found = find_leftovers(clients, target)
        if not [f for f in found if not f.pending_deletion] or time.monotonic() > deadline:
            return found
        time.sleep(30)


def purge_secrets_in_recovery(leftovers: list[Leftover]) -> None:
    """Lets the next run reuse the secret names; only this ephemeral stack's secrets."""
    client = boto3.client("secretsmanager", region_name=REGION)
    for leftover in leftovers:
        if leftover.pending_deletion and ":secretsmanager:" in leftover.identifier:
            client.delete_secret(SecretId=leftover.identifier, ForceDeleteWithoutRecovery=True)


def test_stack_serves_secrets_and_examples_then_leaves_nothing_behind(prerequisites, tmp_path):
    name = f"e2e-{secrets.token_hex(3)}"
    credentials = {"username": "e2e", "password": secrets.token_urlsafe(24)}
    require_free_secret_names(REGION)
    env = {
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE")
        or secrets.token_urlsafe(24)
    }
    stack = auto.create_or_select_stack(
        stack_name=name, work_dir=str(ROOT), opts=auto.LocalWorkspaceOptions(env_vars=env)
    )
    destroyed = False
    try:
        configure(stack, credentials)
        outputs = stack.up(on_output=print, color="never").outputs
        kubeconfig = write_kubeconfig(outputs, tmp_path)
        check_demo_reads_the_secret(kubeconfig, credentials)
        check_ambassador_splits_by_weight(kubeconfig, namespace_of(outputs, "ambassador"))
        check_adapter_exports_redis_metrics(kubeconfig, namespace_of(outputs, "adapter"))
        check_sidecar_serves_the_mounted_certificate(kubeconfig, namespace_of(outputs, "sidecar"))
    finally:
        try:
            stack.destroy(on_output=print, color="never")
            destroyed = True
        finally:
            if destroyed:
                stack.workspace.remove_stack(name)
            else:
                print(f"destroy failed: stack {name} kept; finish with `pulumi destroy -s {name}`")

    leftovers = remaining(Target(stack=name, cluster_name=f"eks-secrets-{name}"))
    purge_secrets_in_recovery(leftovers)
    assert [f for f in leftovers if not f.pending_deletion] == []
