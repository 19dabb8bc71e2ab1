"""Settings of the secrets: the `secrets` list, their values, key, replicas and rotation."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from eksplatform.modes import SecretType
from eksplatform.secrets import SSM_PARAMETER_NAME
from eksplatform.secrets_store import SecretsStoreCsiArgs

from stacks.config import rules
from stacks.config.model import JmesPathEntry, SecretFence, SecretSpec
from stacks.config.reader import ConfigReader, Fields

SECRET_FIELDS = (
    "name",
    "type",
    "description",
    "existingArn",
    "import",
    "objectAlias",
    "namespace",
    "jmesPath",
    "replicaRegions",
    "rotationLambdaArn",
    "rotationDays",
    "rotationSchedule",
)


def _name(f: Fields, kind: SecretType, region: str) -> str | None:
    name = f.string("name")
    if kind == SecretType.SSM_PARAMETER:
        created = not f.item.get("existingArn")
        problem = rules.ssm_parameter_name(name, region, created=created)
    else:
        problem = rules.secret_name(name)
    if problem:
        f.fail("name", name, problem)
        return None
    return name


DESCRIPTION_LIMITS = {
    SecretType.SECRETS_MANAGER: rules.description("secretsmanager", "DescriptionType"),
    SecretType.SSM_PARAMETER: rules.description("ssm", "ParameterDescription"),
}
"""botocore secretsmanager `DescriptionType` max 2048; ssm `ParameterDescription` max 1024."""


def _existing_arn(f: Fields, kind: SecretType, region: str) -> str:
    arn = f.string("existingArn")
    if not arn:
        return ""
    pattern, what = {
        SecretType.SECRETS_MANAGER: (rules.SECRET_ARN, "a Secrets Manager secret ARN"),
        SecretType.SSM_PARAMETER: (rules.SSM_PARAMETER_ARN, "an SSM parameter ARN"),
    }[kind]
    match = pattern.fullmatch(arn)
    if not match:
        f.fail("existingArn", arn, f"must be {what}")
        return ""
    if match.group(1) != region:
        f.fail(
            "existingArn",
            arn,
            f"is in {match.group(1)}, not the stack's region {region}; ASCP reads in the "
            f"cluster's region: replicate it to {region} and reference the replica's ARN",
        )
    return arn


def _replica_regions(f: Fields, region: str, kind: SecretType, owned: bool) -> tuple[str, ...]:
    if not f.item.get("replicaRegions"):
        return ()
    regions = f.strings("replicaRegions")
    if kind != SecretType.SECRETS_MANAGER:
        f.fail("replicaRegions", list(regions), "only Secrets Manager secrets replicate")
        return ()
    if not owned:
        f.fail(
            "replicaRegions",
            list(regions),
            "a referenced secret is never changed; set import: true to replicate it",
        )
        return ()
    good: list[str] = []
    for index, name in enumerate(regions):
        where = f"replicaRegions[{index}]"
        if problem := rules.region(name):
            f.fail(where, name, problem)
        elif name == region:
            f.fail(where, name, "is the stack's own region (aws:region)")
        elif name in good:
            f.fail(where, name, "is listed twice")
        else:
            good.append(name)
    return tuple(good)


def _rotation(f: Fields, kind: SecretType, owned: bool) -> tuple[str, int, str]:
    lambda_arn = f.string("rotationLambdaArn")
    days = f.item.get("rotationDays", 0)
    schedule = f.string("rotationSchedule")
    if not (lambda_arn or days or schedule):
        return "", 0, ""
    before = len(f.r.problems)
    if kind != SecretType.SECRETS_MANAGER:
        f.fail("rotationLambdaArn", lambda_arn, "only Secrets Manager secrets rotate")
    elif not owned:
        f.fail(
            "rotationLambdaArn",
            lambda_arn,
            "a referenced secret is never changed; set import: true to rotate it here",
        )
    if not rules.LAMBDA_ARN.fullmatch(lambda_arn):
        f.fail(
            "rotationLambdaArn",
            lambda_arn,
            "rotation needs the ARN of your rotation Lambda, "
            "e.g. arn:aws:lambda:ap-southeast-1:123456789012:function:rotate-db",
        )
    if bool(days) == bool(schedule):
        f.fail(
            "rotationDays", days, "give exactly one of rotationDays (1-1000) or rotationSchedule"
        )
    elif days and (not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 1000):
        f.fail("rotationDays", days, "must be a whole number of days between 1 and 1000")
    elif schedule and not rules.ROTATION_SCHEDULE.fullmatch(schedule):
        f.fail(
            "rotationSchedule",
            schedule,
            "must be rate(N hours|days) or cron(...), e.g. rate(30 days)",
        )
    if len(f.r.problems) > before:
        return "", 0, ""
    return lambda_arn, int(days or 0), schedule


def _jmes_path(f: Fields, first_file: str) -> tuple[JmesPathEntry, ...]:
    entries = []
    files = {first_file}
    for j, entry in enumerate(f.mappings("jmesPath")):
        where = f"jmesPath[{j}]"
        path, alias = entry.get("path"), entry.get("objectAlias")
        if not path or not alias:
            f.fail(where, entry, "needs both path and objectAlias")
        elif problem := rules.file_name(str(alias)):
            f.fail(f"{where}.objectAlias", alias, problem)
        elif alias in files:
            f.fail(f"{where}.objectAlias", alias, "collides with another file name")
        else:
            files.add(str(alias))
            entries.append(JmesPathEntry(str(path), str(alias)))
    return tuple(entries)


def _secret(r: ConfigReader, index: int, item: dict, region: str) -> SecretSpec | None:
    f = Fields(r, f"secrets[{index}]", item, SECRET_FIELDS)
    kind = f.choice("type", SecretType, SecretType.SECRETS_MANAGER)
    name = _name(f, kind, region)
    if name is None:
        return None
    arn = _existing_arn(f, kind, region)
    adopt = f.boolean("import")
    if adopt and (not arn or kind != SecretType.SECRETS_MANAGER):
        f.fail("import", adopt, "needs existingArn of a Secrets Manager secret")
        adopt = False
    elif adopt and arn.split(":secret:", 1)[-1].rsplit("-", 1)[0] != name:
        f.fail(
            "import", adopt, f"the secret in existingArn is not named {name!r}; name must match it"
        )
    owned = not arn or adopt
    namespace = f.string("namespace", check=rules.namespace)
    if namespace and not owned:
        f.fail(
            "namespace",
            namespace,
            "cannot tag a referenced secret (it is never changed); tag it yourself with "
            "kubernetes-namespace, or set import: true",
        )
        namespace = ""
    rotation = _rotation(f, kind, owned)
    spec = SecretSpec(
        name=name,
        type=kind,
        description=f.string("description", check=DESCRIPTION_LIMITS[kind]),
        existing_arn=arn,
        import_existing=adopt,
        object_alias=f.string("objectAlias", check=rules.file_name),
        jmes_path=(),
        namespace=namespace,
        replica_regions=_replica_regions(f, region, kind, owned),
        rotation_lambda_arn=rotation[0],
        rotation_days=rotation[1],
        rotation_schedule=rotation[2],
    )
    mounted = spec.file_names[0]
    if len(mounted) > rules.FILE_NAME_MAX:
        # The file name is derived from the secret's name when objectAlias is not given.
        f.fail(
            "name",
            name,
            f"makes the mounted file name {len(mounted)} characters long; a file name has at "
            f"most {rules.FILE_NAME_MAX}: give objectAlias",
        )
    return replace(spec, jmes_path=_jmes_path(f, mounted))


def parse_secrets(r: ConfigReader, region: str) -> tuple[SecretSpec, ...]:
    specs: list[SecretSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(r.yaml_list("secrets")):
        spec = _secret(r, index, item, region)
        if spec is None:
            continue
        if spec.name in seen:
            r.fail(
                f"secrets[{index}].name", spec.name, "is listed twice; secret names must be unique"
            )
            continue
        seen.add(spec.name)
        specs.append(spec)
    return tuple(specs)


def check_secret_values(r: ConfigReader, secrets: tuple[SecretSpec, ...]) -> None:
    """Every created secret needs a value; a value itself never appears in a message."""
    needed = [s.name for s in secrets if s.is_created]
    if not needed:
        return
    raw = r.raw("secretValues")
    key = r.key("secretValues")
    hint = (
        "run: pulumi config set --secret secretValues "
        '\'{"<secret name>": {"username": "...", "password": "..."}}\''
    )
    if raw is None:
        r.problems.append(f"{key} is not set; {hint}")
        return
    try:
        values = json.loads(raw)
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, dict):
        r.problems.append(f"{key} (value hidden) is not a JSON object; {hint}")
        return
    for name in needed:
        if name not in values or values[name] in ("", None, {}):
            r.problems.append(f"{key} has no value for secret {name!r}; {hint}")
        elif not isinstance(values[name], (str, dict)):
            r.problems.append(
                f"{key} value for {name!r} (hidden) must be a string or a JSON object"
            )
    known = {s.name for s in secrets}
    for name in values:
        if name not in known:
            r.problems.append(f"{key} has a value for {name!r}, which is not in the secrets list")


def parse_secrets_kms_key(r: ConfigReader, region: str, secrets: tuple[SecretSpec, ...]) -> str:
    value = r.string("secretsKmsKey")
    if value in ("none", "create"):
        return value
    match = rules.KMS_KEY_ARN.fullmatch(value)
    if not match:
        r.fail("secretsKmsKey", value, "must be none, create, or a KMS key ARN")
        return "none"
    if match.group(1) != region:
        r.fail("secretsKmsKey", value, f"must be a key in the stack's region {region}")
    if not match.group(2).startswith("mrk-") and any(s.replica_regions for s in secrets):
        r.fail(
            "secretsKmsKey",
            value,
            "secrets with replicaRegions need a multi-Region key (key/mrk-...) replicated to "
            "those regions, or secretsKmsKey: create",
        )
    return value


def parse_failover_region(r: ConfigReader, region: str) -> str:
    value = r.string("failoverRegion", check=rules.region)
    if value and value == region:
        r.fail("failoverRegion", value, "must differ from aws:region")
        return ""
    return value


def _rotation_period_seconds(spec: SecretSpec) -> int | None:
    """The rotation period, or None for cron schedules (not reduced to one period)."""
    if spec.rotation_days:
        return spec.rotation_days * 86400
    match = rules.ROTATION_SCHEDULE.fullmatch(spec.rotation_schedule)
    if match and match.group(1):
        return int(match.group(1)) * (3600 if match.group(2).startswith("hour") else 86400)
    return None


def check_rotation(
    r: ConfigReader, secrets: tuple[SecretSpec, ...], store: SecretsStoreCsiArgs
) -> None:
    """A rotating secret is pointless to pods unless the driver re-reads it, often enough."""
    rotating = [s for s in secrets if s.rotates]
    if rotating and not store.enable_secret_rotation:
        r.fail(
            "enableSecretRotation",
            False,
            f"secret(s) {[s.name for s in rotating]} rotate; set enableSecretRotation: true "
            "so mounted files follow the new value",
        )
        return
    if r.problems_for("rotationPollInterval"):
        return
    poll = rules.duration_seconds(store.rotation_poll_interval)
    for spec in rotating:
        period = _rotation_period_seconds(spec)
        if period is not None and poll >= period:
            r.fail(
                "rotationPollInterval",
                store.rotation_poll_interval,
                f"must be shorter than the rotation period of secret {spec.name!r}",
            )


# Characters valid in both a Secrets Manager secret name (CreateSecret `Name`: letters,
# digits and /_+=.@-) and an SSM parameter name (PutParameter `Name`: letters, digits and
# _.-/), in `/`-separated non-empty levels, ending with `/`: "a/" and "a-b/" never overlap,
# as "a" and "a-b" would.
SECRET_NAME_PREFIX = re.compile(r"(?:[A-Za-z0-9_.-]+/)+")
SECRET_NAME_PREFIX_MAX = 256
"""Half of a Secrets Manager name's 512 characters (CreateSecret `Name` length
constraint), so every secret keeps room for its own name after the prefix."""
OUTSIDE_PREFIX_MAX = 20
"""Each name outside the prefix is one more exact ARN in two statements of each CI policy:
20 keep them far below IAM's 6,144-character managed-policy limit for names of usual length
(ci/iam/render.py refuses, naming the statement, whatever the names)."""


def parse_secret_fence(r: ConfigReader, cluster_name: str) -> SecretFence:
    """secretNamePrefix (empty: `<clusterName>/`) and the names kept outside it."""
    given = r.raw("secretNamePrefix") or ""
    prefix = given or f"{cluster_name}/"
    if len(prefix) > SECRET_NAME_PREFIX_MAX or not SECRET_NAME_PREFIX.fullmatch(prefix):
        derived = "" if given else f" (from clusterName: {prefix!r})"
        r.fail(
            "secretNamePrefix",
            given,
            f"must be at most {SECRET_NAME_PREFIX_MAX} letters, digits, _ . - or / (valid in "
            "both Secrets Manager and SSM parameter names), in non-empty levels ending with "
            f"/, e.g. {cluster_name or 'my-stack'}/, so two stacks' prefixes never overlap"
            f"{derived}",
        )
    names = r.string_list("secretNamesOutsidePrefix")
    key = r.key("secretNamesOutsidePrefix")
    if len(names) > OUTSIDE_PREFIX_MAX:
        r.problems.append(
            f"{key} lists {len(names)} names: at most {OUTSIDE_PREFIX_MAX}, so CI's IAM "
            "policies stay within IAM's managed-policy size limit; name new secrets under "
            f"secretNamePrefix {prefix!r}"
        )
    outside: list[str] = []
    for index, name in enumerate(names):
        where = f"{key}[{index}] = {name!r}"
        if not (rules.SECRET_NAME.fullmatch(name) or SSM_PARAMETER_NAME.fullmatch(name)):
            r.problems.append(f"{where}: must be a Secrets Manager secret or SSM parameter name")
        elif name in outside:
            r.problems.append(f"{where}: is listed twice")
        elif name.lstrip("/").startswith(prefix):
            r.problems.append(f"{where}: is already under secretNamePrefix {prefix!r}; remove it")
        else:
            outside.append(name)
    return SecretFence(prefix=prefix, outside=tuple(outside))


def _secret_keys(r: ConfigReader) -> dict[str, str]:
    """Each `secrets` entry's name -> its key (`secrets[3].name`), for messages."""
    return {
        str(item.get("name")): f"secrets[{index}].name"
        for index, item in enumerate(r.yaml_list("secrets"))
    }


def check_secret_fence(
    r: ConfigReader,
    fence: SecretFence,
    secrets: tuple[SecretSpec, ...],
    example_secrets: list[tuple[str, str]],
) -> None:
    """Every secret or parameter the stack creates or imports is named under the prefix or
    kept outside it by name; every name kept outside is one of them. `example_secrets` are
    the (name, key) of the secrets enabled examples create for themselves."""
    owned: list[tuple[str, bool, str]] = [
        (s.name, s.is_parameter, "") for s in secrets if s.is_owned
    ]
    owned += [(name, False, key) for name, key in example_secrets]
    keys: dict[str, str] | None = None
    for name, parameter, key in owned:
        if fence.covers(name, parameter=parameter):
            continue
        if not key:
            keys = keys if keys is not None else _secret_keys(r)
            key = keys.get(name, "secrets")
        r.fail(
            key,
            name,
            f"must start with secretNamePrefix {fence.prefix!r}: CI's IAM policies fence this "
            "stack's secrets and parameters by that prefix (ci/iam/README.md). To keep an "
            "existing secret under its name, list it in secretNamesOutsidePrefix: a Secrets "
            "Manager name cannot change in place, and a renamed secret is a new one whose "
            "readers and rotation start over",
        )
    created = {name for name, _, _ in owned}
    referenced = {s.name for s in secrets if not s.is_owned}
    listed = json.loads(r.raw("secretNamesOutsidePrefix") or "[]") if fence.outside else []
    for name in fence.outside:
        if name in created:
            continue
        why = (
            "is referenced by existingArn, never written by this stack, so CI needs no access to it"
            if name in referenced
            else "is not a secret or parameter this stack creates or imports (a stale entry "
            "would keep CI's access to it)"
        )
        r.problems.append(
            f"{r.key('secretNamesOutsidePrefix')}[{listed.index(name)}] = {name!r}: {why}; "
            "remove it"
        )
