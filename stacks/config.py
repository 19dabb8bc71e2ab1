"""The stack's typed configuration, parsed and validated once before any resource exists.

This is the only module that knows config key names. Components receive the frozen
dataclasses below (or Args built from them), never `pulumi.Config`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date

from components.pod_identity import check_pod_identity_version
from components.secrets import SSM_PARAMETER_NAME
from components.secrets_store import INSTALL_METHODS
from components.versions import DEFAULT_KUBERNETES_VERSION, EKS_STANDARD_SUPPORT
from components.workload_secrets import IDENTITY_MODES
from components.workloads.redis_secret_sidecar import SERVICE_ACCOUNT as REDIS_SERVICE_ACCOUNT
from stacks.protection import Protection, protection_for
from stacks.reader import (
    DNS1123_SUBDOMAIN,
    ConfigError,
    ConfigReader,
    RawGetter,
    check_cidr,
    check_dns1123_label,
)
from stacks.workloads import RedisSecretConfig, WorkloadsConfig, parse_workloads

PROJECT = "eks-secrets-platform"

AWS_REGION = re.compile(r"(af|ap|ca|cn|eu|il|me|mx|sa|us)(-gov|-iso[a-z]?)?-[a-z]+-\d")
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")
IAM_PRINCIPAL_ARN = re.compile(
    r"arn:aws[a-z-]*:(iam|sts)::\d{12}:(role|user|assumed-role)/[\w+=,.@/-]+"
)
SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+")
SSM_PARAMETER_ARN = re.compile(r"arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/[\w/.-]+")
SECRET_NAME = re.compile(r"[\w/+=.@-]{1,512}")
SECRET_TYPES = ("secretsmanager", "ssmparameter")
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
FILE_NAME = re.compile(r"[\w.-]{1,253}")
LAMBDA_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]{1,64}(:[\w$-]+)?")
ROTATION_SCHEDULE = re.compile(r"rate\((\d+) (hours?|days?)\)|cron\([^()]+\)")
KMS_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key/"
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})"
)
POD_IDENTITY_DEMO_MODES = ("pod-identity", "pod-identity-abac")
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
CI_RUNNER_LABEL = re.compile(r"[A-Za-z0-9._-]{1,100}")

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
    ci_runner_cidrs: tuple[str, ...] = ()
    """Static egress ranges of the CI runner that deploys this stack; added to the
    endpoint's public access CIDRs so `pulumi up` reaches the Kubernetes API."""
    ci_runner_label: str = ""
    """The `runs-on` label of that runner in the workflows (tests compare the two)."""
    enable_deletion_protection: bool = False
    enable_network_policy: bool = True
    """Turns on NetworkPolicy enforcement in the VPC CNI add-on."""

    @property
    def endpoint_public_access_cidrs(self) -> tuple[str, ...]:
        """publicAccessCidrs then ciRunnerCidrs, without duplicates."""
        return tuple(dict.fromkeys((*self.public_access_cidrs, *self.ci_runner_cidrs)))


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
    """One Secrets Manager secret or SSM parameter the stack creates, imports or references."""

    name: str
    description: str = ""
    existing_arn: str = ""
    """When set, the secret is referenced, never created, changed or deleted (unless
    `import_existing`)."""
    jmes_path: tuple[JmesPathEntry, ...] = ()
    type: str = "secretsmanager"
    """`secretsmanager` or `ssmparameter` (a SecureString)."""
    object_alias: str = ""
    """The mounted file name; empty uses the name (`/` becomes `_`)."""
    namespace: str = ""
    """The Kubernetes namespace that owns it: tagged `kubernetes-namespace` (ABAC)."""
    import_existing: bool = False
    """Adopt `existing_arn` into the stack (Pulumi import, retained on destroy)."""
    replica_regions: tuple[str, ...] = ()
    rotation_lambda_arn: str = ""
    rotation_days: int = 0
    rotation_schedule: str = ""

    @property
    def is_created(self) -> bool:
        """Created by this stack, so it needs a value in secretValues."""
        return not self.existing_arn

    @property
    def is_owned(self) -> bool:
        """Created or imported: this stack may tag, replicate and rotate it."""
        return not self.existing_arn or self.import_existing

    @property
    def is_parameter(self) -> bool:
        return self.type == "ssmparameter"

    @property
    def rotates(self) -> bool:
        return bool(self.rotation_lambda_arn)

    @property
    def mount_alias(self) -> str:
        """The objectAlias in the SecretProviderClass; a referenced secret is mounted by ARN,
        so it always gets one."""
        if self.object_alias:
            return self.object_alias
        if self.existing_arn and not self.import_existing:
            return self.name.strip("/").replace("/", "_")
        return ""

    @property
    def file_names(self) -> list[str]:
        """Every file this secret puts under the mount path."""
        main = self.mount_alias or self.name.replace("/", "_")
        return [main, *(j.object_alias for j in self.jmes_path)]


@dataclass(frozen=True)
class SecretsStoreConfig:
    enable_sync_secret: bool = False
    """Installs the driver's RBAC to sync mounted secrets into Kubernetes Secrets."""
    enable_secret_rotation: bool = True
    rotation_poll_interval: str = "2m"
    tolerations: tuple[Taint, ...] = ()
    """Extra tolerations for the driver and provider DaemonSets (node taints are added)."""
    install_method: str = "helm"
    """`helm` (pinned charts) or `eks-addon` (the aws-secrets-store-csi-driver-provider add-on)."""


@dataclass(frozen=True)
class DemoConfig:
    enabled: bool = True
    namespace: str = "secrets-demo"
    service_account: str = "nginx-secrets-reader"
    secret_names: tuple[str, ...] = ("demo-app-credentials",)
    enable_kubernetes_secret_sync: bool = False
    """Adds `secretObjects` so the mounted secret is also synced to a Kubernetes Secret."""
    identity_mode: str = "irsa"
    """`irsa`, `pod-identity` or `pod-identity-abac`."""


@dataclass(frozen=True)
class PodIdentityDemoConfig:
    """A second nginx demo that reads its own secret through EKS Pod Identity."""

    enabled: bool = False
    namespace: str = "secrets-demo-podid"
    service_account: str = "nginx-podid-reader"
    secret_names: tuple[str, ...] = ()
    identity_mode: str = "pod-identity"
    """`pod-identity` (its own role) or `pod-identity-abac` (the shared ABAC role)."""


@dataclass(frozen=True)
class WorkloadRead:
    """Which secrets one workload reads, and how it authenticates: what validation and the
    identity wiring both need."""

    key: str
    """The config key that lists its secrets, for error messages."""
    namespace: str
    service_account: str
    identity_mode: str
    secret_names: tuple[str, ...]


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
    pod_identity_demo: PodIdentityDemoConfig = field(default_factory=PodIdentityDemoConfig)
    secrets_kms_key: str = "none"
    """`none` (AWS managed keys), `create` (a multi-Region key of this stack) or a key ARN."""
    failover_region: str = ""
    """Workloads also read the secrets' replicas there when the primary region fails."""
    protection: Protection = field(
        default_factory=lambda: protection_for(
            "",
            enable_resource_protection=False,
            enable_cluster_deletion_protection=False,
            secret_recovery_window_days=7,
        )
    )
    """What resists deletion: `protect`, EKS deletion protection, recovery windows."""

    @property
    def tags(self) -> dict[str, str]:
        """Tags on every AWS resource, so leftovers can be found after a destroy."""
        return {"project": self.project, "stack": self.stack, "owner": self.owner}

    def secret(self, name: str) -> SecretSpec:
        return next(s for s in self.secrets if s.name == name)

    @property
    def workload_reads(self) -> list[WorkloadRead]:
        return _workload_reads(self.demo, self.pod_identity_demo, self.workloads.redis_secret)

    @property
    def uses_pod_identity(self) -> bool:
        return any(w.identity_mode != "irsa" for w in self.workload_reads)

    @property
    def replica_regions(self) -> tuple[str, ...]:
        """Every region some secret is replicated to, in first-seen order."""
        return tuple(dict.fromkeys(r for s in self.secrets for r in s.replica_regions))


def _workload_reads(
    demo: DemoConfig, podid: PodIdentityDemoConfig, redis: RedisSecretConfig
) -> list[WorkloadRead]:
    """Every workload that reads stack secrets: both demos and the redis example."""
    reads = []
    if demo.enabled:
        reads.append(
            WorkloadRead(
                "demoSecretNames",
                demo.namespace,
                demo.service_account,
                demo.identity_mode,
                demo.secret_names,
            )
        )
    if podid.enabled:
        reads.append(
            WorkloadRead(
                "podIdentityDemoSecretNames",
                podid.namespace,
                podid.service_account,
                podid.identity_mode,
                podid.secret_names,
            )
        )
    if redis.enabled:
        reads.append(
            WorkloadRead(
                "redisSecretName",
                redis.namespace,
                REDIS_SERVICE_ACCOUNT,
                "irsa",
                (redis.secret_name,),
            )
        )
    return reads


def _demo_namespaces(
    r: ConfigReader, demo: DemoConfig, podid: PodIdentityDemoConfig
) -> dict[str, str]:
    """The enabled demos' namespaces, each with the key that set it (the later one wins)."""
    taken: dict[str, str] = {}
    for cfg, key in ((demo, "demoNamespace"), (podid, "podIdentityDemoNamespace")):
        if not cfg.enabled:
            continue
        if cfg.namespace in taken:
            r.problems.append(
                f"{r.key('podIdentityDemoNamespace')} = {cfg.namespace!r}: the demos need "
                "distinct namespaces (demoNamespace, podIdentityDemoNamespace)"
            )
        taken[cfg.namespace] = key
    return taken


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
    ci_cidrs = r.string_list("ciRunnerCidrs", item=_ci_runner_cidr)
    ci_label = r.string(
        "ciRunnerLabel",
        "",
        pattern=CI_RUNNER_LABEL,
        allowed="must be a runner label: letters, digits, '.', '_' or '-'",
    )
    if bool(ci_cidrs) != bool(ci_label):
        r.fail(
            "ciRunnerLabel",
            ci_label,
            "ciRunnerLabel and ciRunnerCidrs go together: set both (the runner and its static "
            "egress ranges) or neither",
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
        ci_runner_cidrs=ci_cidrs,
        ci_runner_label=ci_label,
        enable_deletion_protection=r.boolean("enableClusterDeletionProtection", False),
        enable_network_policy=r.boolean("enableNetworkPolicy", True),
    )


def _ci_runner_cidr(value: str) -> str | None:
    """A runner's static egress range: an IPv4 CIDR no wider than /16."""
    if problem := check_cidr(value):
        return problem
    if ":" in value or int(value.split("/")[1]) < 16:
        return "must be an IPv4 CIDR of /16 or narrower (the runner's static egress range)"
    return None


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


def _parse_secrets(r: ConfigReader, region: str) -> tuple[SecretSpec, ...]:
    specs: list[SecretSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(r.yaml_list("secrets", DEFAULT_SECRETS_YAML)):
        where = f"secrets[{index}]"
        unknown = set(item) - set(SECRET_FIELDS)
        if unknown:
            r.fail(where, sorted(unknown), f"unknown field(s); allowed: {', '.join(SECRET_FIELDS)}")
        kind = str(item.get("type", "secretsmanager"))
        if kind not in SECRET_TYPES:
            r.fail(f"{where}.type", kind, f"must be one of {', '.join(SECRET_TYPES)}")
            continue
        name = str(item.get("name", ""))
        if kind == "ssmparameter":
            if len(name) > 1011 or not SSM_PARAMETER_NAME.fullmatch(name):
                r.fail(
                    f"{where}.name",
                    name,
                    "must be an SSM parameter name: letters, digits, _ . - and / between levels",
                )
                continue
        elif not SECRET_NAME.fullmatch(name):
            r.fail(f"{where}.name", name, "must be 1-512 letters, digits or /_+=.@-")
            continue
        if name in seen:
            r.fail(f"{where}.name", name, "is listed twice; secret names must be unique")
            continue
        seen.add(name)
        arn = str(item.get("existingArn", ""))
        if arn and kind == "secretsmanager" and not SECRET_ARN.fullmatch(arn):
            r.fail(f"{where}.existingArn", arn, "must be a Secrets Manager secret ARN")
        if arn and kind == "ssmparameter" and not SSM_PARAMETER_ARN.fullmatch(arn):
            r.fail(f"{where}.existingArn", arn, "must be an SSM parameter ARN")
        adopt = item.get("import", False)
        if not isinstance(adopt, bool):
            r.fail(f"{where}.import", adopt, "must be true or false")
            adopt = False
        if adopt and (not arn or kind != "secretsmanager"):
            r.fail(f"{where}.import", adopt, "needs existingArn of a Secrets Manager secret")
            adopt = False
        elif adopt and arn.split(":secret:", 1)[-1].rsplit("-", 1)[0] != name:
            r.fail(
                f"{where}.import",
                adopt,
                f"the secret in existingArn is not named {name!r}; name must match it",
            )
        owned = not arn or adopt
        alias = str(item.get("objectAlias", ""))
        if alias and not FILE_NAME.fullmatch(alias):
            r.fail(f"{where}.objectAlias", alias, "must be a file name of letters, digits, _ . -")
            alias = ""
        namespace = str(item.get("namespace", ""))
        if namespace and (problem := check_dns1123_label(namespace)):
            r.fail(f"{where}.namespace", namespace, problem)
            namespace = ""
        elif namespace and not owned:
            r.fail(
                f"{where}.namespace",
                namespace,
                "cannot tag a referenced secret (it is never changed); tag it yourself with "
                "kubernetes-namespace, or set import: true",
            )
        replicas = _parse_replica_regions(r, where, item, region, kind, owned)
        rotation = _parse_rotation(r, where, item, kind, owned)
        spec = SecretSpec(
            name=name,
            description=str(item.get("description", "")),
            existing_arn=arn,
            type=kind,
            object_alias=alias,
            namespace=namespace,
            import_existing=bool(adopt),
            replica_regions=replicas,
            rotation_lambda_arn=rotation[0],
            rotation_days=rotation[1],
            rotation_schedule=rotation[2],
        )
        entries = []
        files = {spec.file_names[0]}
        for j, entry in enumerate(item.get("jmesPath") or []):
            path = entry.get("path") if isinstance(entry, dict) else None
            entry_alias = entry.get("objectAlias") if isinstance(entry, dict) else None
            if not path or not entry_alias:
                r.fail(f"{where}.jmesPath[{j}]", entry, "needs both path and objectAlias")
                continue
            if entry_alias in files:
                r.fail(
                    f"{where}.jmesPath[{j}].objectAlias",
                    entry_alias,
                    "collides with another file name",
                )
                continue
            if not FILE_NAME.fullmatch(str(entry_alias)):
                r.fail(
                    f"{where}.jmesPath[{j}].objectAlias",
                    entry_alias,
                    "must be a file name of letters, digits, _ . -",
                )
                continue
            files.add(entry_alias)
            entries.append(JmesPathEntry(str(path), str(entry_alias)))
        specs.append(replace(spec, jmes_path=tuple(entries)))
    return tuple(specs)


def _parse_replica_regions(
    r: ConfigReader, where: str, item: dict, region: str, kind: str, owned: bool
) -> tuple[str, ...]:
    raw = item.get("replicaRegions") or []
    if not raw:
        return ()
    key = f"{where}.replicaRegions"
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        r.fail(key, raw, "must be a list of AWS regions")
        return ()
    if kind != "secretsmanager":
        r.fail(key, raw, "only Secrets Manager secrets replicate; SSM parameters do not")
        return ()
    if not owned:
        r.fail(key, raw, "a referenced secret is never changed; set import: true to replicate it")
        return ()
    good = []
    for index, name in enumerate(raw):
        if not AWS_REGION.fullmatch(name):
            r.fail(f"{key}[{index}]", name, "must be an AWS region such as ap-southeast-2")
        elif name == region:
            r.fail(f"{key}[{index}]", name, "is the stack's own region (aws:region)")
        elif name in good:
            r.fail(f"{key}[{index}]", name, "is listed twice")
        else:
            good.append(name)
    return tuple(good)


def _parse_rotation(
    r: ConfigReader, where: str, item: dict, kind: str, owned: bool
) -> tuple[str, int, str]:
    lambda_arn = str(item.get("rotationLambdaArn", ""))
    days = item.get("rotationDays", 0)
    schedule = str(item.get("rotationSchedule", ""))
    if not (lambda_arn or days or schedule):
        return "", 0, ""
    problems = len(r.problems)
    if kind != "secretsmanager":
        r.fail(f"{where}.rotationLambdaArn", lambda_arn, "only Secrets Manager secrets rotate")
    elif not owned:
        r.fail(
            f"{where}.rotationLambdaArn",
            lambda_arn,
            "a referenced secret is never changed; set import: true to rotate it here",
        )
    if not LAMBDA_ARN.fullmatch(lambda_arn):
        r.fail(
            f"{where}.rotationLambdaArn",
            lambda_arn,
            "rotation needs the ARN of your rotation Lambda, "
            "e.g. arn:aws:lambda:ap-southeast-1:123456789012:function:rotate-db",
        )
    if bool(days) == bool(schedule):
        r.fail(
            f"{where}.rotationDays",
            days,
            "give exactly one of rotationDays (1-1000) or rotationSchedule",
        )
    elif days and (not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 1000):
        r.fail(f"{where}.rotationDays", days, "must be a whole number of days between 1 and 1000")
    elif schedule and not ROTATION_SCHEDULE.fullmatch(schedule):
        r.fail(
            f"{where}.rotationSchedule",
            schedule,
            "must be rate(N hours|days) or cron(...), e.g. rate(30 days)",
        )
    if len(r.problems) > problems:
        return "", 0, ""
    return lambda_arn, int(days or 0), schedule


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
        install_method=r.string("secretsStoreInstallMethod", "helm", choices=INSTALL_METHODS),
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
        identity_mode=r.string("demoIdentityMode", "irsa", choices=IDENTITY_MODES),
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


def _parse_pod_identity_demo(
    r: ConfigReader, secrets: tuple[SecretSpec, ...]
) -> PodIdentityDemoConfig:
    namespace = r.string("podIdentityDemoNamespace", "secrets-demo-podid")
    if problem := check_dns1123_label(namespace):
        r.fail("podIdentityDemoNamespace", namespace, problem)
    account = r.string("podIdentityDemoServiceAccount", "nginx-podid-reader")
    if len(account) > 253 or not DNS1123_SUBDOMAIN.fullmatch(account):
        r.fail(
            "podIdentityDemoServiceAccount",
            account,
            "must be a DNS-1123 subdomain (lowercase letters, digits, '-', '.')",
        )
    known = {s.name for s in secrets}
    enabled = r.boolean("enablePodIdentityDemo", False)
    demo = PodIdentityDemoConfig(
        enabled=enabled,
        namespace=namespace,
        service_account=account,
        # Names are checked only when the demo is on, so turning it off needs one key.
        secret_names=r.string_list(
            "podIdentityDemoSecretNames",
            item=lambda n: (
                None
                if n in known or not enabled
                else f"is not in the secrets list ({', '.join(sorted(known))})"
            ),
        ),
        identity_mode=r.string(
            "podIdentityDemoIdentityMode", "pod-identity", choices=POD_IDENTITY_DEMO_MODES
        ),
    )
    if demo.enabled and not demo.secret_names:
        r.fail(
            "podIdentityDemoSecretNames",
            [],
            "must name at least one secret when enablePodIdentityDemo is true",
        )
    return demo


def _parse_secrets_kms_key(r: ConfigReader, region: str, secrets: tuple[SecretSpec, ...]) -> str:
    value = r.string("secretsKmsKey", "none")
    if value in ("none", "create"):
        return value
    match = KMS_KEY_ARN.fullmatch(value)
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


def _duration_seconds(text: str) -> int:
    return int(text[:-1]) * {"s": 1, "m": 60, "h": 3600}[text[-1]]


def _rotation_period_seconds(spec: SecretSpec) -> int | None:
    """The rotation period, or None for cron schedules (not reduced to one period)."""
    if spec.rotation_days:
        return spec.rotation_days * 86400
    match = ROTATION_SCHEDULE.fullmatch(spec.rotation_schedule)
    if match and match.group(1):
        return int(match.group(1)) * (3600 if match.group(2).startswith("hour") else 86400)
    return None


def _check_workload_reads(
    r: ConfigReader,
    region: str,
    cluster: ClusterConfig,
    secrets: tuple[SecretSpec, ...],
    reads: list[WorkloadRead],
    failover_region: str,
) -> None:
    """What each workload reads must be mountable together, reachable by its identity mode,
    and (with failover) replicated to the failover region."""
    by_name = {s.name: s for s in secrets}
    modes = {w.identity_mode for w in reads}
    if modes - {"irsa"} and (problem := check_pod_identity_version(cluster.kubernetes_version)):
        r.fail("kubernetesVersion", cluster.kubernetes_version, problem)
    if modes - {"irsa"} and region.startswith("cn-"):
        r.problems.append(
            f"aws:region = {region!r}: EKS Pod Identity is not available in the China regions; "
            "use identity mode irsa"
        )
    for w in reads:
        specs = [by_name[n] for n in w.secret_names if n in by_name]
        files = [f for s in specs for f in s.file_names]
        collisions = sorted({f for f in files if files.count(f) > 1})
        if collisions:
            r.fail(
                w.key,
                list(w.secret_names),
                f"mounted file names collide: {collisions}; give the secrets distinct "
                "objectAlias or jmesPath objectAlias values",
            )
        for spec in specs:
            if w.identity_mode == "pod-identity-abac" and (
                spec.is_parameter or not spec.is_owned or spec.namespace != w.namespace
            ):
                r.fail(
                    w.key,
                    spec.name,
                    f"pod-identity-abac reads only Secrets Manager secrets this stack creates "
                    f"or imports, tagged with the workload's namespace: set "
                    f"namespace: {w.namespace} on secret {spec.name!r}",
                )
            if failover_region and failover_region not in spec.replica_regions:
                r.fail(
                    "failoverRegion",
                    failover_region,
                    f"secret {spec.name!r} (read by {w.key}) is not replicated there; add "
                    f"{failover_region} to its replicaRegions",
                )


def _check_rotation(
    r: ConfigReader, secrets: tuple[SecretSpec, ...], store: SecretsStoreConfig
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
    poll = _duration_seconds(store.rotation_poll_interval)
    for spec in rotating:
        period = _rotation_period_seconds(spec)
        if period is not None and poll >= period:
            r.fail(
                "rotationPollInterval",
                store.rotation_poll_interval,
                f"must be shorter than the rotation period of secret {spec.name!r}",
            )


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
    secrets = _parse_secrets(r, region)
    _check_secret_values(r, secrets)
    secrets_store = _parse_secrets_store(r, nodegroup.taints)
    _check_rotation(r, secrets, secrets_store)
    demo = _parse_demo(r, secrets, secrets_store.enable_sync_secret)
    pod_identity_demo = _parse_pod_identity_demo(r, secrets)
    secrets_kms_key = _parse_secrets_kms_key(r, region, secrets)
    failover_region = r.string(
        "failoverRegion",
        "",
        pattern=AWS_REGION,
        allowed="must be an AWS region such as ap-southeast-2, or empty for none",
    )
    if failover_region and failover_region == region:
        r.fail("failoverRegion", failover_region, "must differ from aws:region")
        failover_region = ""
    workloads = parse_workloads(r, secrets, _demo_namespaces(r, demo, pod_identity_demo))
    _check_workload_reads(
        r,
        region,
        cluster,
        secrets,
        _workload_reads(demo, pod_identity_demo, workloads.redis_secret),
        failover_region,
    )
    recovery_days = r.integer("secretRecoveryWindowDays", 7, minimum=0, maximum=30)
    if 0 < recovery_days < 7:
        r.fail("secretRecoveryWindowDays", recovery_days, "must be 0 (delete at once) or 7-30")
        recovery_days = 7
    protection = protection_for(
        stack,
        enable_resource_protection=r.boolean("enableResourceProtection", False),
        enable_cluster_deletion_protection=cluster.enable_deletion_protection,
        secret_recovery_window_days=recovery_days,
    )
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
        pod_identity_demo=pod_identity_demo,
        secrets_kms_key=secrets_kms_key,
        failover_region=failover_region,
        protection=protection,
    )
