"""scripts/find_leftovers.py against stubbed AWS APIs (botocore Stubber: no network).

Each stubbed client answers exactly the calls queued on it, in order, and fails the test on
any other call, so these tests also pin which APIs the script reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from scripts.find_leftovers import (
    EXIT_CANNOT_CHECK,
    EXIT_CLEAN,
    EXIT_LEFTOVERS,
    Clients,
    Target,
    find_leftovers,
    main,
    tagged_resources,
)

REGION = "ap-southeast-1"
ACCOUNT = "123456789012"
CLUSTER = "eks-secrets-dev"
VPC_ID = "vpc-0a1b2c3d4e5f67890"
VPC_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{VPC_ID}"
SUBNET_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/subnet-0123456789abcdef0"
NLB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/a1b2c3/0123abcd"
OTHER_LB_ARN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/other/42"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:demo-app-credentials-AbCdEf"
INSTANCE_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
LOG_GROUP = f"/aws/eks/{CLUSTER}/cluster"
TAG_FILTERS = [
    {"Key": "project", "Values": ["eks-secrets-platform"]},
    {"Key": "stack", "Values": ["dev"]},
]


@dataclass
class Stubbed:
    clients: Clients
    stubs: dict[str, Stubber]

    def add(self, client: str, method: str, response: dict[str, Any], params: Any = None):
        self.stubs[client].add_response(method, response, params)

    def expect_clean_untagged(self, vpc_ids: tuple[str, ...] = ()) -> None:
        """The calls made after the tagged list when nothing untagged is left."""
        self.add("elbv2", "describe_load_balancers", {"LoadBalancers": []})
        self.add("elb", "describe_load_balancers", {"LoadBalancerDescriptions": []})
        self.add("ec2", "describe_security_groups", {"SecurityGroups": []})
        self.add("ec2", "describe_security_groups", {"SecurityGroups": []})
        for _ in vpc_ids:
            self.add("ec2", "describe_network_interfaces", {"NetworkInterfaces": []})
        self.add("logs", "describe_log_groups", {"logGroups": []})

    def assert_all_calls_made(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    """One session for the module: it caches the service models it loads, so each test's
    fresh clients take milliseconds instead of a second."""
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


@pytest.fixture
def aws(session) -> Any:
    clients = Clients.from_session(session)
    stubs = {name: Stubber(getattr(clients, name)) for name in Clients.__dataclass_fields__}
    for stub in stubs.values():
        stub.activate()
    yield Stubbed(clients, stubs)
    for stub in stubs.values():
        stub.deactivate()


def tag_page(*arns: str, token: str = "") -> dict[str, Any]:
    page: dict[str, Any] = {
        "ResourceTagMappingList": [
            {
                "ResourceARN": arn,
                "Tags": [
                    {"Key": "project", "Value": "eks-secrets-platform"},
                    {"Key": "stack", "Value": "dev"},
                ],
            }
            for arn in arns
        ]
    }
    if token:
        page["PaginationToken"] = token
    return page


def run_main(aws: Stubbed, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(
        ["--stack", "dev", "--region", REGION, *extra],
        session_factory=lambda region: boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        ),
        clients_factory=lambda _session: aws.clients,
    )
    out = capsys.readouterr()
    return code, out.out + out.err


def test_clean_account_exits_0_and_says_nothing_is_left(aws, capsys):
    aws.add(
        "tagging", "get_resources", tag_page(), {"TagFilters": TAG_FILTERS, "ResourcesPerPage": 100}
    )
    aws.expect_clean_untagged()

    code, output = run_main(aws, capsys)

    assert code == EXIT_CLEAN
    assert "Nothing left for stack 'dev' (cluster eks-secrets-dev)" in output
    aws.assert_all_calls_made()


def test_leftover_load_balancer_and_tagged_resources_exit_1_and_are_listed(aws, capsys):
    aws.add("tagging", "get_resources", tag_page(VPC_ARN, SUBNET_ARN))
    aws.add(
        "elbv2",
        "describe_load_balancers",
        {"LoadBalancers": [{"LoadBalancerArn": NLB_ARN}, {"LoadBalancerArn": OTHER_LB_ARN}]},
    )
    aws.add(
        "elbv2",
        "describe_tags",
        {
            "TagDescriptions": [
                {
                    "ResourceArn": NLB_ARN,
                    "Tags": [
                        {"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"},
                        {"Key": "kubernetes.io/service-name", "Value": "ambassador/proxy"},
                    ],
                },
                {"ResourceArn": OTHER_LB_ARN, "Tags": [{"Key": "team", "Value": "web"}]},
            ]
        },
        {"ResourceArns": [NLB_ARN, OTHER_LB_ARN]},
    )
    aws.add("elb", "describe_load_balancers", {"LoadBalancerDescriptions": []})
    aws.add("ec2", "describe_security_groups", {"SecurityGroups": []})
    aws.add("ec2", "describe_security_groups", {"SecurityGroups": []})
    aws.add(
        "ec2",
        "describe_network_interfaces",
        {
            "NetworkInterfaces": [
                {"NetworkInterfaceId": "eni-0aaa", "Description": "aws-K8S-i-0123456789abcdef0"},
                {"NetworkInterfaceId": "eni-0bbb", "Description": "somebody else's"},
            ]
        },
        {
            "Filters": [
                {"Name": "vpc-id", "Values": [VPC_ID]},
                {"Name": "status", "Values": ["available"]},
            ]
        },
    )
    aws.add(
        "logs",
        "describe_log_groups",
        {"logGroups": [{"logGroupName": LOG_GROUP, "storedBytes": 10}]},
        {"logGroupNamePrefix": LOG_GROUP},
    )

    code, output = run_main(aws, capsys)

    assert code == EXIT_LEFTOVERS
    for expected in (VPC_ARN, SUBNET_ARN, NLB_ARN, "ambassador/proxy", "eni-0aaa", LOG_GROUP):
        assert expected in output
    assert OTHER_LB_ARN not in output
    assert "eni-0bbb" not in output
    assert "5 resource(s) left" in output
    aws.assert_all_calls_made()


def test_tagged_resources_follow_the_pagination_token(aws):
    aws.add("tagging", "get_resources", tag_page(VPC_ARN, token="page-2"))
    aws.add(
        "tagging",
        "get_resources",
        tag_page(SUBNET_ARN),
        {"TagFilters": TAG_FILTERS, "ResourcesPerPage": 100, "PaginationToken": "page-2"},
    )

    found = tagged_resources(aws.clients.tagging, "eks-secrets-platform", "dev")

    assert [f.identifier for f in found] == [VPC_ARN, SUBNET_ARN]
    aws.assert_all_calls_made()


def test_load_balancers_are_paged_and_their_tags_read_20_at_a_time(aws):
    arns = [f"{NLB_ARN[:-4]}{index:04d}" for index in range(21)]
    aws.add("tagging", "get_resources", tag_page())
    aws.add(
        "elbv2",
        "describe_load_balancers",
        {"LoadBalancers": [{"LoadBalancerArn": a} for a in arns[:15]], "NextMarker": "m2"},
    )
    aws.add(
        "elbv2",
        "describe_load_balancers",
        {"LoadBalancers": [{"LoadBalancerArn": a} for a in arns[15:]]},
        {"Marker": "m2"},
    )
    owned = [{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER}]
    for batch in (arns[:20], arns[20:]):
        aws.add(
            "elbv2",
            "describe_tags",
            {"TagDescriptions": [{"ResourceArn": a, "Tags": owned} for a in batch]},
            {"ResourceArns": batch},
        )
    aws.add("elb", "describe_load_balancers", {"LoadBalancerDescriptions": []})
    aws.add("ec2", "describe_security_groups", {"SecurityGroups": []})
    aws.add("ec2", "describe_security_groups", {"SecurityGroups": []})
    aws.add("logs", "describe_log_groups", {"logGroups": []})

    found = find_leftovers(aws.clients, Target(stack="dev", cluster_name=CLUSTER))

    assert [f.identifier for f in found] == arns
    assert {f.kind for f in found} == {"elbv2"}
    aws.assert_all_calls_made()


def test_keys_secrets_and_nodes_awaiting_deletion_do_not_fail_the_check(aws, capsys):
    aws.add("tagging", "get_resources", tag_page(KEY_ARN, SECRET_ARN, INSTANCE_ARN))
    aws.add("kms", "describe_key", {"KeyMetadata": {"KeyId": "k", "KeyState": "PendingDeletion"}})
    aws.add(
        "secretsmanager",
        "describe_secret",
        {"ARN": SECRET_ARN, "DeletedDate": datetime(2026, 11, 22, tzinfo=UTC)},
        {"SecretId": SECRET_ARN},
    )
    aws.add(
        "ec2",
        "describe_instances",
        {"Reservations": [{"Instances": [{"State": {"Name": "terminated", "Code": 48}}]}]},
        {"InstanceIds": ["i-0123456789abcdef0"]},
    )
    aws.expect_clean_untagged()

    code, output = run_main(aws, capsys)

    assert code == EXIT_CLEAN
    assert output.count("(pending deletion)") == 3
    assert "except resources AWS deletes after a waiting period" in output
    aws.assert_all_calls_made()


def test_a_live_key_is_a_leftover(aws, capsys):
    aws.add("tagging", "get_resources", tag_page(KEY_ARN))
    aws.add("kms", "describe_key", {"KeyMetadata": {"KeyId": "k", "KeyState": "Enabled"}})
    aws.expect_clean_untagged()

    code, output = run_main(aws, capsys)

    assert code == EXIT_LEFTOVERS
    assert KEY_ARN in output
    assert "pending deletion" not in output


def test_a_tagged_log_group_and_security_group_are_listed_once(aws):
    log_group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}"
    sg_arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-0123"
    aws.add("tagging", "get_resources", tag_page(log_group_arn, sg_arn))
    aws.add("elbv2", "describe_load_balancers", {"LoadBalancers": []})
    aws.add("elb", "describe_load_balancers", {"LoadBalancerDescriptions": []})
    groups = [
        {"GroupId": "sg-0123", "GroupName": "nodes", "VpcId": VPC_ID},
        {"GroupId": "sg-01234", "GroupName": "k8s-elb-a1b2", "VpcId": VPC_ID},
    ]
    aws.add("ec2", "describe_security_groups", {"SecurityGroups": groups})
    aws.add("ec2", "describe_security_groups", {"SecurityGroups": []})
    aws.add("logs", "describe_log_groups", {"logGroups": [{"logGroupName": LOG_GROUP}]})

    found = find_leftovers(aws.clients, Target(stack="dev", cluster_name=CLUSTER))

    assert [f.identifier for f in found] == [log_group_arn, sg_arn, "sg-01234"]


def test_access_denied_exits_2_instead_of_reporting_clean(aws, capsys):
    aws.stubs["tagging"].add_client_error(
        "get_resources", service_error_code="AccessDeniedException", http_status_code=400
    )

    code, output = run_main(aws, capsys)

    assert code == EXIT_CANNOT_CHECK
    assert "check is incomplete" in output
    assert "Nothing left" not in output


def test_missing_credentials_exit_2_with_a_clear_message(monkeypatch, capsys, tmp_path):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def no_clients(_session: Any) -> Clients:
        raise AssertionError("must not call AWS without credentials")

    code = main(["--stack", "dev", "--region", REGION], clients_factory=no_clients)

    assert code == EXIT_CANNOT_CHECK
    assert "no AWS credentials found" in capsys.readouterr().err


def test_region_is_required(monkeypatch, capsys):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)

    with pytest.raises(SystemExit) as exit_info:
        main(["--stack", "dev"])

    assert exit_info.value.code == 2
    assert "--region is required" in capsys.readouterr().err
