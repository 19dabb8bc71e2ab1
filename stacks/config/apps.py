"""Settings of the applications on the platform: the `apps` list.

An entry is what a team writes to onboard: a name, the secrets it may read and how it
authenticates; namespace, service account, network allows and quota are optional.
"""

from __future__ import annotations

import re
from typing import Any

from eksplatform.modes import AppWorkload, IdentityMode
from eksplatform.namespace_baseline import (
    EGRESS_POLICY_PREFIX,
    INGRESS_POLICY_PREFIX,
    EgressAllow,
    IngressAllow,
    Quota,
    check_policy_name,
    check_ports,
)
from eksplatform.validation import check_dns1123_label
from eksplatform.workload_secrets import autonamed_iam_resources

from stacks.config import rules
from stacks.config.model import AppSettings, SecretSpec, secret_access_name
from stacks.config.reader import ConfigReader, Fields

APP_FIELDS = (
    "name",
    "namespace",
    "serviceAccount",
    "identity",
    "secrets",
    "syncSecret",
    "workload",
    "ingress",
    "egress",
    "quota",
    "formerly",
)
INGRESS_FIELDS = ("name", "podLabels", "ports", "fromNamespace", "fromPodLabels")
EGRESS_FIELDS = ("name", "podLabels", "ports", "cidr", "toNamespace", "toPodLabels")
QUOTA_FIELDS = {
    "pods": "pods",
    "requestsCpu": "requests_cpu",
    "requestsMemory": "requests_memory",
    "limitsCpu": "limits_cpu",
    "limitsMemory": "limits_memory",
}
FORMER_PREFIXES = ("demo", "podid-demo")
"""Resource-name prefixes of the two nginx demo slots that `apps` replaced."""
QUANTITY = re.compile(r"\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?")


def _labels(f: Fields, field: str, *, required: bool) -> dict[str, str]:
    value = f.item.get(field)
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or not value:
        f.fail(field, value, "must be a non-empty mapping of Kubernetes labels")
        return {}
    for key, val in value.items():
        if problem := rules.k8s_label(str(key), str(val)):
            f.fail(field, value, f"{key}={val} is not a valid Kubernetes label: {problem}")
            return {}
    return {str(k): str(v) for k, v in value.items()}


def _ports(f: Fields) -> tuple[int, ...]:
    ports = f.item.get("ports")
    if not isinstance(ports, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) for p in ports
    ):
        f.fail("ports", ports, "must be a non-empty list of TCP ports between 1 and 65535")
        return ()
    # At most 24 distinct ports: the VPC CNI's limit per protocol and selector
    # (namespace_baseline.MAX_PORTS_PER_RULE, EKS "Limit Pod traffic with ... network policies").
    if problem := check_ports(ports):
        f.fail("ports", ports, problem)
        return ()
    return tuple(ports)


def _rule_name(f: Fields, seen: set[str], prefix: str) -> str:
    name = f.string("name")
    # The rule names a NetworkPolicy `<prefix><name>`: a Kubernetes object name, <= 253.
    if problem := check_policy_name(prefix, name):
        f.fail("name", name, problem)
        return ""
    if name in seen:
        f.fail("name", name, "is used by another rule of this app")
        return ""
    seen.add(name)
    return name


def _rule_basics(
    f: Fields, seen: set[str], prefix: str
) -> tuple[str, dict[str, str], tuple[int, ...]]:
    """What every allow rule has: its name, the app's pods it applies to, and the ports."""
    return _rule_name(f, seen, prefix), _labels(f, "podLabels", required=True), _ports(f)


def _ingress(r: ConfigReader, where: str, items: list[dict[str, Any]]) -> tuple[IngressAllow, ...]:
    rules_: list[IngressAllow] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        f = Fields(r, f"{where}.ingress[{i}]", item, INGRESS_FIELDS)
        before = len(r.problems)
        name, pods, ports = _rule_basics(f, seen, INGRESS_POLICY_PREFIX)
        from_namespace = f.string("fromNamespace", check=check_dns1123_label)
        from_pods = _labels(f, "fromPodLabels", required=True)
        if len(r.problems) == before:
            rules_.append(IngressAllow(name, pods, ports, from_pods, from_namespace))
    return tuple(rules_)


def _egress(r: ConfigReader, where: str, items: list[dict[str, Any]]) -> tuple[EgressAllow, ...]:
    rules_: list[EgressAllow] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        f = Fields(r, f"{where}.egress[{i}]", item, EGRESS_FIELDS)
        before = len(r.problems)
        name, pods, ports = _rule_basics(f, seen, EGRESS_POLICY_PREFIX)
        cidr = f.string("cidr", check=rules.cidr)
        to_namespace = f.string("toNamespace", check=check_dns1123_label)
        to_pods = _labels(f, "toPodLabels", required=False)
        if bool(cidr) == bool(to_pods):
            f.fail("cidr", cidr, "give exactly one of cidr or toPodLabels (with toNamespace)")
        if len(r.problems) == before:
            rules_.append(EgressAllow(name, pods, ports, to_pods, to_namespace, cidr))
    return tuple(rules_)


def _quota(f: Fields) -> Quota:
    value = f.item.get("quota") or {}
    if not isinstance(value, dict):
        f.fail("quota", value, "must be a mapping")
        return Quota()
    q = Fields(f.r, f.path("quota"), value, QUOTA_FIELDS)
    settings: dict[str, Any] = {}
    for field, attr in QUOTA_FIELDS.items():
        if field not in value:
            continue
        raw = value[field]
        if field == "pods":
            if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 1000:
                q.fail(field, raw, "must be a whole number of pods between 1 and 1000")
                continue
        elif not QUANTITY.fullmatch(str(raw)):
            q.fail(field, raw, "must be a Kubernetes quantity such as 500m, 2 or 1Gi")
            continue
        else:
            raw = str(raw)
        settings[attr] = raw
    return Quota(**settings)


def _secret_names(f: Fields, secrets: tuple[SecretSpec, ...]) -> tuple[str, ...]:
    known = {s.name for s in secrets}
    names = f.strings(
        "secrets",
        check=lambda n: (
            None if n in known else f"is not in the secrets list ({', '.join(sorted(known))})"
        ),
    )
    if not f.item.get("secrets"):
        f.fail("secrets", [], "must name at least one secret from the secrets list")
    return tuple(dict.fromkeys(names))


def service_account(value: str) -> str | None:
    """A ServiceAccount name that is also a label value: the identity's ServiceAccount carries
    `app.kubernetes.io/name: <serviceAccount>` (components.irsa.identity_service_account),
    and Kubernetes label values have at most 63 characters ("Labels and Selectors")."""
    if problem := rules.object_name(value):
        return problem
    if len(value) > rules.K8S_LABEL_VALUE_MAX:
        return (
            f"is {len(value)} characters long; it becomes the label app.kubernetes.io/name "
            f"of its ServiceAccount, and label values have at most {rules.K8S_LABEL_VALUE_MAX}"
        )
    return None


def _check_derived_names(f: Fields, app: AppSettings) -> None:
    """The IAM names AWS gives the app's role and policy grow from its name: Pulumi autonames
    them `<resource name>-<7 random characters>` (rules.PULUMI_AUTONAME_SUFFIX), and IAM takes
    role names of at most 64 (botocore iam roleNameType) and policy names of at most 128
    (policyNameType)."""
    limits = {"IAM role": rules.iam_role_name_max(), "IAM policy": rules.iam_policy_name_max()}
    access = secret_access_name(app.name)
    for kind, resource in autonamed_iam_resources(access, app.identity):
        if problem := rules.autonamed(kind, resource, limits[kind]):
            f.fail("name", app.name, f"is too long for identity {app.identity.value}: {problem}")
            return


def _app(
    r: ConfigReader, index: int, item: dict[str, Any], secrets: tuple[SecretSpec, ...], sync: bool
) -> AppSettings | None:
    where = f"apps[{index}]"
    f = Fields(r, where, item, APP_FIELDS)
    name = f.string("name")
    if problem := check_dns1123_label(name):
        f.fail("name", name, problem)
        return None
    sync_secret = f.boolean("syncSecret")
    if sync_secret and not sync:
        f.fail("syncSecret", True, "needs enableSyncSecret: true so the driver may write Secrets")
    formerly = f.string("formerly")
    if formerly and formerly not in FORMER_PREFIXES:
        f.fail("formerly", formerly, f"must be one of {', '.join(FORMER_PREFIXES)} or empty")
        formerly = ""
    app = AppSettings(
        name=name,
        namespace=f.string("namespace", name, check=rules.namespace) or name,
        service_account=f.string("serviceAccount", name, check=service_account) or name,
        identity=f.choice("identity", IdentityMode, IdentityMode.IRSA),
        secret_names=_secret_names(f, secrets),
        sync_secret=sync_secret,
        workload=f.choice("workload", AppWorkload, AppWorkload.NONE),
        ingress=_ingress(r, where, f.mappings("ingress")),
        egress=_egress(r, where, f.mappings("egress")),
        quota=_quota(f),
        formerly=formerly,
        where=where,
    )
    _check_derived_names(f, app)
    return app


def parse_apps(
    r: ConfigReader, secrets: tuple[SecretSpec, ...], sync_enabled: bool
) -> tuple[AppSettings, ...]:
    apps: list[AppSettings] = []
    for index, item in enumerate(r.yaml_list("apps")):
        app = _app(r, index, item, secrets, sync_enabled)
        if app is None:
            continue
        for field, value in (("name", app.name), ("formerly", app.formerly)):
            other = next((a for a in apps if value and getattr(a, field) == value), None)
            if other is not None:
                r.fail(f"{app.where}.{field}", value, f"is already used by {other.where}")
        apps.append(app)
    return tuple(apps)
