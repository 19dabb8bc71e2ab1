"""Rules for single values, each returning None for a good value or what is allowed.

They know nothing of keys: the reader reports a message under the key that held the
value, so one rule serves every key it applies to.
"""

from __future__ import annotations

import functools
import ipaddress
import re

import botocore.session

from components.secrets_store import NAMESPACE as DRIVER_NAMESPACE
from components.validation import (
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
SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[\w/+=.@-]+")
SSM_PARAMETER_ARN = re.compile(r"arn:aws[a-z-]*:ssm:([a-z0-9-]+):\d{12}:parameter/[\w/.-]+")
SECRET_NAME = re.compile(r"[\w/+=.@-]{1,512}")

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
    if not sep or not LABEL_KEY.fullmatch(key) or not LABEL_VALUE.fullmatch(val):
        return "must look like key=value with a valid Kubernetes label key and value"
    return None


def taint(value: str) -> str | None:
    match = TAINT.fullmatch(value)
    if not match:
        return "must look like key=value:Effect or key:Effect"
    key, val, effect = match.group(1), match.group(2) or "", match.group(3)
    if effect not in TAINT_EFFECTS:
        return f"effect must be one of {', '.join(TAINT_EFFECTS)}"
    if not LABEL_KEY.fullmatch(key) or not LABEL_VALUE.fullmatch(val):
        return "key and value must be valid Kubernetes label key and value"
    return None


def matches(pattern: re.Pattern[str], allowed: str):
    """A rule from a pattern."""
    return lambda value: None if pattern.fullmatch(value) else allowed
