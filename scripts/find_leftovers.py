"""Lists what a stack left behind in AWS, so that a destroy is checked rather than assumed.

Two sources:
- everything still tagged project=<project> and stack=<stack> (Resource Groups Tagging API);
- what EKS and Kubernetes create without our tags and that blocks a VPC deletion: load
  balancers of LoadBalancer Services, their security groups, detached ENIs left by the VPC
  CNI or by ELBs, and the control-plane log group EKS re-creates after we delete ours.

Resources AWS deletes later by design (KMS keys and secrets in their waiting period,
terminated instances) are printed as "pending deletion" and do not fail the check.

Exit codes: 0 nothing left, 1 something left, 2 cannot check (no credentials or no access).

    python scripts/find_leftovers.py --stack dev --region ap-southeast-1
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError, NoCredentialsError

PROJECT = "eks-secrets-platform"
EXIT_CLEAN, EXIT_LEFTOVERS, EXIT_CANNOT_CHECK = 0, 1, 2
ENI_DESCRIPTION_PREFIXES = ("aws-K8S-", "ELB ", "Amazon EKS ")
ELB_TAG_BATCH = 20  # DescribeTags accepts at most 20 load balancers per call
AUTH_ERRORS = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
}


@dataclass(frozen=True)
class Leftover:
    kind: str
    """tagged, elbv2, elb, security-group, eni or log-group."""
    identifier: str
    """ARN where AWS gives one, else the resource id or name."""
    detail: str = ""
    pending_deletion: bool = False
    """AWS deletes it on its own after a waiting period; not counted as left over."""


@dataclass(frozen=True)
class Target:
    """What to look for."""

    stack: str
    cluster_name: str
    project: str = PROJECT
    vpc_ids: tuple[str, ...] = ()
    """VPCs to scan for ENIs besides those still tagged with the stack (existingVpcId)."""


@dataclass(frozen=True)
class Clients:
    """boto3 clients of one region; tests pass clients wrapped in botocore Stubbers."""

    tagging: Any
    elbv2: Any
    elb: Any
    ec2: Any
    logs: Any
    kms: Any
    secretsmanager: Any

    @classmethod
    def from_session(cls, session: boto3.Session) -> Clients:
        return cls(
            tagging=session.client("resourcegroupstaggingapi"),
            elbv2=session.client("elbv2"),
            elb=session.client("elb"),
            ec2=session.client("ec2"),
            logs=session.client("logs"),
            kms=session.client("kms"),
            secretsmanager=session.client("secretsmanager"),
        )


def _pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator(operation).paginate(**kwargs)


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def tagged_resources(tagging: Any, project: str, stack: str) -> list[Leftover]:
    """Every resource the tagging API still reports with both tags."""
    filters = [{"Key": "project", "Values": [project]}, {"Key": "stack", "Values": [stack]}]
    found = []
    for page in _pages(tagging, "get_resources", TagFilters=filters, ResourcesPerPage=100):
        for mapping in page.get("ResourceTagMappingList", []):
            tags = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
            name = tags.get("Name", "")
            found.append(Leftover("tagged", mapping["ResourceARN"], name))
    return found


def _kms_pending(kms: Any, arn: str) -> bool | None:
    try:
        state = kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"]
    except ClientError as error:
        if _error_code(error) == "NotFoundException":
            return None
        raise
    return state in ("PendingDeletion", "PendingReplicaDeletion")


def _secret_pending(secretsmanager: Any, arn: str) -> bool | None:
    try:
        return "DeletedDate" in secretsmanager.describe_secret(SecretId=arn)
    except ClientError as error:
        if _error_code(error) == "ResourceNotFoundException":
            return None
        raise


def _instance_pending(ec2: Any, arn: str) -> bool | None:
    instance_id = arn.rsplit("/", 1)[-1]
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as error:
        if _error_code(error) == "InvalidInstanceID.NotFound":
            return None
        raise
    states = [i["State"]["Name"] for r in reservations for i in r["Instances"]]
    if not states:
        return None
    return all(state == "terminated" for state in states)


def classify(clients: Clients, resource: Leftover) -> Leftover | None:
    """Marks resources that AWS deletes by itself; None when the resource is already gone.

    The tagging API lags behind deletions, so a KMS key in its waiting period, a secret in
    its recovery window or a terminated node still shows up there with our tags.
    """
    arn = resource.identifier
    check: Callable[[Any, str], bool | None] | None = None
    client: Any = None
    if arn.startswith("arn:") and ":kms:" in arn and ":key/" in arn:
        check, client = _kms_pending, clients.kms
    elif ":secretsmanager:" in arn and ":secret:" in arn:
        check, client = _secret_pending, clients.secretsmanager
    elif ":ec2:" in arn and ":instance/" in arn:
        check, client = _instance_pending, clients.ec2
    if check is None:
        return resource
    pending = check(client, arn)
    if pending is None:
        return None
    if pending:
        return Leftover(resource.kind, arn, resource.detail, pending_deletion=True)
    return resource


def _cluster_owned(tags: dict[str, str], cluster_name: str) -> bool:
    return f"kubernetes.io/cluster/{cluster_name}" in tags or (
        tags.get("elbv2.k8s.aws/cluster") == cluster_name
    )


def load_balancers_v2(elbv2: Any, cluster_name: str) -> list[Leftover]:
    """ALBs/NLBs made for the cluster by the in-tree cloud provider or the LB controller."""
    arns = [
        lb["LoadBalancerArn"]
        for page in _pages(elbv2, "describe_load_balancers")
        for lb in page.get("LoadBalancers", [])
    ]
    found = []
    for batch in _batches(arns, ELB_TAG_BATCH):
        for description in elbv2.describe_tags(ResourceArns=list(batch))["TagDescriptions"]:
            tags = {t["Key"]: t["Value"] for t in description.get("Tags", [])}
            if _cluster_owned(tags, cluster_name):
                service = tags.get("kubernetes.io/service-name", "")
                found.append(Leftover("elbv2", description["ResourceArn"], service))
    return found


def classic_load_balancers(elb: Any, cluster_name: str) -> list[Leftover]:
    """Classic ELBs: what a LoadBalancer Service gets without annotations."""
    names = [
        lb["LoadBalancerName"]
        for page in _pages(elb, "describe_load_balancers")
        for lb in page.get("LoadBalancerDescriptions", [])
    ]
    found = []
    for batch in _batches(names, ELB_TAG_BATCH):
        for description in elb.describe_tags(LoadBalancerNames=list(batch))["TagDescriptions"]:
            tags = {t["Key"]: t["Value"] for t in description.get("Tags", [])}
            if _cluster_owned(tags, cluster_name):
                service = tags.get("kubernetes.io/service-name", "")
                found.append(Leftover("elb", description["LoadBalancerName"], service))
    return found


def cluster_security_groups(ec2: Any, cluster_name: str) -> list[Leftover]:
    """Security groups Kubernetes made for load balancers; they keep the VPC alive."""
    filters = [
        [{"Name": "tag-key", "Values": [f"kubernetes.io/cluster/{cluster_name}"]}],
        [{"Name": "tag:elbv2.k8s.aws/cluster", "Values": [cluster_name]}],
    ]
    found: dict[str, Leftover] = {}
    for query in filters:
        for page in _pages(ec2, "describe_security_groups", Filters=query):
            for group in page.get("SecurityGroups", []):
                found[group["GroupId"]] = Leftover(
                    "security-group", group["GroupId"], f"{group['GroupName']} in {group['VpcId']}"
                )
    return list(found.values())


def detached_network_interfaces(ec2: Any, vpc_ids: Iterable[str]) -> list[Leftover]:
    """Available ENIs the VPC CNI, ELB or EKS left in the VPC; they block subnet deletion."""
    found = []
    for vpc_id in vpc_ids:
        filters = [
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "status", "Values": ["available"]},
        ]
        for page in _pages(ec2, "describe_network_interfaces", Filters=filters):
            for eni in page.get("NetworkInterfaces", []):
                description = eni.get("Description", "")
                if description.startswith(ENI_DESCRIPTION_PREFIXES):
                    found.append(Leftover("eni", eni["NetworkInterfaceId"], description))
    return found


def control_plane_log_group(logs: Any, cluster_name: str) -> list[Leftover]:
    """EKS re-creates /aws/eks/<cluster>/cluster (untagged) if it logs after we delete it."""
    name = f"/aws/eks/{cluster_name}/cluster"
    return [
        Leftover("log-group", group["logGroupName"], f"{group.get('storedBytes', 0)} bytes")
        for page in _pages(logs, "describe_log_groups", logGroupNamePrefix=name)
        for group in page.get("logGroups", [])
        if group["logGroupName"] == name
    ]


def _vpc_ids(tagged: Iterable[Leftover]) -> list[str]:
    return [t.identifier.rsplit("/", 1)[-1] for t in tagged if ":vpc/vpc-" in t.identifier]


def _names(arn: str, identifier: str) -> bool:
    return arn == identifier or arn.endswith((f"/{identifier}", f":{identifier}"))


def _not_listed(found: Iterable[Leftover], listed: list[Leftover]) -> list[Leftover]:
    """Drops what the tagged list already names (a tagged log group, a tagged SG ...)."""
    return [f for f in found if not any(_names(t.identifier, f.identifier) for t in listed)]


def find_leftovers(clients: Clients, target: Target) -> list[Leftover]:
    """Everything left for `target`, tagged resources first."""
    tagged = [
        classified
        for resource in tagged_resources(clients.tagging, target.project, target.stack)
        if (classified := classify(clients, resource)) is not None
    ]
    vpc_ids = list(dict.fromkeys([*_vpc_ids(tagged), *target.vpc_ids]))
    untagged = [
        *load_balancers_v2(clients.elbv2, target.cluster_name),
        *classic_load_balancers(clients.elb, target.cluster_name),
        *cluster_security_groups(clients.ec2, target.cluster_name),
        *detached_network_interfaces(clients.ec2, vpc_ids),
        *control_plane_log_group(clients.logs, target.cluster_name),
    ]
    return tagged + _not_listed(untagged, tagged)


def format_table(leftovers: Sequence[Leftover]) -> str:
    rows = [("KIND", "RESOURCE", "DETAIL")] + [
        (f"{r.kind} (pending deletion)" if r.pending_deletion else r.kind, r.identifier, r.detail)
        for r in leftovers
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    return "\n".join(
        f"{kind:<{widths[0]}}  {resource:<{widths[1]}}  {detail}".rstrip()
        for kind, resource, detail in rows
    )


def report(leftovers: Sequence[Leftover], target: Target, region: str) -> tuple[int, str]:
    """The exit code and the text to print."""
    blocking = [r for r in leftovers if not r.pending_deletion]
    where = f"stack {target.stack!r} (cluster {target.cluster_name}) in {region}"
    if not leftovers:
        return EXIT_CLEAN, f"Nothing left for {where}."
    summary = (
        f"{len(blocking)} resource(s) left for {where}."
        if blocking
        else f"Nothing left for {where} except resources AWS deletes after a waiting period."
    )
    return (EXIT_LEFTOVERS if blocking else EXIT_CLEAN), f"{format_table(leftovers)}\n\n{summary}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="stack name, e.g. dev")
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        help="AWS region of the stack (default: $AWS_REGION)",
    )
    parser.add_argument("--project", default=PROJECT, help=f"project tag (default {PROJECT})")
    parser.add_argument(
        "--cluster-name", help="EKS cluster name (default eks-secrets-<stack>, as the program)"
    )
    parser.add_argument(
        "--vpc-id",
        action="append",
        default=[],
        help="also scan this VPC for ENIs (repeatable; for stacks using existingVpcId)",
    )
    args = parser.parse_args(argv)
    if not args.region:
        parser.error("--region is required when AWS_REGION is not set")
    return args


def main(
    argv: Sequence[str] | None = None,
    session_factory: Callable[[str], boto3.Session] = lambda region: boto3.Session(
        region_name=region
    ),
    clients_factory: Callable[[boto3.Session], Clients] = Clients.from_session,
) -> int:
    args = parse_args(argv)
    target = Target(
        stack=args.stack,
        cluster_name=args.cluster_name or f"eks-secrets-{args.stack}",
        project=args.project,
        vpc_ids=tuple(args.vpc_id),
    )
    session = session_factory(args.region)
    if session.get_credentials() is None:
        print(
            "error: no AWS credentials found (environment, profile, SSO or instance role); "
            "cannot check for leftovers.",
            file=sys.stderr,
        )
        return EXIT_CANNOT_CHECK
    try:
        leftovers = find_leftovers(clients_factory(session), target)
    except NoCredentialsError as error:
        print(f"error: {error}; cannot check for leftovers.", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    except ClientError as error:
        if _error_code(error) not in AUTH_ERRORS:
            raise
        print(
            f"error: AWS refused a read ({error}); the check is incomplete. "
            "The role needs the read-only statements of ci/iam/deploy-policy.json.",
            file=sys.stderr,
        )
        return EXIT_CANNOT_CHECK
    code, text = report(leftovers, target, args.region)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
