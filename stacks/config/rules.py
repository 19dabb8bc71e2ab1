"""Rules for single values, each returning None for a good value or what is allowed.

They know nothing of keys: the reader reports a message under the key that held the
value, so one rule serves every key it applies to.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable

import botocore.exceptions
import botocore.session
from eksplatform.secrets_store import NAMESPACE as DRIVER_NAMESPACE
from eksplatform.validation import (
    check_cidr,
    check_dns1123_label,
    check_dns1123_subdomain,
    check_hostname,
    check_not_world_open,
    instance_family,
)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""Namespaces of Kubernetes itself; the CSI driver and ASCP live in kube-system too."""
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")
IAM_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+")
ASSUMED_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/.+")
SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+"
)
SSM_PARAMETER_ARN = re.compile(r"arn:aws[a-z-]*:ssm:([a-z0-9-]+):\d{12}:parameter/[A-Za-z0-9_/.-]+")
SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]+")
"""Secrets Manager CreateSecret `Name`: "The secret name can contain ASCII letters, numbers,
and the following characters: /_+=.@-" (CreateSecret, AWS Secrets Manager API Reference,
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html);
its length comes from botocore (`secret_name`). ASCII only: `\\w` would let `é` through."""

FILE_NAME = re.compile(r"[\w.-]{1,253}")
LAMBDA_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]{1,64}(:[\w$-]+)?")
ROTATION_SCHEDULE = re.compile(r"rate\((\d+) (hours?|days?)\)|cron\([^()]+\)")
KMS_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key/"
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})"
)
VPC_ID = re.compile(r"vpc-[0-9a-f]{8,17}")
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}")
DURATION = re.compile(r"(\d+)(s|m|h)")
LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
)
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
TAINT = re.compile(r"([^=:]+)(?:=([^:]*))?:(\w+)")
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
}
SSH_KEY_NAME = re.compile(r"[\w .:/=+@-]{1,255}")
TAG_VALUE = re.compile(r"[\w .:/=+@-]{1,256}")
CLUSTER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,99}")
EXISTING_CLUSTER_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
"""Any name EKS accepts (botocore eks model, shape ClusterName: 1-100 characters, pattern
^[0-9A-Za-z][A-Za-z0-9\\-_]*), for a cluster someone else created."""
EKS_CLUSTER_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):eks:([a-z0-9-]+):(\d{12}):cluster/"
    r"([0-9A-Za-z][A-Za-z0-9_-]{0,99})"
)
"""arn:${Partition}:eks:${Region}:${Account}:cluster/${ClusterName} (Service Authorization
Reference, "Actions, resources, and condition keys for Amazon EKS", resource type cluster)."""
CI_RUNNER_LABEL = re.compile(r"[A-Za-z0-9._-]{1,100}")


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region the installed AWS SDK (botocore) knows, in every partition."""
    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


@functools.cache
def known_instance_families() -> frozenset[str]:
    """Instance families in the installed AWS SDK's EC2 model (its InstanceType enum)."""
    model = botocore.session.get_session().get_service_model("ec2")
    return frozenset(instance_family(t) for t in model.shape_for("InstanceType").enum)


def region(value: str) -> str | None:
    if value in known_regions():
        return None
    return "must be an AWS region the AWS SDK knows, such as ap-southeast-1"


def instance_type(value: str) -> str | None:
    if not INSTANCE_TYPE.fullmatch(value):
        return "must be an EC2 instance type like t3.medium or m7i.large"
    if instance_family(value) not in known_instance_families():
        return f"has no EC2 instance family {instance_family(value)!r}; e.g. t3, m7i, c7g"
    if value not in known_instance_types():
        # botocore ec2 `InstanceType` enum: the sizes EC2 has (t3.larg is no instance type).
        sizes = sorted(
            t for t in known_instance_types() if instance_family(t) == instance_family(value)
        )
        return (
            f"is not an EC2 instance type the AWS SDK knows; {instance_family(value)} has "
            f"{', '.join(s.split('.', 1)[1] for s in sizes[:8])}{' ...' if len(sizes) > 8 else ''}"
        )
    return None


def cidr(value: str) -> str | None:
    return check_cidr(value)


def public_access_cidr(value: str) -> str | None:
    return check_cidr(value) or check_not_world_open(value)


def ci_runner_cidr(value: str) -> str | None:
    """A runner's static egress range: an IPv4 CIDR no wider than /16."""
    if problem := check_cidr(value):
        return problem
    network = ipaddress.ip_network(value)
    if network.version != 4 or network.prefixlen < 16:
        return "must be an IPv4 CIDR of /16 or narrower (the runner's static egress range)"
    return None


def vpc_cidr(value: str) -> str | None:
    if check_cidr(value) or ipaddress.ip_network(value).version != 4:
        return "must be an IPv4 CIDR block such as 10.0.0.0/16"
    if not 16 <= ipaddress.ip_network(value).prefixlen <= 20:
        return "prefix length must be between /16 and /20 to fit the subnets"
    return None


def principal_arn(value: str) -> str | None:
    if match := ASSUMED_ROLE_ARN.fullmatch(value):
        partition, account, role = match.groups()
        return (
            "is an STS session, which ends within hours; give the role itself, "
            f"arn:{partition}:iam::{account}:role/{role} (with its path, if it has one)"
        )
    if not IAM_PRINCIPAL_ARN.fullmatch(value):
        return "must be an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/Admin"
    return None


def role_arn(value: str) -> str | None:
    """An IAM role (CI assumes roles only), not its session."""
    if problem := principal_arn(value):
        return problem
    match = IAM_PRINCIPAL_ARN.fullmatch(value)
    if match and match.group(1) == "role":
        return None
    return "must be an IAM role ARN, not a user: CI assumes the stack's deploy role"


def namespace(value: str) -> str | None:
    if problem := check_dns1123_label(value):
        return problem
    if value in SYSTEM_NAMESPACES:
        return (
            f"belongs to the system ({', '.join(SYSTEM_NAMESPACES)}; the CSI driver runs in "
            f"{DRIVER_NAMESPACE}); give the workload a namespace of its own"
        )
    return None


def object_name(value: str) -> str | None:
    return check_dns1123_subdomain(value)


def hostname(value: str, maximum: int = 253) -> str | None:
    return check_hostname(value, maximum=maximum)


def file_name(value: str) -> str | None:
    if value in (".", "..") or not FILE_NAME.fullmatch(value):
        return "must be a file name of letters, digits, _ . - (not . or ..)"
    return None


def duration_seconds(value: str) -> int:
    match = DURATION.fullmatch(value)
    assert match, value
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def duration(value: str) -> str | None:
    if not DURATION.fullmatch(value) or duration_seconds(value) == 0:
        return "must be a positive duration like 30s, 2m or 1h"
    return None


def label(value: str) -> str | None:
    key, sep, val = value.partition("=")
    if not sep:
        return "must look like key=value with a valid Kubernetes label key and value"
    return k8s_label(key, val)


def taint(value: str) -> str | None:
    match = TAINT.fullmatch(value)
    if not match:
        return "must look like key=value:Effect or key:Effect"
    key, val, effect = match.group(1), match.group(2) or "", match.group(3)
    if effect not in TAINT_EFFECTS:
        return f"effect must be one of {', '.join(TAINT_EFFECTS)}"
    if k8s_label(key, val):
        return "key and value must be valid Kubernetes label key and value"
    return None


def matches(pattern: re.Pattern[str], allowed: str):
    """A rule from a pattern."""
    return lambda value: None if pattern.fullmatch(value) else allowed


# --- Limits AWS and Kubernetes enforce only at `pulumi up` ------------------------------
# Each is checked here so a value that the API would refuse fails before any resource.

PULUMI_AUTONAME_SUFFIX = 8
"""Pulumi autonaming appends '-' and 7 random hex characters to the resource name, and the
AWS provider refuses a name whose result exceeds the API's maximum (pulumi-terraform-bridge
`tfbridge.AutoName(name, maxlen, "-")`, Randlen 7; pulumi/pulumi
sdk/go/common/resource `NewUniqueHex`: "name '%s' plus %d random chars is longer than
maximum length %d")."""
K8S_LABEL_VALUE_MAX = 63
"""Kubernetes "Labels and Selectors": a valid label value must be 63 characters or less
(https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set)."""
K8S_LABEL_NAME_MAX = 63
"""Same page: the name segment of a label key is 63 characters or less."""
K8S_LABEL_PREFIX_MAX = 253
"""Same page: the optional prefix of a label key is a DNS subdomain, 253 characters or less."""
K8S_OBJECT_NAME_MAX = 253
"""Kubernetes "Object Names and IDs", DNS Subdomain Names: no more than 253 characters
(https://kubernetes.io/docs/concepts/overview/working-with-objects/names/)."""
EKS_PUBLIC_ACCESS_CIDRS_MAX = 40
"""Amazon EKS service quotas, "Public endpoint access CIDR ranges per cluster": 40, not
adjustable (https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html; EKS user
guide "Cluster API server endpoint" points there for the maximum number of CIDR blocks)."""
NETWORK_POLICY_PORTS_MAX = 24
"""EKS user guide "Limit Pod traffic with Kubernetes network policies", Considerations: "The
maximum number of unique combinations of ports for each protocol in each ingress: or egress:
selector in a network policy is 24."
(https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html)."""
SSM_PARAMETER_ARN_MAX = 1011
"""SSM "Requirements and constraints for parameter names" and PutParameter `Name`: "The
maximum length for a parameter name, including the full length of the parameter ARN, is
1011 characters" (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html).
botocore's PSParameterName says 2048: that includes 1037 characters for system attributes."""
SSM_HIERARCHY_LEVELS_MAX = 15
"""Same page: "the hierarchy can have a maximum depth of fifteen levels"
(/Level-1/L2/.../L14/parameter-name is the deepest valid name)."""
SSM_RESERVED_PREFIXES = ("aws", "ssm")
"""Same page: "A parameter name can't be prefixed with "aws" or "ssm" (case-insensitive)",
e.g. awsTestParameter, SSM-testparameter, /aws/testparam1."""
SSM_PARAMETER_NAME_CHARS = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
"""Same page: "Parameter names can consist of the following symbols and letters only:
a-zA-Z0-9_.-", and / between hierarchy levels (leading / allowed, stripped before matching)."""
ACCOUNT_ID_LENGTH = 12
FILE_NAME_MAX = 255
"""Linux NAME_MAX (include/uapi/linux/limits.h): a path component has at most 255 bytes, so
the CSI driver cannot write a mounted file with a longer name (open(2): ENAMETOOLONG)."""


@functools.cache
def api_max_length(service: str, shape: str) -> int:
    """The `max` length constraint of a shape in the installed AWS SDK's service model."""
    model = botocore.session.get_session().get_service_model(service)
    return int(model.shape_for(shape).metadata["max"])


def iam_role_name_max() -> int:
    """botocore iam `roleNameType`: min 1, max 64."""
    return api_max_length("iam", "roleNameType")


def iam_policy_name_max() -> int:
    """botocore iam `policyNameType`: min 1, max 128."""
    return api_max_length("iam", "policyNameType")


def autonamed(kind: str, name: str, maximum: int) -> str | None:
    """None when Pulumi's autoname for resource `name` fits `maximum`, else what is allowed."""
    length = len(name) + PULUMI_AUTONAME_SUFFIX
    if length <= maximum:
        return None
    return (
        f"makes the {kind} name {name}-<7 random characters> {length} characters long; AWS "
        f"allows at most {maximum} (shorten it by {length - maximum})"
    )


@functools.cache
def known_instance_types() -> frozenset[str]:
    """Every instance type in the installed AWS SDK's EC2 model (its InstanceType enum)."""
    model = botocore.session.get_session().get_service_model("ec2")
    return frozenset(model.shape_for("InstanceType").enum)


def secret_name(value: str) -> str | None:
    """Secrets Manager CreateSecret `Name` (botocore secretsmanager `NameType`, max 512)."""
    maximum = api_max_length("secretsmanager", "NameType")
    if not SECRET_NAME.fullmatch(value) or len(value) > maximum:
        return f"must be 1-{maximum} ASCII letters, digits or /_+=.@-"
    return None


def ssm_parameter_name(value: str, region: str, *, created: bool = True) -> str | None:
    """An SSM parameter name PutParameter accepts, in `region` (its ARN counts). The reserved
    prefixes bind only names this stack creates: AWS's own public parameters live under
    /aws/service/ and may be referenced."""
    if not SSM_PARAMETER_NAME_CHARS.fullmatch(value.removeprefix("/")):
        return "must be an SSM parameter name: ASCII letters, digits, _ . - and / between levels"
    if "/" in value and not value.startswith("/"):
        return f"is in a hierarchy but not fully qualified: start it with /, e.g. /{value}"
    if created and value.lstrip("/").lower().startswith(SSM_RESERVED_PREFIXES):
        return "must not begin with aws or ssm (any case, also after /): AWS reserves them"
    levels = len(value.strip("/").split("/"))
    if levels > SSM_HIERARCHY_LEVELS_MAX:
        return f"has {levels} hierarchy levels; SSM allows at most {SSM_HIERARCHY_LEVELS_MAX}"
    arn = ssm_parameter_arn_length(value, region)
    if arn > SSM_PARAMETER_ARN_MAX:
        return (
            f"is too long: with its ARN it is {arn} characters; SSM allows at most "
            f"{SSM_PARAMETER_ARN_MAX} (the name and arn:<partition>:ssm:<region>:<account>:"
            "parameter/ together)"
        )
    return None


@functools.cache
def partition_of(region: str) -> str:
    """The region's partition from botocore's endpoints model (`aws` for an unknown region,
    which is reported under aws:region). Cached: each new session reads the model from disk,
    about 40 ms, once per SSM parameter of a stack before."""
    try:
        return botocore.session.get_session().get_partition_for_region(region)
    except botocore.exceptions.UnknownRegionError:
        return "aws"


def ssm_parameter_arn_length(name: str, region: str) -> int:
    """Length of the parameter's ARN; the account ID is always 12 digits."""
    prefix = f"arn:{partition_of(region)}:ssm:{region}:{'0' * ACCOUNT_ID_LENGTH}:parameter/"
    return len(prefix) + len(name.removeprefix("/"))


def description(service: str, shape: str) -> Callable[[str], str | None]:
    """A description no longer than the service model's maximum: Secrets Manager
    `DescriptionType` (max 2048), SSM `ParameterDescription` (max 1024)."""

    def check(value: str) -> str | None:
        maximum = api_max_length(service, shape)
        if len(value) > maximum:
            return f"is {len(value)} characters long; {service} allows at most {maximum}"
        return None

    return check


def k8s_label(key: str, value: str) -> str | None:
    """A Kubernetes label, lengths included (Kubernetes "Labels and Selectors")."""
    if not LABEL_KEY.fullmatch(key) or not LABEL_VALUE.fullmatch(value):
        return "must look like key=value with a valid Kubernetes label key and value"
    prefix, _, name = key.rpartition("/")
    if len(name) > K8S_LABEL_NAME_MAX or len(prefix) > K8S_LABEL_PREFIX_MAX:
        return (
            f"label key {key!r} is too long: its name part may have at most "
            f"{K8S_LABEL_NAME_MAX} characters and its prefix at most {K8S_LABEL_PREFIX_MAX}"
        )
    if len(value) > K8S_LABEL_VALUE_MAX:
        return (
            f"label value is {len(value)} characters long; Kubernetes allows at most "
            f"{K8S_LABEL_VALUE_MAX}"
        )
    return None


def eks_node_label(value: str) -> str | None:
    """A label of an EKS managed nodegroup: botocore eks `labelKey` and `labelValue` are
    1-63 characters each, the key's prefix included (stricter than Kubernetes, and an empty
    value is refused)."""
    if problem := label(value):
        return problem
    key, _, val = value.partition("=")
    key_max = api_max_length("eks", "labelKey")
    value_max = api_max_length("eks", "labelValue")
    if len(key) > key_max:
        return f"key is {len(key)} characters long; EKS node labels allow 1-{key_max}"
    if not 1 <= len(val) <= value_max:
        return f"value is {len(val)} characters long; EKS node labels allow 1-{value_max}"
    return None


def eks_node_taint(value: str) -> str | None:
    """A taint of an EKS managed nodegroup: botocore eks `taintKey` 1-63, `taintValue` 0-63."""
    if problem := taint(value):
        return problem
    match = TAINT.fullmatch(value)
    assert match
    key, val = match.group(1), match.group(2) or ""
    key_max = api_max_length("eks", "taintKey")
    value_max = api_max_length("eks", "taintValue")
    if len(key) > key_max or len(val) > value_max:
        return f"key may have at most {key_max} characters and value at most {value_max} (EKS)"
    return None
