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
cluster name comes from Pulumi.<stack>.yaml; the secrets and parameters are fenced by the
stack's secretNamePrefix (`secret:<prefix>*`, `parameter/<prefix>*`) plus the exact ARNs of
the few it keeps outside that prefix (secretNamesOutsidePrefix), so the policies keep their
size however many secrets and apps the stack has, and adding one needs no new render. The
program is still run offline under the project's mocks: every secret and parameter it
registers (an example's own too, such as the sidecar's certificate) must be inside the
fence, or nothing is rendered. Roles and policies live under the path
/eks-secrets-platform/<stack>/. Over any IAM size quota, it refuses (exit 2) naming the
document, the statement, the size and the fix. Needs the project's .venv.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
IAM_DIR = Path(__file__).resolve().parent
PROJECT = "eks-secrets-platform"
# The GitHub environment of a stack's deploy jobs is the stack's name, but for these; its
# previews run in `<environment>-preview`.
ENVIRONMENT_NAMES = {"prod": "production"}
# A Pulumi stack name (letters, digits, _ . -); also the IAM path and the GitHub environment.
STACK = re.compile(r"[A-Za-z0-9_.-]{1,100}")
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
LISTS = ("<SECRET_ARNS>", "<PARAMETER_ARNS>", "<ADMIN_PRINCIPAL_ARNS>")
ACCOUNT_ID = re.compile(r"\d{12}")
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
# IAM quotas ("IAM and AWS STS quotas", IAM User Guide): a customer managed policy holds at
# most 6,144 characters without whitespace; a role's trust policy 2,048 by default (4,096 on
# request); a role takes 10 managed policies by default, 20 at most on request. A role's
# inline policies together hold only 10,240, too little for the deploy role.
MANAGED_POLICY_LIMIT = 6144
TRUST_POLICY_LIMIT = 2048
MANAGED_POLICIES_PER_ROLE = 10
MANAGED_POLICIES_PER_ROLE_MAX = 20
QUOTAS_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"


class PolicyLimitError(ValueError):
    """A rendered document over one of IAM's quotas: what to create could not be created."""


def environment(stack: str) -> str:
    """The GitHub environment of the stack's deploy jobs."""
    return ENVIRONMENT_NAMES.get(stack, stack)


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


def stack_settings(stack: str, config: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The cluster name, the secret fence (prefix and the names kept outside it) and every
    secret and parameter the program registers (created or imported), each inside the fence.
    Referenced secrets (existingArn without import) are not among them: the program only
    passes their ARNs on (to workload policies and SecretProviderClasses), so neither
    `pulumi preview` nor `up` calls Secrets Manager or SSM about them, and CI needs no access.
    """
    _project_importable()
    from stacks.config.yaml_loader import load
    from tools.pulumi_mocks import stack_config

    if config is None:
        try:
            config = stack_config(stack)
        except FileNotFoundError as err:
            raise ValueError(f"--stack {stack!r}: {err}") from None
    config = dict(config)
    listed = load(config.get(f"{PROJECT}:secrets") or "[]") or []
    imported = {s["name"]: s["existingArn"] for s in listed if s.get("import")}
    cluster = config.get(f"{PROJECT}:clusterName") or f"eks-secrets-{stack}"
    prefix, outside = fence_of(config, cluster)
    owned = [
        {**s, "existingArn": imported[s["name"]], "import": True} if s["name"] in imported else s
        for s in program_secrets(stack, config)
    ]
    # The program refuses a config whose secrets leave the fence (stacks/config/secrets.py);
    # this only keeps a render from ever granting less than the program needs.
    for item in owned:
        if not (_within(item, prefix) or item["name"] in outside):
            raise ValueError(
                f"{item['type']} {item['name']!r} of stack {stack!r} is outside its secret "
                f"fence ({prefix!r} and secretNamesOutsidePrefix)"
            )
    return {"cluster": cluster, "prefix": prefix, "outside": outside, "secrets": owned}


def fence_of(config: Mapping[str, str], cluster: str) -> tuple[str, list[str]]:
    """secretNamePrefix (empty: `<cluster>/`) and secretNamesOutsidePrefix of a raw config."""
    prefix = config.get(f"{PROJECT}:secretNamePrefix") or f"{cluster}/"
    return prefix, list(json.loads(config.get(f"{PROJECT}:secretNamesOutsidePrefix") or "[]"))


def _within(item: Mapping[str, Any], prefix: str) -> bool:
    name = str(item["name"])
    return (name.lstrip("/") if item.get("type") == "ssmparameter" else name).startswith(prefix)


def other_fences(stack: str) -> list[str]:
    """Problems where this stack's fence meets that of another stack file of this project:
    two stacks in one account would each be allowed to change the other's secrets."""
    _project_importable()
    from tools.pulumi_mocks import stack_config

    def fence(name: str) -> tuple[str, list[str]]:
        config = stack_config(name)
        return fence_of(config, config.get(f"{PROJECT}:clusterName") or f"eks-secrets-{name}")

    if not (ROOT / f"Pulumi.{stack}.yaml").exists():
        return []
    prefix, outside = fence(stack)
    problems = []
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        other = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if other == stack:
            continue
        their_prefix, their_outside = fence(other)
        if prefix.startswith(their_prefix) or their_prefix.startswith(prefix):
            problems.append(
                f"secretNamePrefix {prefix!r} of stack {stack!r} overlaps {their_prefix!r} of "
                f"stack {other!r}: give each stack a prefix that is not the start of another's"
            )
        for name in sorted(set(outside) & set(their_outside)):
            problems.append(
                f"secretNamesOutsidePrefix {name!r} is listed by both {stack!r} and {other!r}"
            )
        for name in outside:
            if name.lstrip("/").startswith(their_prefix):
                problems.append(
                    f"secretNamesOutsidePrefix {name!r} of stack {stack!r} is under the "
                    f"secretNamePrefix {their_prefix!r} of stack {other!r}"
                )
    return problems


def _arns(settings: Mapping[str, Any], account_id: str) -> dict[str, list[str]]:
    """The prefix wildcards, then the exact ARN of each secret or parameter kept outside the
    prefix (an imported one by its existingArn)."""
    prefix = settings["prefix"]
    found: dict[str, list[str]] = {
        "<SECRET_ARNS>": [f"arn:aws:secretsmanager:*:{account_id}:secret:{prefix}*"],
        "<PARAMETER_ARNS>": [f"arn:aws:ssm:*:{account_id}:parameter/{prefix}*"],
    }
    for item in settings["secrets"]:
        if _within(item, prefix):
            continue
        name, existing = str(item["name"]), str(item.get("existingArn") or "")
        if item.get("type", "secretsmanager") == "ssmparameter":
            arn = existing or f"arn:aws:ssm:*:{account_id}:parameter/{name.lstrip('/')}"
            found["<PARAMETER_ARNS>"].append(arn)
        else:
            arn = existing or f"arn:aws:secretsmanager:*:{account_id}:secret:{name}-??????"
            found["<SECRET_ARNS>"].append(arn)
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
    config: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
    managed_policies_per_role: int = MANAGED_POLICIES_PER_ROLE,
) -> dict[str, dict[str, Any]]:
    """File name -> policy document, every placeholder filled. `config` replaces the stack
    file's (as `tools.pulumi_mocks.stack_config` gives it); `settings`, what
    `stack_settings(stack, config)` returned, saves running the program again. Raises
    ValueError on a bad argument, PolicyLimitError when a document would exceed an IAM
    quota."""
    problems = []
    if not STACK.fullmatch(stack):
        problems.append(f"--stack {stack!r}: must be a stack name (letters, digits, _ . -)")
    elif config is None and settings is None and not (ROOT / f"Pulumi.{stack}.yaml").exists():
        problems.append(f"--stack {stack!r}: no stack file Pulumi.{stack}.yaml")
    if not MANAGED_POLICIES_PER_ROLE <= managed_policies_per_role <= MANAGED_POLICIES_PER_ROLE_MAX:
        problems.append(
            f"--managed-policies-per-role {managed_policies_per_role}: must be between "
            f"{MANAGED_POLICIES_PER_ROLE} (IAM's default quota) and "
            f"{MANAGED_POLICIES_PER_ROLE_MAX} (its maximum on request)"
        )
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
    if config is None and settings is None and not problems:
        problems += other_fences(stack)
    if problems:
        raise ValueError("; ".join(problems))
    if settings is None:
        settings = stack_settings(stack, config)
    org, repo = repository.split("/")
    values = {
        "<ACCOUNT_ID>": account_id,
        "<ORG>": org,
        "<REPO>": repo,
        "<ENVIRONMENT>": environment(stack),
        "<STACK>": stack,
        "<CLUSTER>": settings["cluster"],
        "<STATE_BUCKET>": state_bucket or f"{account_id}-{PROJECT}-pulumi-state",
        "<STATE_KEY_ARN>": state_key_arn,
    }
    lists = {
        **_arns(settings, account_id),
        "<ADMIN_PRINCIPAL_ARNS>": list(admin_principal_arns),
    }
    rendered = {}
    for out, template in TEMPLATES.items():
        document = _fill(json.loads((IAM_DIR / template).read_text()), lists, values)
        document["Statement"] = [
            s for s in document["Statement"] if "Resource" not in s or s["Resource"] != []
        ]
        rendered[out] = document
    check_limits(rendered, managed_policies_per_role)
    return rendered


def size(document: dict[str, Any]) -> int:
    """Characters IAM counts against its quotas (whitespace excluded)."""
    return len(json.dumps(document, separators=(",", ":")))


def split(document: dict[str, Any], limit: int = MANAGED_POLICY_LIMIT) -> list[dict[str, Any]]:
    """The document as managed policies of at most `limit` characters, statements in order.
    Allows and Denies mean the same spread over several policies of one role. Raises
    PolicyLimitError when one statement alone is over the limit."""
    parts: list[dict[str, Any]] = []
    for statement in document["Statement"]:
        if (
            parts
            and size({**parts[-1], "Statement": [*parts[-1]["Statement"], statement]}) <= limit
        ):
            parts[-1]["Statement"].append(statement)
        else:
            parts.append({"Version": document["Version"], "Statement": [statement]})
    for part in parts:
        if size(part) > limit:
            raise PolicyLimitError(_oversized("policy", part["Statement"][0], size(part), limit))
    return parts


def _oversized(name: str, statement: dict[str, Any], chars: int, limit: int) -> str:
    resources = statement.get("Resource", [])
    resources = [resources] if isinstance(resources, str) else resources
    fenced = [r for r in resources if ":secretsmanager:" in r or ":ssm:" in r]
    fix = (
        "name the stack's secrets under its secretNamePrefix and list fewer or shorter names "
        "in secretNamesOutsidePrefix (each is one more exact ARN here)"
        if fenced
        else f"split the statement in ci/iam/{TEMPLATES.get(name, name)}"
    )
    return (
        f"{name}: statement {statement.get('Sid', '?')!r} ({len(resources)} resources) is "
        f"{chars} characters as a managed policy of its own; IAM allows {limit} (IAM and AWS "
        f"STS quotas, {QUOTAS_PAGE}). Fix: {fix}"
    )


def limit_problems(
    documents: Mapping[str, dict[str, Any]],
    managed_policies_per_role: int = MANAGED_POLICIES_PER_ROLE,
) -> list[str]:
    """Every IAM quota the rendered documents would break, each with its document, statement,
    size and fix: a trust policy's length, a statement too big for any managed policy, and
    the managed policies each role would need."""
    problems = []
    parts: dict[str, list[dict[str, Any]]] = {}
    for name, document in documents.items():
        if "trust" in name:
            if size(document) > TRUST_POLICY_LIMIT:
                problems.append(
                    f"{name}: {size(document)} characters; a role's trust policy holds "
                    f"{TRUST_POLICY_LIMIT} (IAM and AWS STS quotas, {QUOTAS_PAGE}; 4,096 on "
                    "request). Fix: name fewer --admin-principal-arn (a role the people share)"
                )
            continue
        version = document["Version"]
        wrapped = [{"Version": version, "Statement": [s]} for s in document["Statement"]]
        too_big = [
            _oversized(name, w["Statement"][0], size(w), MANAGED_POLICY_LIMIT)
            for w in wrapped
            if size(w) > MANAGED_POLICY_LIMIT
        ]
        problems += too_big
        if not too_big:
            parts[name] = split(document)
    for role, (_, names) in ROLES.items():
        if not all(n in parts for n in names):
            continue
        count = sum(len(parts[n]) for n in names)
        if count > managed_policies_per_role:
            problems.append(
                f"role {role}: needs {count} managed policies ({', '.join(names)}); a role takes "
                f"{managed_policies_per_role} (IAM and AWS STS quotas, {QUOTAS_PAGE}: 10 by "
                f"default, {MANAGED_POLICIES_PER_ROLE_MAX} on request). Fix: ask for the quota "
                "increase and pass --managed-policies-per-role, or shorten the templates"
            )
    return problems


def check_limits(
    documents: Mapping[str, dict[str, Any]],
    managed_policies_per_role: int = MANAGED_POLICIES_PER_ROLE,
) -> None:
    """Raises PolicyLimitError listing limit_problems, one a line, if any."""
    if problems := limit_problems(documents, managed_policies_per_role):
        raise PolicyLimitError("\n".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--stack",
        required=True,
        help="a stack with a Pulumi.<stack>.yaml; its GitHub environment is its name "
        f"(but {', '.join(f'{k}: {v}' for k, v in ENVIRONMENT_NAMES.items())})",
    )
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
    parser.add_argument(
        "--managed-policies-per-role",
        type=int,
        default=MANAGED_POLICIES_PER_ROLE,
        help=f"the account's quota (IAM default {MANAGED_POLICIES_PER_ROLE}, at most "
        f"{MANAGED_POLICIES_PER_ROLE_MAX})",
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
            managed_policies_per_role=args.managed_policies_per_role,
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
