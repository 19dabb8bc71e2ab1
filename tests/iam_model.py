"""Who may read what, as a rendered stack says it, and the requests that prove it with the
IAM evaluator (tests/iam_eval.py).

From a render (`files` hold the IAM documents, `recorder` every registration) this finds each
workload identity (IRSA role, Pod Identity role, the shared ABAC role), the service accounts
bound to it, and what the pods of those accounts mount (SecretProviderClass objects mapped
to the ARNs the program registered). `expectations(model)` turns that into requests with
the decision each must get; `failures` evaluates them in one batch and lists the mismatches.

What a pod mounts: the SecretProviderClasses its pod template's CSI volumes name. A class
no pod template names yet (an app without a bundled workload) counts for every service
account bound in its namespace: the team's pods will mount it with that account.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from eksplatform.iam_policies import NAMESPACE_TAG, POD_IDENTITY_PRINCIPAL, STS_AUDIENCE

from tests import iam_eval
from tests.iam_eval import Request
from tools.pulumi_mocks import ACCOUNT
from tools.render import Render, safe_name

FOREIGN_ACCOUNT = "210987654321"
CSI_DRIVER = "secrets-store.csi.k8s.io"
POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet")
PodIdentityTags = dict[str, str]


@dataclass
class Stored:
    """A secret or SSM parameter the stack registers, or one it only references by ARN."""

    arn: str
    name: str
    parameter: bool
    tags: dict[str, str] = field(default_factory=dict)
    key_arn: str = ""
    """The customer managed KMS key that encrypts it; empty for an AWS managed key."""


@dataclass
class Identity:
    """A role pods assume, its documents and the service accounts bound to it."""

    name: str
    """The role's registration name (its files are iam/<name>.trust.json ...)."""
    arn: str
    trust: dict[str, Any]
    policies: list[dict[str, Any]]
    pod_identity: bool
    bindings: list[tuple[str, str]] = field(default_factory=list)
    """(namespace, service account) of each binding."""
    mounted: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    """ARNs mounted by the pods of each bound service account."""

    @property
    def abac(self) -> bool:
        return "aws:PrincipalTag/" in json.dumps(self.policies)

    @property
    def session(self) -> str:
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.arn.split('/')[-1]}/pod-session"

    def reads(self, binding: tuple[str, str], stored: Iterable[Stored]) -> set[str]:
        """ARNs the binding's pods must be able to read: what they mount, or for the ABAC
        role every secret tagged with the binding's namespace."""
        if self.abac:
            return {
                s.arn for s in stored if not s.parameter and s.tags.get(NAMESPACE_TAG) == binding[0]
            }
        return set().union(*(self.mounted.get(b, set()) for b in self.bindings))


@dataclass
class StackModel:
    stack: str
    region: str
    cluster_name: str
    cluster_arn: str
    oidc_provider_arn: str
    issuer: str
    stored: dict[str, Stored]
    keys: dict[str, dict[str, Any]]
    """Key ARN -> key policy of every customer managed KMS key the stack registers."""
    identities: list[Identity]


def _document(files: dict[str, str], path: str) -> dict[str, Any]:
    if path not in files:
        raise KeyError(f"{path} is not in the render")
    return json.loads(files[path])


def _pod_specs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    if manifest.get("kind") == "Pod":
        return [manifest.get("spec") or {}]
    if manifest.get("kind") == "CronJob":
        spec = manifest["spec"]["jobTemplate"]["spec"]["template"].get("spec") or {}
        return [spec]
    if manifest.get("kind") in POD_TEMPLATE_KINDS:
        return [manifest["spec"]["template"].get("spec") or {}]
    return []


def build_model(render: Render) -> StackModel:
    files, recorder = render.files, render.recorder
    manifests = [
        yaml.safe_load(text)
        for path, text in files.items()
        if path.startswith("k8s/") and "/HelmRelease-" not in path
    ]
    # The OIDC provider the stack exports: a created cluster's, or an existing one's.
    oidc_provider_arn = recorder.stack_outputs["oidcProviderArn"]
    issuer = oidc_provider_arn.partition(":oidc-provider/")[2]
    cluster_name = recorder.stack_outputs["clusterName"]
    region = issuer.split(".")[2]

    keys: dict[str, dict[str, Any]] = {}
    key_ids: dict[str, str] = {}
    for key in recorder.of_type("aws:kms/key:Key"):
        keys[key.outputs["arn"]] = _document(files, f"iam/{safe_name(key.name)}.key-policy.json")
        key_ids[key.outputs["arn"]] = key.outputs["arn"]
        key_ids[key.outputs["keyId"]] = key.outputs["arn"]
    for alias in recorder.of_type("aws:kms/alias:Alias"):
        target = key_ids.get(alias.inputs.get("targetKeyId", ""))
        if target:
            key_ids[alias.inputs["name"]] = target
            key_ids[f"arn:aws:kms:{region}:{ACCOUNT}:{alias.inputs['name']}"] = target

    stored: dict[str, Stored] = {}
    by_name: dict[tuple[bool, str], str] = {}
    for parameter, type_ in (
        (False, "aws:secretsmanager/secret:Secret"),
        (True, "aws:ssm/parameter:Parameter"),
    ):
        for r in recorder.of_type(type_):
            arn = r.outputs["arn"]
            key = r.inputs.get("kmsKeyId" if not parameter else "keyId") or ""
            stored[arn] = Stored(
                arn,
                r.inputs["name"],
                parameter,
                dict(r.inputs.get("tags") or {}),
                key_ids.get(key, ""),
            )
            by_name[(parameter, r.inputs["name"])] = arn

    def object_arn(obj: dict[str, Any]) -> str:
        parameter = obj.get("objectType", "secretsmanager") == "ssmparameter"
        name = str(obj["objectName"])
        if name.startswith("arn:"):
            stored.setdefault(name, Stored(name, name, parameter))
            return name
        if (parameter, name) not in by_name:
            raise KeyError(f"mounted object {name!r} is not registered by the program")
        return by_name[(parameter, name)]

    classes: dict[tuple[str, str], set[str]] = {}
    for m in manifests:
        if m["kind"] == "SecretProviderClass":
            objects = yaml.safe_load(m["spec"]["parameters"]["objects"]) or []
            classes[(m["metadata"]["namespace"], m["metadata"]["name"])] = {
                object_arn(o) for o in objects
            }
    mounts: dict[tuple[str, str], set[str]] = {}
    named: set[tuple[str, str]] = set()
    for m in manifests:
        namespace = (m.get("metadata") or {}).get("namespace", "")
        for spec in _pod_specs(m):
            account = spec.get("serviceAccountName") or "default"
            for volume in spec.get("volumes") or []:
                csi = volume.get("csi") or {}
                if csi.get("driver") == CSI_DRIVER:
                    spc = (namespace, csi["volumeAttributes"]["secretProviderClass"])
                    named.add(spc)
                    mounts.setdefault((namespace, account), set()).update(classes.get(spc, set()))

    annotated = {
        (m["metadata"]["namespace"], m["metadata"]["name"]): (
            (m["metadata"].get("annotations") or {}).get("eks.amazonaws.com/role-arn")
        )
        for m in manifests
        if m["kind"] == "ServiceAccount"
    }
    associations = [
        (r.inputs["namespace"], r.inputs["serviceAccount"], r.inputs["roleArn"])
        for r in recorder.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    ]

    identities = []
    for role in recorder.of_type("aws:iam/role:Role"):
        trust = _document(files, f"iam/{safe_name(role.name)}.trust.json")
        principals = json.dumps([s.get("Principal") for s in trust["Statement"]])
        federated = "Federated" in principals
        pod_identity = POD_IDENTITY_PRINCIPAL in principals
        if not federated and not pod_identity:
            continue
        arn, physical = role.outputs["arn"], role.outputs["name"]
        policies = [
            _document(files, path)
            for path in files
            if path.startswith(f"iam/{safe_name(role.name)}.inline-")
        ]
        for attachment in recorder.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
            if attachment.inputs["role"] in (physical, arn):
                (policy,) = [
                    p
                    for p in recorder.of_type("aws:iam/policy:Policy")
                    if p.outputs["arn"] == attachment.inputs["policyArn"]
                ] or [None]
                if policy is None:
                    raise KeyError(
                        f"{role.name}: attached {attachment.inputs['policyArn']} is not a "
                        "policy of the stack; the evaluator cannot see it"
                    )
                policies.append(_document(files, f"iam/{safe_name(policy.name)}.json"))
        for inline in recorder.of_type("aws:iam/rolePolicy:RolePolicy"):
            if inline.inputs["role"] in (physical, arn):
                policies.append(_document(files, f"iam/{safe_name(inline.name)}.json"))
        identity = Identity(role.name, arn, trust, policies, pod_identity)
        if pod_identity:
            identity.bindings = sorted({(ns, sa) for ns, sa, r in associations if r == arn})
        else:
            identity.bindings = sorted(b for b, r in annotated.items() if r == arn)
        for binding in identity.bindings:
            unnamed = set().union(
                *(
                    arns
                    for spc, arns in classes.items()
                    if spc[0] == binding[0] and spc not in named
                )
            )
            identity.mounted[binding] = mounts.get(binding, set()) | unnamed
        identities.append(identity)

    return StackModel(
        stack=render.stack,
        region=region,
        cluster_name=cluster_name,
        cluster_arn=f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{cluster_name}",
        oidc_provider_arn=oidc_provider_arn,
        issuer=issuer,
        stored=stored,
        keys=keys,
        identities=identities,
    )


# --- expectations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """A request, the answer it must get, and what it is about (for the failure message)."""

    what: str
    subject: str
    """The identity (role registration name) the request is about."""
    request: Request
    allowed: bool
    category: str
    """`read`, `kms` or `trust`."""


def pod_identity_tags(model: StackModel, namespace: str, account: str) -> PodIdentityTags:
    """The session tags EKS Pod Identity sets on every pod's session."""
    return {
        "eks-cluster-arn": model.cluster_arn,
        "eks-cluster-name": model.cluster_name,
        "kubernetes-namespace": namespace,
        "kubernetes-service-account": account,
        "kubernetes-pod-name": f"{account}-pod",
        "kubernetes-pod-uid": "00000000-0000-0000-0000-000000000001",
    }


def _foreign(model: StackModel) -> list[Stored]:
    region = model.region
    return [
        Stored(
            f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:not-this-stacks-AbCdEf",
            "not-this-stacks (same account)",
            False,
        ),
        Stored(
            f"arn:aws:secretsmanager:{region}:{FOREIGN_ACCOUNT}:secret:other-account-AbCdEf",
            "other-account (account 210987654321)",
            False,
        ),
        Stored(
            f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/not-this-stacks",
            "/not-this-stacks (same account)",
            True,
        ),
    ]


def read_expectations(
    model: StackModel, identity: Identity, policies: Sequence[dict[str, Any]] | None = None
) -> list[Expect]:
    """GetSecretValue/GetParameter(s) allowed on exactly what the identity's pods read,
    denied on every other secret and parameter of the stack and on foreign ones; kms:Decrypt
    only through the secret service of an object the identity reads, with the stack's key."""
    policies = identity.policies if policies is None else policies
    out: list[Expect] = []
    for binding in identity.bindings:
        tags = pod_identity_tags(model, *binding) if identity.pod_identity else {}
        principal_context = {f"aws:PrincipalTag/{k}": v for k, v in tags.items()}
        readable = identity.reads(binding, model.stored.values())
        subject = f"{identity.name} as {binding[0]}/{binding[1]}"
        for item in [*model.stored.values(), *_foreign(model)]:
            context: dict[str, str] = {}
            if identity.abac:
                context = dict(principal_context)
                for k, v in item.tags.items():
                    context[f"aws:ResourceTag/{k}"] = v
                    if not item.parameter:
                        context[f"secretsmanager:ResourceTag/{k}"] = v
            actions = (
                ("ssm:GetParameter", "ssm:GetParameters")
                if item.parameter
                else ("secretsmanager:GetSecretValue",)
            )
            allowed = item.arn in readable
            checks = [(action, allowed) for action in actions]
            if not allowed and not item.parameter:
                checks.append(("secretsmanager:DescribeSecret", False))
            for action, expected in checks:
                out.append(
                    Expect(
                        f"{action} on {item.name}",
                        subject,
                        Request(
                            identity.session,
                            action,
                            item.arn,
                            policies,
                            context=context,
                            unsafe=identity.abac,
                            account_id=item.arn.split(":")[4],
                        ),
                        expected,
                        "read",
                    )
                )
        services: dict[str, set[str]] = {}
        for arn in readable:
            item = model.stored[arn]
            if item.key_arn:
                services.setdefault(item.key_arn, set()).add(
                    "ssm" if item.parameter else "secretsmanager"
                )
        for key_arn, key_policy in model.keys.items():
            used = services.get(key_arn, set())
            for service in ("secretsmanager", "ssm", "s3", None):
                context = (
                    {"kms:ViaService": f"{service}.{model.region}.amazonaws.com"} if service else {}
                )
                out.append(
                    Expect(
                        f"kms:Decrypt on {key_arn} via {service or 'no service'}",
                        subject,
                        Request(
                            identity.session,
                            "kms:Decrypt",
                            key_arn,
                            policies,
                            resource_policy=key_policy,
                            context=context,
                        ),
                        service in used,
                        "kms",
                    )
                )
    return out


def trust_expectations(
    model: StackModel, identity: Identity, trust: dict[str, Any] | None = None
) -> list[Expect]:
    """IRSA: only the bound service account's token, audience sts.amazonaws.com, from this
    cluster's provider. Pod Identity: only pods.eks.amazonaws.com, and only for the cluster,
    namespaces and service account the trust policy pins (if it pins them)."""
    trust = identity.trust if trust is None else trust
    out: list[Expect] = []

    def expect(what: str, principal: str, action: str, context: dict[str, Any], allowed: bool):
        out.append(
            Expect(
                what,
                identity.name,
                Request(
                    principal,
                    action,
                    identity.arn,
                    resource_policy=trust,
                    trust=True,
                    context=context,
                    unsafe=True,
                ),
                allowed,
                "trust",
            )
        )

    if not identity.pod_identity:
        issuer, provider = model.issuer, model.oidc_provider_arn
        other_issuer = issuer.rsplit("/", 1)[0] + "/ANOTHERCLUSTER0000000000000000000"
        other_provider = provider.replace(issuer, other_issuer)
        action = "sts:AssumeRoleWithWebIdentity"
        for namespace, account in identity.bindings:

            def token(ns: str, sa: str, aud: str = STS_AUDIENCE, iss: str = issuer):
                return {f"{iss}:sub": f"system:serviceaccount:{ns}:{sa}", f"{iss}:aud": aud}

            expect(f"{namespace}/{account}", provider, action, token(namespace, account), True)
            expect(
                f"another service account {namespace}/{account}-other",
                provider,
                action,
                token(namespace, f"{account}-other"),
                False,
            )
            expect(
                f"another namespace other-{namespace}/{account}",
                provider,
                action,
                token(f"other-{namespace}", account),
                False,
            )
            expect(
                "another audience",
                provider,
                action,
                token(namespace, account, aud="other.example.com"),
                False,
            )
            expect(
                "another cluster's OIDC provider",
                other_provider,
                action,
                token(namespace, account, iss=other_issuer),
                False,
            )
        return out

    text = json.dumps(trust)
    for namespace, account in identity.bindings:
        tags = pod_identity_tags(model, namespace, account)

        def request_tags(tags: PodIdentityTags = tags, **changes: str) -> dict[str, Any]:
            values = {**tags, **{k.replace("_", "-"): v for k, v in changes.items()}}
            return {
                **{f"aws:RequestTag/{k}": v for k, v in values.items()},
                "aws:TagKeys": sorted(values),
            }

        for action in ("sts:AssumeRole", "sts:TagSession"):
            expect(
                f"{action} for {namespace}/{account}",
                POD_IDENTITY_PRINCIPAL,
                action,
                request_tags(),
                True,
            )
            expect(
                f"{action} by ec2.amazonaws.com", "ec2.amazonaws.com", action, request_tags(), False
            )
            expect(
                f"{action} by an IAM role of the account",
                f"arn:aws:iam::{ACCOUNT}:role/someone",
                action,
                request_tags(),
                False,
            )
            if "aws:RequestTag/eks-cluster-arn" in text:
                expect(
                    f"{action} from another cluster",
                    POD_IDENTITY_PRINCIPAL,
                    action,
                    request_tags(eks_cluster_arn=model.cluster_arn + "-other"),
                    False,
                )
            if f"aws:RequestTag/{NAMESPACE_TAG}" in text:
                expect(
                    f"{action} from another namespace",
                    POD_IDENTITY_PRINCIPAL,
                    action,
                    request_tags(kubernetes_namespace=f"other-{namespace}"),
                    False,
                )
            if "aws:RequestTag/kubernetes-service-account" in text:
                expect(
                    f"{action} for another service account",
                    POD_IDENTITY_PRINCIPAL,
                    action,
                    request_tags(kubernetes_service_account=f"{account}-other"),
                    False,
                )
    return out


def expectations(model: StackModel) -> list[Expect]:
    return [
        e
        for identity in model.identities
        for e in (*read_expectations(model, identity), *trust_expectations(model, identity))
    ]


def failures(expects: Sequence[Expect]) -> list[str]:
    """Every expectation the evaluator contradicts, evaluated in one batch."""
    decisions = iam_eval.evaluate([e.request for e in expects])
    return [
        f"{e.subject}: {e.what}: {decision}, expected {'Allowed' if e.allowed else 'a deny'}"
        for e, decision in zip(expects, decisions, strict=True)
        if (decision == iam_eval.ALLOWED) != e.allowed
    ]


def with_statement(policies: Sequence[dict[str, Any]], statement: dict[str, Any]) -> list[dict]:
    """A copy of the policies with one more statement in the first one."""
    changed = copy.deepcopy(list(policies))
    changed[0]["Statement"].append(statement)
    return changed
