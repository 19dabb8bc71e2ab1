"""Fills the IAM templates of this folder for one stack: the documents to create its three
roles with (ci/iam/README.md, "Set up"): CI's preview and deploy roles, which hold no
permissions-management action, and the permissions-admin role of named people, which
applies the changes CI may not (ci/plan_gate.py).

    python ci/iam/render.py --stack prod --account-id 123456789012 \
        --repository my-org/eks-secrets-platform \
        --state-key-arn arn:aws:kms:ap-southeast-1:123456789012:key/<id> \
        --admin-principal-arn arn:aws:iam::123456789012:role/<your-admins-role> \
        --out build/iam/prod

Names, not tags, fence what a stack's roles may change wherever a tag could be forged: the
cluster name comes from Pulumi.<stack>.yaml; the secrets and parameters are every one the
program registers for that stack (run offline under the project's mocks, so a secret an
example generates for itself, such as the sidecar's certificate, is fenced in too) plus
those the stack file references by ARN; roles and policies live under the path
/eks-secrets-platform/<stack>/. Run it again, and update the roles, after adding a secret
or an app to a stack. Needs the project's .venv.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
IAM_DIR = Path(__file__).resolve().parent
PROJECT = "eks-secrets-platform"
# The GitHub environment of each stack's deploy jobs; its previews run in `<env>-preview`.
ENVIRONMENTS = {"dev": "dev", "staging": "staging", "prod": "production"}
TEMPLATES = {
    "deploy-trust-policy.json": "github-oidc-deploy-trust-policy.json",
    "preview-trust-policy.json": "github-oidc-preview-trust-policy.json",
    "deploy-policy.json": "deploy-policy.json",
    "preview-policy.json": "preview-policy.json",
    "permissions-admin-trust-policy.json": "permissions-admin-trust-policy.json",
    "permissions-admin-policy.json": "permissions-admin-policy.json",
    "permissions-boundary-policy.json": "permissions-boundary-policy.json",
}
# Each role of a stack: its trust policy, and the managed policies attached to it. Only the
# first two are CI identities (trusted by GitHub's OIDC provider); the permissions-admin
# role is assumed by the people named with --admin-principal-arn, never by a workflow.
ROLES = {
    "deploy": ("deploy-trust-policy.json", ("deploy-policy.json",)),
    "preview": ("preview-trust-policy.json", ("preview-policy.json",)),
    "permissions-admin": (
        "permissions-admin-trust-policy.json",
        ("deploy-policy.json", "permissions-admin-policy.json"),
    ),
}
CI_ROLES = ("deploy", "preview")
LISTS = (
    "<SECRET_ARNS>",
    "<READ_SECRET_ARNS>",
    "<PARAMETER_ARNS>",
    "<READ_PARAMETER_ARNS>",
    "<ADMIN_PRINCIPAL_ARNS>",
)
ACCOUNT_ID = re.compile(r"\d{12}")
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
# A customer managed policy holds at most 6,144 characters without whitespace (IAM quotas);
# a role's inline policies together only 10,240, too little for the deploy role.
MANAGED_POLICY_LIMIT = 6144


def program_secrets(stack: str, config: dict[str, str]) -> list[dict[str, Any]]:
    """Every Secrets Manager secret and SSM parameter the program registers for `stack`
    (created or imported), as `secrets` entries: what the deploy role must be able to write."""
    from tools.pulumi_mocks import run_program
    from tools.render import REDACTED, SECRET_VALUES_KEY, created_secret_names

    config = dict(config)
    config[SECRET_VALUES_KEY] = json.dumps(dict.fromkeys(created_secret_names(config), REDACTED))
    recorder = run_program(stack, config)
    found = [
        {"name": r.inputs["name"], "type": "secretsmanager"}
        for r in recorder.of_type("aws:secretsmanager/secret:Secret")
    ]
    found += [
        {"name": r.inputs["name"], "type": "ssmparameter"}
        for r in recorder.of_type("aws:ssm/parameter:Parameter")
    ]
    # Registration order varies between runs; the rendered policies must not.
    return sorted(found, key=lambda s: (s["type"], s["name"]))


def _project_importable() -> None:
    """Run as `python ci/iam/render.py`, the project's own modules are not on the path."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def stack_settings(stack: str) -> dict[str, Any]:
    """The cluster name, and the secrets and parameters: the program's, and those the stack
    file references by ARN (read, never written)."""
    _project_importable()
    from stacks.config.yaml_loader import load
    from tools.pulumi_mocks import stack_config

    config = stack_config(stack)
    listed = load(config.get(f"{PROJECT}:secrets") or "[]") or []
    referenced = [s for s in listed if s.get("existingArn") and not s.get("import")]
    imported = {s["name"]: s["existingArn"] for s in listed if s.get("import")}
    owned = [
        {**s, "existingArn": imported[s["name"]], "import": True} if s["name"] in imported else s
        for s in program_secrets(stack, config)
    ]
    return {
        "cluster": config.get(f"{PROJECT}:clusterName") or f"eks-secrets-{stack}",
        "secrets": [*owned, *referenced],
    }


def _arns(secrets: list[dict[str, Any]], account_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in LISTS}
    for item in secrets:
        name, existing = str(item["name"]), str(item.get("existingArn") or "")
        owned = not existing or bool(item.get("import"))
        if item.get("type", "secretsmanager") == "ssmparameter":
            arn = existing or f"arn:aws:ssm:*:{account_id}:parameter/{name.lstrip('/')}"
            kind = "PARAMETER"
        else:
            arn = existing or f"arn:aws:secretsmanager:*:{account_id}:secret:{name}-??????"
            kind = "SECRET"
        found[f"<READ_{kind}_ARNS>"].append(arn)
        if owned:
            found[f"<{kind}_ARNS>"].append(arn)
    return found


def _fill(node: Any, lists: dict[str, list[str]], values: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, lists, values) for k, v in node.items()}
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            out.extend(
                lists[item]
                if isinstance(item, str) and item in lists
                else [_fill(item, lists, values)]
            )
        return out
    if isinstance(node, str):
        for placeholder, value in values.items():
            node = node.replace(placeholder, value)
        return node
    return node


def render(
    stack: str,
    *,
    account_id: str,
    repository: str,
    state_key_arn: str,
    admin_principal_arns: tuple[str, ...] | list[str] = (),
    state_bucket: str = "",
) -> dict[str, dict[str, Any]]:
    """File name -> policy document, every placeholder filled. A statement left with no
    resource (a stack without SSM parameters) is dropped."""
    problems = []
    if stack not in ENVIRONMENTS:
        problems.append(f"--stack {stack!r}: must be one of {', '.join(ENVIRONMENTS)}")
    if not ACCOUNT_ID.fullmatch(account_id):
        problems.append(f"--account-id {account_id!r}: must be 12 digits")
    if not REPOSITORY.fullmatch(repository):
        problems.append(f"--repository {repository!r}: must be <org>/<repo>")
    if not KMS_KEY_ARN.fullmatch(state_key_arn):
        problems.append(f"--state-key-arn {state_key_arn!r}: must be a KMS key ARN")
    if not admin_principal_arns:
        problems.append(
            "--admin-principal-arn: name at least one IAM role or user of the people who "
            "apply permission changes"
        )
    _project_importable()
    from stacks.config.rules import IAM_PRINCIPAL_ARN

    for arn in admin_principal_arns:
        if not IAM_PRINCIPAL_ARN.fullmatch(arn):
            problems.append(f"--admin-principal-arn {arn!r}: must be an IAM role or user ARN")
    if problems:
        raise ValueError("; ".join(problems))
    settings = stack_settings(stack)
    org, repo = repository.split("/")
    values = {
        "<ACCOUNT_ID>": account_id,
        "<ORG>": org,
        "<REPO>": repo,
        "<ENVIRONMENT>": ENVIRONMENTS[stack],
        "<STACK>": stack,
        "<CLUSTER>": settings["cluster"],
        "<STATE_BUCKET>": state_bucket or f"{account_id}-{PROJECT}-pulumi-state",
        "<STATE_KEY_ARN>": state_key_arn,
    }
    lists = {
        **_arns(settings["secrets"], account_id),
        "<ADMIN_PRINCIPAL_ARNS>": list(admin_principal_arns),
    }
    rendered = {}
    for out, template in TEMPLATES.items():
        document = _fill(json.loads((IAM_DIR / template).read_text()), lists, values)
        document["Statement"] = [
            s for s in document["Statement"] if "Resource" not in s or s["Resource"] != []
        ]
        rendered[out] = document
    return rendered


def size(document: dict[str, Any]) -> int:
    """Characters IAM counts against its quotas (whitespace excluded)."""
    return len(json.dumps(document, separators=(",", ":")))


def split(document: dict[str, Any], limit: int = MANAGED_POLICY_LIMIT) -> list[dict[str, Any]]:
    """The document as managed policies of at most `limit` characters, statements in order.
    Allows and Denies mean the same spread over several policies of one role."""
    parts: list[dict[str, Any]] = []
    for statement in document["Statement"]:
        if (
            parts
            and size({**parts[-1], "Statement": [*parts[-1]["Statement"], statement]}) <= limit
        ):
            parts[-1]["Statement"].append(statement)
        else:
            parts.append({"Version": document["Version"], "Statement": [statement]})
    assert all(size(p) <= limit for p in parts), "one statement exceeds a managed policy"
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--stack", required=True, choices=sorted(ENVIRONMENTS))
    parser.add_argument("--account-id", required=True)
    parser.add_argument("--repository", required=True, help="<org>/<repo> on GitHub")
    parser.add_argument("--state-key-arn", required=True, help="the stack's awskms key")
    parser.add_argument(
        "--admin-principal-arn",
        action="append",
        default=[],
        help="an IAM role or user of the people who may assume the permissions-admin role "
        "(repeat for several)",
    )
    parser.add_argument(
        "--state-bucket", default="", help=f"default <account>-{PROJECT}-pulumi-state"
    )
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        documents = render(
            args.stack,
            account_id=args.account_id,
            repository=args.repository,
            state_key_arn=args.state_key_arn,
            admin_principal_arns=args.admin_principal_arn,
            state_bucket=args.state_bucket,
        )
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        parts = [document] if "trust" in name else split(document)
        for index, part in enumerate(parts, start=1):
            out = args.out / (name if "trust" in name else name.replace(".json", f"-{index}.json"))
            out.write_text(json.dumps(part, indent=2) + "\n")
            print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
