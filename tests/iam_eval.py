"""A real IAM policy evaluator for the tests: @cloud-copilot/iam-simulate, offline, in one
Node process per batch of requests (tests/iam_eval/evaluate.cjs).

The library is AGPL-3.0-or-later: a test-time tool installed by `make install` into
tests/iam_eval/node_modules, never shipped with the package.

Two modes (see tests/iam_eval/evaluate.cjs):
- validated (default): the library checks each policy, the action and the resource type,
  and drops context keys it does not know for the action; a dropped key is an error here,
  since a silently ignored condition key turns an answer into a wrong deny or allow;
- unsafe: no filtering, for the OIDC keys of IRSA trust policies (`<issuer>:sub`, `:aud`)
  and the tag keys of ABAC, which the validated mode drops or rejects. Policies are still
  validated by the script before it runs.

KMS needs the key policy as the resource policy: identity policies alone never allow a key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.pulumi_mocks import ACCOUNT

FOLDER = Path(__file__).resolve().parent / "iam_eval"
SCRIPT = FOLDER / "evaluate.cjs"
ALLOWED = "Allowed"
PolicyDocument = dict[str, Any]


class EvaluatorError(RuntimeError):
    """The evaluator could not answer a request (bad policy, unknown action or context key)."""


@dataclass(frozen=True)
class Request:
    """One authorization request: may `principal` do `action` on `resource`?"""

    principal: str
    """An IAM role/session ARN, a service principal or an OIDC provider ARN (federated)."""
    action: str
    resource: str
    identity_policies: Sequence[PolicyDocument] = ()
    resource_policy: PolicyDocument | None = None
    """A trust policy (with `trust=True`), a KMS key policy or a secret's resource policy."""
    trust: bool = False
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    unsafe: bool = False
    account_id: str = ACCOUNT
    """The resource's account."""

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": "unsafe" if self.unsafe else "validated",
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "accountId": self.account_id,
            "context": {k: v if isinstance(v, str) else list(v) for k, v in self.context.items()},
            "identityPolicies": list(self.identity_policies),
            "resourcePolicy": self.resource_policy,
            "resourcePolicyKind": "trust" if self.trust else "resource",
        }


def installed() -> bool:
    return (FOLDER / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir()


def evaluate(requests: Sequence[Request]) -> list[str]:
    """The decision for each request, in order: `Allowed`, `ImplicitlyDenied` or
    `ExplicitlyDenied`. One Node process for the whole batch."""
    if not requests:
        return []
    node = shutil.which("node")
    if not node:
        raise EvaluatorError("node is needed for the IAM evaluator")
    if not installed():
        raise EvaluatorError(
            f"{FOLDER.relative_to(FOLDER.parents[1])} is not installed: run `make install`"
        )
    payload = json.dumps({"requests": [r.as_json() for r in requests]})
    done = subprocess.run(
        [node, str(SCRIPT)],
        input=payload,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise EvaluatorError(f"evaluator exited {done.returncode}: {done.stderr.strip()}")
    results = json.loads(done.stdout)["results"]
    if len(results) != len(requests):
        raise EvaluatorError(f"{len(results)} answers for {len(requests)} requests")
    decisions = []
    problems = []
    for request, result in zip(requests, results, strict=True):
        if result["decision"] == "Error":
            problems.append(f"{request.action} on {request.resource}: {result['error']}")
        elif result.get("ignoredContextKeys"):
            problems.append(
                f"{request.action} on {request.resource}: context keys "
                f"{result['ignoredContextKeys']} were dropped; pass them with unsafe=True"
            )
        decisions.append(result["decision"])
    if problems:
        raise EvaluatorError("\n".join(problems))
    return decisions
