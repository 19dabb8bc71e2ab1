"""The stack's typed configuration, parsed and validated once before any resource exists.

This is the only module that knows config key names. Components receive the frozen
dataclasses below (or Args built from them), never `pulumi.Config`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from components.versions import DEFAULT_KUBERNETES_VERSION, EKS_STANDARD_SUPPORT
from stacks.reader import (
    DNS1123_SUBDOMAIN,
    ConfigError,
    ConfigReader,
    RawGetter,
    check_cidr,
    check_dns1123_label,
)
from stacks.workloads import WorkloadsConfig, parse_workloads

PROJECT = "eks-secrets-platform"

AWS_REGION = re.compile(r"(af|ap|ca|cn|eu|il|me|mx|sa|us)(-gov|-iso[a-z]?)?-[a-z]+-\d")
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")
IAM_PRINCIPAL_ARN = re.compile(
    r"arn:aws[a-z-]*:(iam|sts)::\d{12}:(role|user|assumed-role)/[\w+=,.@/-]+"
)
SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+")
SSM_PARAMETER_ARN = re.compile(r"arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[\w/.-]+")
SECRET_NAME = re.compile(r"[\w/+=.@-]{1,512}")
VPC_ID = re.compile(r"vpc-[0-9a-f]{8,17}")
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}")
DURATION = re.compile(r"\d+(s|m|h)")
LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
)
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
}
SSH_KEY_NAME = re.compile(r"[\w .:/=+@-]{1,255}")

DEFAULT_SECRETS_YAML = """
- name: demo-app-credentials
  description: Demo credentials mounted into the nginx pod
  jmesPath:
    - {path: username, objectAlias: username}
    - {path: password, objectAlias: password}
"""


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str
    """Kubernetes spelling: NoSchedule, NoExecute or PreferNoSchedule."""

    @property
    def eks_effect(self) -> str:
        """The EKS API spelling of the effect (NO_SCHEDULE ...)."""
        return TAINT_EFFECTS[self.effect]


@dataclass(frozen=True)
class NetworkConfig:
    vpc_cidr: str = "10.0.0.0/16"
    availability_zone_count: int = 2
    """2 or 3; subnets are spread over this many AZs."""
    nat_gateway_mode: str = "per-az"
    """`single` (one NAT, cheap, one AZ of failure) or `per-az` (one NAT per AZ)."""
    existing_vpc_id: str = ""
    existing_public_subnet_ids: tuple[str, ...] = ()
    existing_private_subnet_ids: tuple[str, ...] = ()

    @property
    def uses_existing_vpc(self) -> bool:
        return bool(self.existing_vpc_id)


@dataclass(frozen=True)
class ClusterConfig:
    name: str
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    admin_principal_arns: tuple[str, ...] = ()
    public_access_cidrs: tuple[str, ...] = ()
    """Empty means the API endpoint is private only."""
    enable_deletion_protection: bool = False
    enable_network_policy: bool = True
    """Turns on NetworkPolicy enforcement in the VPC CNI add-on."""


@dataclass(frozen=True)
class NodeGroupConfig:
    instance_types: tuple[str, ...] = ("t3.medium",)
    min_size: int = 1
    desired_size: int = 1
    max_size: int = 2
    disk_size_gib: int = 20
    capacity_type: str = "ON_DEMAND"
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()
    ssh_key_name: str = ""
    """An EC2 key pair for SSH to nodes; empty (the default) means no SSH."""


@dataclass(frozen=True)
class JmesPathEntry:
    path: str
    object_alias: str


@dataclass(frozen=True)
class SecretSpec:
    """One Secrets Manager secret the stack creates, or references by ARN."""

    name: str
    description: str = ""
    existing_arn: str = ""
    """When set, the secret is referenced, never created, changed or deleted."""
    jmes_path: tuple[JmesPathEntry, ...] = ()

    @property
    def is_created(self) -> bool:
        return not self.existing_arn


@dataclass(frozen=True)
class SecretsStoreConfig:
    enable_sync_secret: bool = False
    """Installs the driver's RBAC to sync mounted secrets into Kubernetes Secrets."""
    enable_secret_rotation: bool = True
    rotation_poll_interval: str = "2m"
    tolerations: tuple[Taint, ...] = ()
    """Extra tolerations for the driver and provider DaemonSets (node taints are added)."""


@dataclass(frozen=True)
class DemoConfig:
    enabled: bool = True
    namespace: str = "secrets-demo"
    service_account: str = "nginx-secrets-reader"
    secret_names: tuple[str, ...] = ("demo-app-credentials",)
    enable_kubernetes_secret_sync: bool = False
    """Adds `secretObjects` so the mounted secret is also synced to a Kubernetes Secret."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    region: str
    network: NetworkConfig
    cluster: ClusterConfig
    nodegroup: NodeGroupConfig
    secrets: tuple[SecretSpec, ...]
    secrets_store: SecretsStoreConfig
    demo: DemoConfig
    workloads: WorkloadsConfig = field(default_factory=WorkloadsConfig)
    owner: str = "platform-team"

    @property
    def tags(self) -> dict[str, str]:
        """Tags on every AWS resource, so leftovers can be found after a destroy."""
        return {"project": self.project, "stack": self.stack, "owner": self.owner}

    def secret(self, name: str) -> SecretSpec:
        return next(s for s in self.secrets if s.name == name)


def _taint(value: str) -> tuple[Taint | None, str | None]:
    match = re.fullmatch(r"([^=:]+)(?:=([^:]*))?:(\w+)", value)
    if not match:
        return None, "must look like key=value:Effect or key:Effect"
    key, val, effect = match.group(1), match.group(2) or "", match.group(3)
    if effect not in TAINT_EFFECTS:
        return None, f"effect must be one of {', '.join(TAINT_EFFECTS)}"
    if not LABEL_KEY.fullmatch(key) or not LABEL_VALUE.fullmatch(val):
        return None, "key and value must be valid Kubernetes label key and value"
    return Taint(key, val, effect), None


def _label(value: str) -> str | None:
    key, sep, val = value.partition("=")
    if not sep or not LABEL_KEY.fullmatch(key) or not LABEL_VALUE.fullmatch(val):
        return "must look like key=value with a valid Kubernetes label key and value"
    return None


def _matches(pattern: re.Pattern[str], allowed: str):
    return lambda v: None if pattern.fullmatch(v) else allowed


def _parse_network(r: ConfigReader) -> NetworkConfig:
    cidr = r.string("vpcCidr", "10.0.0.0/16")
    if check_cidr(cidr):
        r.fail("vpcCidr", cidr, "must be an IPv4 CIDR block such as 10.0.0.0/16")
        cidr = "10.0.0.0/16"
    elif not 16 <= int(cidr.split("/")[1]) <= 20:
        r.fail("vpcCidr", cidr, "prefix length must be between /16 and /20 to fit the subnets")
    network = NetworkConfig(
        vpc_cidr=cidr,
        availability_zone_count=r.integer("availabilityZoneCount", 2, minimum=2, maximum=3),
        nat_gateway_mode=r.string("natGatewayMode", "per-az", choices=("single", "per-az")),
        existing_vpc_id=r.string(
            "existingVpcId", "", pattern=VPC_ID, allowed="must be a VPC id like vpc-0abc1234"
        ),
        existing_public_subnet_ids=r.string_list(
            "existingPublicSubnetIds",
            item=_matches(SUBNET_ID, "must be a subnet id like subnet-0abc1234"),
        ),
        existing_private_subnet_ids=r.string_list(
            "existingPrivateSubnetIds",
            item=_matches(SUBNET_ID, "must be a subnet id like subnet-0abc1234"),
        ),
    )
    if network.existing_vpc_id and len(network.existing_private_subnet_ids) < 2:
        r.fail(
            "existingPrivateSubnetIds",
            list(network.existing_private_subnet_ids),
            "needs at least two private subnets in different AZs when existingVpcId is set",
        )
    if not network.existing_vpc_id and (
        network.existing_public_subnet_ids or network.existing_private_subnet_ids
    ):
        r.fail(
            "existingVpcId",
            "",
            "must be set when existingPublicSubnetIds or existingPrivateSubnetIds are given",
        )
    return network


def _parse_cluster(r: ConfigReader, stack: str, today: date) -> ClusterConfig:
    version = r.raw("kubernetesVersion") or DEFAULT_KUBERNETES_VERSION
    if version not in EKS_STANDARD_SUPPORT:
        r.fail(
            "kubernetesVersion",
            version,
            f"must be an EKS version in standard support: {', '.join(EKS_STANDARD_SUPPORT)}",
        )
        version = DEFAULT_KUBERNETES_VERSION
    elif (end := EKS_STANDARD_SUPPORT[version]) is not None and end <= today:
        r.fail(
            "kubernetesVersion",
            version,
            f"left EKS standard support on {end.isoformat()}; choose "
            + ", ".join(v for v, e in EKS_STANDARD_SUPPORT.items() if e is None or e > today),
        )
    default_name = f"eks-secrets-{stack}"
    name = (
        r.string(
            "clusterName",
            default_name,
            pattern=re.compile(r"[A-Za-z][A-Za-z0-9-]{0,99}"),
            allowed="must start with a letter and hold at most 100 letters, digits or '-'",
        )
        or default_name
    )
    return ClusterConfig(
        name=name,
        kubernetes_version=version,
        admin_principal_arns=r.string_list(
            "adminPrincipalArns",
            item=_matches(
                IAM_PRINCIPAL_ARN,
                "must be an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/Admin",
            ),
        ),
        public_access_cidrs=r.string_list("publicAccessCidrs", item=check_cidr),
        enable_deletion_protection=r.boolean("enableClusterDeletionProtection", False),
        enable_network_policy=r.boolean("enableNetworkPolicy", True),
    )


def _parse_nodegroup(r: ConfigReader) -> NodeGroupConfig:
    min_size = r.integer("nodeMinSize", 1, minimum=0, maximum=450)
    desired = r.integer("nodeDesiredSize", 1, minimum=0, maximum=450)
    max_size = r.integer("nodeMaxSize", 2, minimum=1, maximum=450)
    if not min_size <= desired <= max_size:
        r.fail(
            "nodeDesiredSize",
            desired,
            f"must satisfy nodeMinSize ({min_size}) <= nodeDesiredSize <= nodeMaxSize ({max_size})",
        )
    taints = []
    for index, text in enumerate(r.string_list("nodeTaints")):
        taint, problem = _taint(text)
        if problem:
            r.problems.append(f"{r.key('nodeTaints')}[{index}] = {text!r}: {problem}")
        else:
            taints.append(taint)
    labels = tuple(tuple(item.split("=", 1)) for item in r.string_list("nodeLabels", item=_label))
    instance_types = r.string_list(
        "nodeInstanceTypes",
        ("t3.medium",),
        item=_matches(INSTANCE_TYPE, "must be an EC2 instance type like t3.medium or m7i.large"),
    )
    if not instance_types:
        r.fail("nodeInstanceTypes", [], "must list at least one instance type")
        instance_types = ("t3.medium",)
    return NodeGroupConfig(
        instance_types=instance_types,
        min_size=min_size,
        desired_size=desired,
        max_size=max_size,
        disk_size_gib=r.integer("nodeDiskSizeGib", 20, minimum=20, maximum=16384),
        capacity_type=r.string("nodeCapacityType", "ON_DEMAND", choices=("ON_DEMAND", "SPOT")),
        labels=labels,  # type: ignore[arg-type]
        taints=tuple(taints),
        ssh_key_name=r.string(
            "nodeSshKeyName", "", pattern=SSH_KEY_NAME, allowed="must be an EC2 key pair name"
        ),
    )


def _parse_secrets(r: ConfigReader) -> tuple[SecretSpec, ...]:
    specs: list[SecretSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(r.yaml_list("secrets", DEFAULT_SECRETS_YAML)):
        where = f"secrets[{index}]"
        unknown = set(item) - {"name", "description", "existingArn", "jmesPath"}
        if unknown:
            r.fail(
                where,
                sorted(unknown),
                "unknown field(s); allowed: name, description, existingArn, jmesPath",
            )
        name = str(item.get("name", ""))
        if not SECRET_NAME.fullmatch(name):
            r.fail(f"{where}.name", name, "must be 1-512 letters, digits or /_+=.@-")
            continue
        if name in seen:
            r.fail(f"{where}.name", name, "is listed twice; secret names must be unique")
            continue
        seen.add(name)
        arn = str(item.get("existingArn", ""))
        if arn and not SECRET_ARN.fullmatch(arn):
            r.fail(f"{where}.existingArn", arn, "must be a Secrets Manager secret ARN")
        entries = []
        aliases: set[str] = set()
        for j, entry in enumerate(item.get("jmesPath") or []):
            path = entry.get("path") if isinstance(entry, dict) else None
            alias = entry.get("objectAlias") if isinstance(entry, dict) else None
            if not path or not alias:
                r.fail(f"{where}.jmesPath[{j}]", entry, "needs both path and objectAlias")
                continue
            if alias in aliases or alias == name:
                r.fail(
                    f"{where}.jmesPath[{j}].objectAlias", alias, "collides with another file name"
                )
                continue
            if not re.fullmatch(r"[\w.-]{1,253}", alias):
                r.fail(
                    f"{where}.jmesPath[{j}].objectAlias",
                    alias,
                    "must be a file name of letters, digits, _ . -",
                )
                continue
            aliases.add(alias)
            entries.append(JmesPathEntry(str(path), str(alias)))
        specs.append(
            SecretSpec(
                name=name,
                description=str(item.get("description", "")),
                existing_arn=arn,
                jmes_path=tuple(entries),
            )
        )
    return tuple(specs)


def _check_secret_values(r: ConfigReader, secrets: tuple[SecretSpec, ...]) -> None:
    """Every created secret needs a value; the value itself never appears in a message."""
    needed = [s.name for s in secrets if s.is_created]
    if not needed:
        return
    raw = r.raw("secretValues")
    hint = (
        "run: pulumi config set --secret secretValues "
        '\'{"<secret name>": {"username": "...", "password": "..."}}\''
    )
    if raw is None:
        r.problems.append(f"{r.key('secretValues')} is not set; {hint}")
        return
    try:
        values = json.loads(raw)
    except json.JSONDecodeError:
        r.problems.append(f"{r.key('secretValues')} (value hidden) is not a JSON object; {hint}")
        return
    if not isinstance(values, dict):
        r.problems.append(f"{r.key('secretValues')} (value hidden) is not a JSON object; {hint}")
        return
    for name in needed:
        if name not in values or values[name] in ("", None, {}):
            r.problems.append(f"{r.key('secretValues')} has no value for secret {name!r}; {hint}")
        elif not isinstance(values[name], (str, dict)):
            r.problems.append(
                f"{r.key('secretValues')} value for {name!r} (hidden) must be a string "
                "or a JSON object"
            )
    for name in values:
        if name not in {s.name for s in secrets}:
            r.problems.append(
                f"{r.key('secretValues')} has a value for {name!r}, "
                "which is not in the secrets list"
            )


def _parse_secrets_store(r: ConfigReader, node_taints: tuple[Taint, ...]) -> SecretsStoreConfig:
    tolerations = []
    for index, text in enumerate(r.string_list("driverTolerations")):
        taint, problem = _taint(text)
        if problem:
            r.problems.append(f"{r.key('driverTolerations')}[{index}] = {text!r}: {problem}")
        else:
            tolerations.append(taint)
    return SecretsStoreConfig(
        enable_sync_secret=r.boolean("enableSyncSecret", False),
        enable_secret_rotation=r.boolean("enableSecretRotation", True),
        rotation_poll_interval=r.string(
            "rotationPollInterval",
            "2m",
            pattern=DURATION,
            allowed="must be a duration like 30s, 2m or 1h",
        ),
        tolerations=tuple(dict.fromkeys([*node_taints, *tolerations])),
    )


def _parse_demo(r: ConfigReader, secrets: tuple[SecretSpec, ...], sync_enabled: bool) -> DemoConfig:
    namespace = r.string("demoNamespace", "secrets-demo")
    if problem := check_dns1123_label(namespace):
        r.fail("demoNamespace", namespace, problem)
    account = r.string("demoServiceAccount", "nginx-secrets-reader")
    if len(account) > 253 or not DNS1123_SUBDOMAIN.fullmatch(account):
        r.fail(
            "demoServiceAccount",
            account,
            "must be a DNS-1123 subdomain (lowercase letters, digits, '-', '.')",
        )
    known = {s.name for s in secrets}
    names = r.string_list(
        "demoSecretNames",
        ("demo-app-credentials",),
        item=lambda n: (
            None if n in known else f"is not in the secrets list ({', '.join(sorted(known))})"
        ),
    )
    demo = DemoConfig(
        enabled=r.boolean("enableDemo", True),
        namespace=namespace,
        service_account=account,
        secret_names=names,
        enable_kubernetes_secret_sync=r.boolean("enableDemoSecretSync", False),
    )
    if demo.enabled and not names:
        r.fail("demoSecretNames", [], "must name at least one secret when enableDemo is true")
    if demo.enable_kubernetes_secret_sync and not sync_enabled:
        r.fail(
            "enableDemoSecretSync",
            True,
            "needs enableSyncSecret: true so the driver may write Secrets",
        )
    return demo


def load(get_raw: RawGetter, *, stack: str, today: date | None = None) -> StackConfig:
    """Parses and validates the whole stack config; raises ConfigError listing every problem."""
    r = ConfigReader(PROJECT, get_raw)
    region = get_raw("aws:region") or ""
    if not AWS_REGION.fullmatch(region):
        r.problems.append(
            f"aws:region = {region!r}: must be an AWS region such as ap-southeast-1 "
            "(pulumi config set aws:region ap-southeast-1)"
        )
    network = _parse_network(r)
    cluster = _parse_cluster(r, stack, today or date.today())
    nodegroup = _parse_nodegroup(r)
    secrets = _parse_secrets(r)
    _check_secret_values(r, secrets)
    secrets_store = _parse_secrets_store(r, nodegroup.taints)
    demo = _parse_demo(r, secrets, secrets_store.enable_sync_secret)
    workloads = parse_workloads(r)
    owner = r.string(
        "owner",
        "platform-team",
        pattern=re.compile(r"[\w .:/=+@-]{1,256}"),
        allowed="must be a valid AWS tag value",
    )
    if r.problems:
        raise ConfigError(r.problems)
    return StackConfig(
        project=PROJECT,
        stack=stack,
        region=region,
        network=network,
        cluster=cluster,
        nodegroup=nodegroup,
        secrets=secrets,
        secrets_store=secrets_store,
        demo=demo,
        workloads=workloads,
        owner=owner,
    )
