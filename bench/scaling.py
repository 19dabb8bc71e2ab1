"""How the program scales with tenants: N tenant workloads built through the components'
public API, for N = 1, 10, 100, printing time and resource count so growth is visible.

Each tenant is what a team onboarding onto the platform gets: a NamespaceBaseline (Pod
Security labels, LimitRange, ResourceQuota, default-deny NetworkPolicies), WorkloadSecrets
(read policy, IRSA role and ServiceAccount, SecretProviderClass) and the nginx Deployment and
Service of NginxSecretsDemo. Each N runs in a fresh process under the same mocks as the tests,
after a one-tenant warm-up; the time is from the first component to the last registration.

    python bench/scaling.py [--tenants 1 10 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REGION = "ap-southeast-1"
ACCOUNT = "123456789012"
ISSUER = "oidc.eks.ap-southeast-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


def build_tenants(count: int) -> None:
    """Constructs `count` tenants; call inside a Pulumi program (or @pulumi.runtime.test)."""
    from components.namespace_baseline import NamespaceBaseline, NamespaceBaselineArgs
    from components.secret_provider_class import SecretObject
    from components.workload_secrets import WorkloadSecrets, WorkloadSecretsArgs
    from components.workloads.nginx_secrets_demo import NginxSecretsDemo, NginxSecretsDemoArgs

    for index in range(count):
        namespace = f"tenant-{index:03d}"
        secret = f"{namespace}-credentials"
        baseline = NamespaceBaseline(namespace, NamespaceBaselineArgs(name=namespace))
        access = WorkloadSecrets(
            f"{namespace}-secrets",
            WorkloadSecretsArgs(
                namespace=namespace,
                service_account="app",
                secret_provider_class="app-aws",
                objects=[SecretObject(secret)],
                secret_arns=[f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-AbCdEf"],
                region=REGION,
                oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}",
                oidc_issuer=ISSUER,
                wait_for=list(baseline.ready),
            ),
        )
        NginxSecretsDemo(
            f"{namespace}-app",
            NginxSecretsDemoArgs(
                namespace=namespace,
                service_account="app",
                secret_provider_class=access.class_name,
                wait_for=list(access.ready),
            ),
        )


def measure_once(count: int) -> dict[str, float]:
    """One timed build after a one-tenant warm-up, so lazy SDK imports are not counted."""
    _build_under_mocks(1)
    return _build_under_mocks(count)


def _build_under_mocks(count: int) -> dict[str, float]:
    import pulumi

    from tools.pulumi_mocks import PROJECT, RealisticMocks, Recorder, RecordingMonitor

    recorder = Recorder()
    mocks = RealisticMocks(region=REGION)
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack="bench",
        preview=False,
        monitor=RecordingMonitor(mocks, recorder),
    )

    @pulumi.runtime.test
    def program() -> None:
        build_tenants(count)

    start = time.perf_counter()
    program()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "resources": len(recorder.resources)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_once(args.one)))
        return
    print(f"tenants  resources  seconds (median of {args.runs})  ms/resource  vs N=1 per tenant")
    baseline = None
    for count in args.tenants:
        samples = [
            json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--one", str(count)],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                ).stdout
            )
            for _ in range(args.runs)
        ]
        seconds = statistics.median(s["seconds"] for s in samples)
        resources = int(samples[0]["resources"])
        per_tenant = seconds / count
        baseline = baseline or per_tenant
        print(
            f"{count:>7}  {resources:>9}  {seconds:>22.2f}  {1000 * seconds / resources:>11.1f}"
            f"  {per_tenant / baseline:>17.2f}x"
        )


if __name__ == "__main__":
    main()
