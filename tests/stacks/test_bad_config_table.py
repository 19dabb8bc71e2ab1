"""A table of bad configurations, each with the message a user gets: which key, which value,
what is allowed. Every one fails in the config layer, before any resource exists."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.stacks.configs import LAMBDA, NS, key, problems, stack_apps, stack_secrets
from tools.pulumi_mocks import Recorder, run_program, stack_config

SECRETS = stack_secrets()
APPS = stack_apps()
N = len(SECRETS)
"""Index of a secret added after dev's own."""
A = len(APPS)
"""Index of an app added after dev's own."""
SM_ARN = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:x-AbCdEf"
OUTSIDE = json.loads(stack_config("dev")[key("secretNamesOutsidePrefix")])
"""dev's secrets kept outside its secretNamePrefix."""
SINGLE_KEY = "arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PUBLIC_39 = [f"198.51.{i}.0/24" for i in range(39)]
PUBLIC_41 = [f"198.51.{i}.0/24" for i in range(41)]
CI_TWO = {
    "ciRunnerCidrs": '["192.0.2.0/28", "192.0.2.16/28"]',
    "ciRunnerLabel": "eks-secrets-platform-dev",
    "ciDeployRoleArn": "arn:aws:iam::123456789012:role/eks-secrets-platform-dev-deploy",
}
OTHER_REGION_CLUSTER = "arn:aws:eks:eu-west-1:123456789012:cluster/shared-apps"
SSM_16_LEVELS = "/" + "/".join(f"l{i}" for i in range(16))
SA_64 = f"{'s' * 30}.{'s' * 33}"
"""A valid ServiceAccount name (DNS-1123 subdomain) one character too long for a label value."""
RULE_240 = ".".join(["r" * 63] * 3 + ["r" * 48])
"""A DNS-1123 subdomain of 240 characters: `allow-ingress-` makes it 254."""


def c(message: str, overrides: dict[str, Any] | None = None, **lists: Any):
    """One case: config overrides (short keys get the project namespace), optional `secret`
    or `app` appended to dev's lists, and the expected message."""
    given = {(k if ":" in k else key(k)): v for k, v in (overrides or {}).items()}
    if "secret" in lists:
        lists["secrets"] = [*SECRETS, lists.pop("secret")]
    if "app" in lists:
        lists["apps"] = [*APPS, lists.pop("app")]
    return pytest.param(given, lists, message, id=message[:60])


def k(name: str) -> str:
    return f"{NS}:{name}"


CASES = [
    # --- region -----------------------------------------------------------------------
    c(
        "aws:region = 'mars-north-1': must be an AWS region the AWS SDK knows",
        {"aws:region": "mars-north-1"},
    ),
    c(
        "aws:region = 'us-east-9': must be an AWS region the AWS SDK knows",
        {"aws:region": "us-east-9"},
    ),
    c("aws:region = '': must be an AWS region the AWS SDK knows", {"aws:region": ""}),
    c(f"{k('failoverRegion')} = 'moon-1': must be an AWS region", {"failoverRegion": "moon-1"}),
    c(
        f"{k('failoverRegion')} = 'ap-southeast-1': must differ from aws:region",
        {"failoverRegion": "ap-southeast-1"},
    ),
    c(
        f"{k('failoverRegion')} = 'ap-southeast-2': secret 'demo-app-credentials' (read by apps[0].secrets) is not replicated there",
        {"failoverRegion": "ap-southeast-2"},
    ),
    # --- network ----------------------------------------------------------------------
    c(f"{k('vpcCidr')} = '10.0.0.0/33': must be an IPv4 CIDR block", {"vpcCidr": "10.0.0.0/33"}),
    c(f"{k('apps')} = {{}}: must be a YAML list of mappings", {"apps": "{}"}),
    c(f"{k('apps')} = 0: must be a YAML list of mappings", {"apps": "0"}),
    # An empty value is checked like any other where Pulumi.yaml's default is not empty.
    c(f"{k('vpcCidr')} = '': must be an IPv4 CIDR block", {"vpcCidr": ""}),
    c(
        f"{k('rotationPollInterval')} = '': must be a positive duration",
        {"rotationPollInterval": ""},
    ),
    c(
        f"{k('sidecarTlsHostname')} = '': must be a DNS-1123 subdomain",
        {"sidecarTlsHostname": ""},
    ),
    c(f"{k('sidecarNamespace')} = '': must be a DNS-1123 label", {"sidecarNamespace": ""}),
    c(
        f"{k('vpcCidr')} = '10.0.0.0/24': prefix length must be between /16 and /20",
        {"vpcCidr": "10.0.0.0/24"},
    ),
    c(f"{k('vpcCidr')} = 'fd00::/16': must be an IPv4 CIDR block", {"vpcCidr": "fd00::/16"}),
    c(f"{k('vpcCidr')} = '10.0.0.1/16': must be an IPv4 CIDR block", {"vpcCidr": "10.0.0.1/16"}),
    c(f"{k('availabilityZoneCount')} = 4: must be between 2 and 3", {"availabilityZoneCount": "4"}),
    c(f"{k('availabilityZoneCount')} = 1: must be between 2 and 3", {"availabilityZoneCount": "1"}),
    c(
        f"{k('availabilityZoneCount')} = 'two': must be a whole number",
        {"availabilityZoneCount": "two"},
    ),
    c(f"{k('natGatewayMode')} = 'none': must be one of single, per-az", {"natGatewayMode": "none"}),
    c(
        f"{k('existingVpcId')} = 'vpc-xyz': must be a VPC id like vpc-0abc1234",
        {"existingVpcId": "vpc-xyz"},
    ),
    c(
        f"{k('existingVpcId')} = '': must be set when existingPublicSubnetIds or existingPrivateSubnetIds are given",
        {"existingPrivateSubnetIds": '["subnet-0abc12345", "subnet-0abc12346"]'},
    ),
    c(
        f"{k('existingPrivateSubnetIds')} = ['subnet-0abc12345']: needs at least two private subnets",
        {"existingVpcId": "vpc-0abc12345", "existingPrivateSubnetIds": '["subnet-0abc12345"]'},
    ),
    c(
        f"{k('existingPublicSubnetIds')}[0] = 'sub-1': must be a subnet id like subnet-0abc1234",
        {"existingPublicSubnetIds": '["sub-1"]'},
    ),
    # --- cluster ----------------------------------------------------------------------
    # An existing cluster (existingClusterName): dev's own network, endpoint and node keys
    # configure a cluster the stack would create, so each is refused there.
    c(
        f"{k('existingClusterName')} = '{OTHER_REGION_CLUSTER}': is a cluster in eu-west-1, "
        "but this stack deploys to aws:region ap-southeast-1",
        {"existingClusterName": OTHER_REGION_CLUSTER},
    ),
    c(
        f"{k('existingClusterName')} = 'team cluster': must be an EKS cluster name",
        {"existingClusterName": "team cluster"},
    ),
    c(
        f"{k('existingClusterName')} = 'arn:aws:eks:ap-southeast-1:123456789012:nodegroup/x': "
        "must be an EKS cluster name",
        {"existingClusterName": "arn:aws:eks:ap-southeast-1:123456789012:nodegroup/x"},
    ),
    c(
        f"{k('vpcCidr')} = '10.40.0.0/16': configures a cluster this stack creates; with "
        "existingClusterName the cluster is not this stack's: leave it unset",
        {"existingClusterName": "shared-apps"},
    ),
    c(
        f'{k("nodeInstanceTypes")} = \'["t3.large", "t3a.large"]\': configures a cluster',
        {"existingClusterName": "shared-apps", "vpcCidr": "10.0.0.0/16"},
    ),
    c(
        f"{k('ciDeployRoleArn')} = 'arn:aws:iam::123456789012:role/eks-secrets-platform-dev-"
        "deploy': configures a cluster this stack creates",
        {"existingClusterName": "arn:aws:eks:ap-southeast-1:123456789012:cluster/shared-apps"},
    ),
    c(
        f"{k('clusterName')} = 'mine': configures a cluster this stack creates",
        {"existingClusterName": "shared-apps", "clusterName": "mine"},
    ),
    c(
        f"{k('existingClusterOidcProvider')} = 'create': applies only with existingClusterName",
        {"existingClusterOidcProvider": "create"},
    ),
    c(
        f"{k('existingClusterRunsPodIdentityAgent')} = 'true': applies only with "
        "existingClusterName",
        {"existingClusterRunsPodIdentityAgent": "true"},
    ),
    c(
        f"{k('existingClusterOidcProvider')} = 'guess': must be one of find, create",
        {"existingClusterName": "shared-apps", "existingClusterOidcProvider": "guess"},
    ),
    c(
        f"{k('secretsStoreInstallMethod')} = 'none': none is for an existing cluster that "
        "already runs the driver and ASCP",
        {"secretsStoreInstallMethod": "none"},
    ),
    c(f"{k('clusterName')} = '1cluster': must start with a letter", {"clusterName": "1cluster"}),
    c(
        f"{k('clusterName')} = 'my_cluster': must start with a letter",
        {"clusterName": "my_cluster"},
    ),
    c(
        f"{k('kubernetesVersion')} = '1.29': must be an EKS version in standard support: 1.34, 1.35, 1.36",
        {"kubernetesVersion": "1.29"},
    ),
    c(
        f"{k('kubernetesVersion')} = 'latest': must be an EKS version",
        {"kubernetesVersion": "latest"},
    ),
    c(
        f"{k('adminPrincipalArns')}[0] = 'admin': must be an IAM role or user ARN",
        {"adminPrincipalArns": '["admin"]'},
    ),
    c(
        f"{k('adminPrincipalArns')} = 'arn:aws:iam::123456789012:role/Admin': is listed twice",
        {
            "adminPrincipalArns": '["arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/Admin"]'
        },
    ),
    c(
        f"{k('adminPrincipalArns')}[0] = 'arn:aws:sts::123456789012:assumed-role/Admin/alice': is an STS "
        "session, which ends within hours; give the role itself, arn:aws:iam::123456789012:role/Admin",
        {"adminPrincipalArns": '["arn:aws:sts::123456789012:assumed-role/Admin/alice"]'},
    ),
    c(
        f"{k('adminPrincipalArns')}[0] = 'arn:aws:iam::123456789012:group/Admins': must be an IAM role or user ARN",
        {"adminPrincipalArns": '["arn:aws:iam::123456789012:group/Admins"]'},
    ),
    c(
        f"{k('publicAccessCidrs')}[0] = '0.0.0.0/0': would open the API endpoint to the whole internet",
        {"publicAccessCidrs": '["0.0.0.0/0"]'},
    ),
    c(
        f"{k('publicAccessCidrs')}[0] = '::/0': would open the API endpoint to the whole internet",
        {"publicAccessCidrs": '["::/0"]'},
    ),
    c(
        f"{k('publicAccessCidrs')}[0] = '10.0.0.1/8': must be an IPv4 or IPv6 CIDR block",
        {"publicAccessCidrs": '["10.0.0.1/8"]'},
    ),
    c(
        f"{k('publicAccessCidrs')} = '203.0.113.0/24': must be a list of strings",
        {"publicAccessCidrs": "203.0.113.0/24"},
    ),
    c(
        f"{k('enableNetworkPolicy')} = 'maybe': must be true or false",
        {"enableNetworkPolicy": "maybe"},
    ),
    c(
        f"{k('enableClusterDeletionProtection')} = '1': must be true or false",
        {"enableClusterDeletionProtection": "1"},
    ),
    # --- nodes ------------------------------------------------------------------------
    c(
        f"{k('nodeInstanceTypes')}[0] = 't3medium': must be an EC2 instance type like t3.medium",
        {"nodeInstanceTypes": '["t3medium"]'},
    ),
    c(
        f"{k('nodeInstanceTypes')}[0] = 'zz9.large': has no EC2 instance family 'zz9'",
        {"nodeInstanceTypes": '["zz9.large"]'},
    ),
    c(
        f"{k('nodeInstanceTypes')}[1] = 'm99.large': has no EC2 instance family 'm99'",
        {"nodeInstanceTypes": '["t3.large", "m99.large"]'},
    ),
    c(
        f"{k('nodeInstanceTypes')} = []: must list at least one instance type",
        {"nodeInstanceTypes": "[]"},
    ),
    c(
        f"{k('nodeInstanceTypes')} = ['t3.large', 'm7g.large']: mixes CPU architectures (arm64: m7g.large; x86_64: t3.large)",
        {"nodeInstanceTypes": '["t3.large", "m7g.large"]'},
    ),
    c(
        f"{k('nodeInstanceTypes')} = ['c6gn.xlarge', 'c6i.xlarge']: mixes CPU architectures",
        {"nodeInstanceTypes": '["c6gn.xlarge", "c6i.xlarge"]'},
    ),
    c(f"{k('nodeMinSize')} = -1: must be between 0 and 450", {"nodeMinSize": "-1"}),
    c(f"{k('nodeMaxSize')} = 0: must be between 1 and 450", {"nodeMaxSize": "0"}),
    c(
        f"{k('nodeDesiredSize')} = 2: must satisfy nodeMinSize (3) <= nodeDesiredSize <= nodeMaxSize (4)",
        {"nodeMinSize": "3", "nodeDesiredSize": "2", "nodeMaxSize": "4"},
    ),
    c(f"{k('nodeDiskSizeGib')} = 8: must be between 20 and 16384", {"nodeDiskSizeGib": "8"}),
    c(
        f"{k('nodeCapacityType')} = 'RESERVED': must be one of ON_DEMAND, SPOT",
        {"nodeCapacityType": "RESERVED"},
    ),
    c(
        f"{k('nodeLabels')}[0] = 'no-equals-sign': must look like key=value",
        {"nodeLabels": '["no-equals-sign"]'},
    ),
    c(
        f"{k('nodeLabels')}[0] = 'bad key=x': must look like key=value",
        {"nodeLabels": '["bad key=x"]'},
    ),
    c(
        f"{k('nodeTaints')}[0] = 'dedicated=apps:Sometimes': effect must be one of NoSchedule",
        {"nodeTaints": '["dedicated=apps:Sometimes"]'},
    ),
    c(
        f"{k('nodeTaints')}[0] = 'dedicated': must look like key=value:Effect",
        {"nodeTaints": '["dedicated"]'},
    ),
    c(
        f"{k('nodeSshKeyName')} = 'key|pair': must be an EC2 key pair name",
        {"nodeSshKeyName": "key|pair"},
    ),
    # --- protection and tags ----------------------------------------------------------
    c(
        f"{k('secretRecoveryWindowDays')} = 3: must be 0 (delete at once) or 7-30",
        {"secretRecoveryWindowDays": "3"},
    ),
    c(
        f"{k('secretRecoveryWindowDays')} = 31: must be between 0 and 30",
        {"secretRecoveryWindowDays": "31"},
    ),
    c(
        f"{k('enableResourceProtection')} = 'yes': must be true or false",
        {"enableResourceProtection": "yes"},
    ),
    c(f"{k('owner')} = 'team|a': must be a valid AWS tag value", {"owner": "team|a"}),
    # --- the secrets list -------------------------------------------------------------
    # The blocks are YAML 1.2 as the Pulumi CLI reads stack files (yes is a string); an error
    # names its line and column in the block; a key given twice is refused, not "last wins".
    c(
        f"{k('secrets')} = '<yaml>': must be a YAML list of mappings: line 1, column 12 of the "
        "block: expected ',' or ']', but got '<stream end>'",
        {"secrets": "- [unclosed"},
    ),
    c(
        f"{k('secrets')} = '<yaml>': must be a YAML list of mappings: line 3, column 3 of the "
        'block: mapping key "type" already defined at line 2',
        {"secrets": "- name: x\n  type: secretsmanager\n  type: ssmparameter\n"},
    ),
    c(
        f"{k('apps')} = '<yaml>': must be a YAML list of mappings: line 4, column 3 of the "
        'block: mapping key "name" already defined at line 1',
        {
            # the `-` of the second app forgotten: it is not dropped, its keys repeat the first's
            "apps": "- name: a\n  serviceAccount: a-reader\n  secrets: [redis-password]\n"
            "  name: b\n  serviceAccount: b-reader\n  secrets: [redis-password]\n"
        },
    ),
    c(
        f"{k('apps')} = '<yaml>': must be a YAML list of mappings: line 2, column 19 of the "
        "block: mapping values are not allowed here; check this line's indentation",
        {"apps": "- name: a\n    serviceAccount: a-reader\n"},
    ),
    c(
        f"{k('apps')}[0].syncSecret = 'yes': must be true or false",
        {"apps": "- name: a\n  secrets: [redis-password]\n  syncSecret: yes\n"},
    ),
    c(
        f"{k('secrets')}[0].import = 'on': must be true or false",
        {"secrets": f"- name: x\n  existingArn: {SM_ARN}\n  import: on\n"},
    ),
    c(f"{k('secrets')} = ['a']: must be a YAML list of mappings", {"secrets": "- a"}),
    c(
        f"{k('secrets')}[{N}] = ['ttl']: unknown field(s); allowed: name, type",
        secret={"name": "x", "ttl": 3},
    ),
    c(
        f"{k('secrets')}[{N}].type = 'vault': must be one of secretsmanager, ssmparameter",
        secret={"name": "x", "type": "vault"},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'a b': must be 1-512 ASCII letters, digits or /_+=.@-",
        secret={"name": "a b"},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'redis-password': is listed twice",
        secret={"name": "redis-password"},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'team a': must be an SSM parameter name",
        secret={"name": "team a", "type": "ssmparameter"},
    ),
    c(
        f"{k('secrets')}[{N}].existingArn = 'not-an-arn': must be a Secrets Manager secret ARN",
        secret={"name": "x", "existingArn": "not-an-arn"},
    ),
    c(
        f"{k('secrets')}[{N}].existingArn = 'arn:aws:secretsmanager:x': must be an SSM parameter ARN",
        secret={"name": "/p", "type": "ssmparameter", "existingArn": "arn:aws:secretsmanager:x"},
    ),
    c(
        "is in eu-west-1, not the stack's region ap-southeast-1; ASCP reads in the cluster's region: "
        "replicate it to ap-southeast-1 and reference the replica's ARN",
        secret={
            "name": "x",
            "existingArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf",
        },
    ),
    c(
        f"{k('secrets')}[{N}].existingArn = 'arn:aws:ssm:us-east-1:123456789012:parameter/p': is in us-east-1",
        secret={
            "name": "/p",
            "type": "ssmparameter",
            "existingArn": "arn:aws:ssm:us-east-1:123456789012:parameter/p",
        },
    ),
    c(
        f"{k('secrets')}[{N}].import = True: needs existingArn of a Secrets Manager secret",
        secret={"name": "x", "import": True},
    ),
    c(
        f"{k('secrets')}[{N}].import = True: the secret in existingArn is not named 'y'",
        secret={"name": "y", "import": True, "existingArn": SM_ARN},
    ),
    c(
        f"{k('secrets')}[{N}].import = 'yes': must be true or false",
        secret={"name": "x", "import": "yes"},
    ),
    c(
        f"{k('secrets')}[{N}].objectAlias = '.': must be a file name",
        secret={"name": "x", "objectAlias": "."},
    ),
    c(
        f"{k('secrets')}[{N}].objectAlias = '..': must be a file name",
        secret={"name": "x", "objectAlias": ".."},
    ),
    c(
        f"{k('secrets')}[{N}].objectAlias = 'a/b': must be a file name",
        secret={"name": "x", "objectAlias": "a/b"},
    ),
    c(
        f"{k('secrets')}[{N}].jmesPath[0].objectAlias = '..': must be a file name",
        secret={"name": "x", "jmesPath": [{"path": "a", "objectAlias": ".."}]},
    ),
    c(
        f"{k('secrets')}[{N}].jmesPath[0] = {{'path': 'a'}}: needs both path and objectAlias",
        secret={"name": "x", "jmesPath": [{"path": "a"}]},
    ),
    c(
        f"{k('secrets')}[{N}].jmesPath[1].objectAlias = 'f': collides with another file name",
        secret={
            "name": "x",
            "jmesPath": [{"path": "a", "objectAlias": "f"}, {"path": "b", "objectAlias": "f"}],
        },
    ),
    c(
        f"{k('secrets')}[{N}].namespace = 'Team_A': must be a DNS-1123 label",
        secret={"name": "x", "namespace": "Team_A"},
    ),
    c(
        f"{k('secrets')}[{N}].namespace = 'kube-system': belongs to the system",
        secret={"name": "x", "namespace": "kube-system"},
    ),
    c(
        f"{k('secrets')}[{N}].namespace = 'team-a': cannot tag a referenced secret",
        secret={"name": "x", "namespace": "team-a", "existingArn": SM_ARN},
    ),
    c(
        f"{k('secrets')}[{N}].replicaRegions = ['ap-southeast-2']: only Secrets Manager secrets replicate",
        secret={"name": "/p", "type": "ssmparameter", "replicaRegions": ["ap-southeast-2"]},
    ),
    c(
        f"{k('secrets')}[{N}].replicaRegions = ['eu-west-1']: a referenced secret is never changed",
        secret={"name": "x", "existingArn": SM_ARN, "replicaRegions": ["eu-west-1"]},
    ),
    c(
        f"{k('secrets')}[{N}].replicaRegions[0] = 'ap-southeast-1': is the stack's own region",
        secret={"name": "x", "replicaRegions": ["ap-southeast-1"]},
    ),
    c(
        f"{k('secrets')}[{N}].replicaRegions[0] = 'mars-1': must be an AWS region",
        secret={"name": "x", "replicaRegions": ["mars-1"]},
    ),
    c(
        f"{k('secrets')}[{N}].replicaRegions[1] = 'eu-west-1': is listed twice",
        secret={"name": "x", "replicaRegions": ["eu-west-1", "eu-west-1"]},
    ),
    c(
        f"{k('secrets')}[{N}].rotationLambdaArn = '': rotation needs the ARN of your rotation Lambda",
        secret={"name": "x", "rotationDays": 30},
    ),
    c(
        f"{k('secrets')}[{N}].rotationDays = 0: give exactly one of rotationDays (1-1000) or rotationSchedule",
        secret={"name": "x", "rotationLambdaArn": LAMBDA},
    ),
    c(
        f"{k('secrets')}[{N}].rotationDays = 2000: must be a whole number of days between 1 and 1000",
        secret={"name": "x", "rotationLambdaArn": LAMBDA, "rotationDays": 2000},
    ),
    c(
        f"{k('secrets')}[{N}].rotationSchedule = 'every day': must be rate(N hours|days) or cron(...)",
        secret={"name": "x", "rotationLambdaArn": LAMBDA, "rotationSchedule": "every day"},
    ),
    c(
        f"{k('secrets')}[{N}].rotationLambdaArn = '{LAMBDA}': only Secrets Manager secrets rotate",
        secret={
            "name": "/p",
            "type": "ssmparameter",
            "rotationLambdaArn": LAMBDA,
            "rotationDays": 1,
        },
    ),
    c(
        f"{k('secrets')}[{N}].rotationLambdaArn = '{LAMBDA}': a referenced secret is never changed",
        secret={"name": "x", "existingArn": SM_ARN, "rotationLambdaArn": LAMBDA, "rotationDays": 1},
    ),
    # --- secret values (never echoed) -------------------------------------------------
    c(f"{k('secretValues')} (value hidden) is not a JSON object", {"secretValues": "not json"}),
    c(f"{k('secretValues')} (value hidden) is not a JSON object", {"secretValues": '["a"]'}),
    c(
        f"{k('secretValues')} has no value for secret 'redis-password'",
        {"secretValues": '{"demo-app-credentials": "a", "demo-podid-credentials": "b"}'},
    ),
    c(
        f"{k('secretValues')} value for 'redis-password' (hidden) must be a string or a JSON object",
        {
            "secretValues": '{"demo-app-credentials": "a", "demo-podid-credentials": "b", "redis-password": 7}'
        },
    ),
    c(
        f"{k('secretValues')} has a value for 'stale', which is not in the secrets list",
        {
            "secretValues": '{"demo-app-credentials": "a", "demo-podid-credentials": "b", "redis-password": "c", "stale": "d"}'
        },
    ),
    # --- the secret fence (CI's IAM policies: secretNamePrefix + names kept outside) -----
    c(
        f"{k('secrets')}[{N}].name = 'payroll-db': must start with secretNamePrefix "
        "'eks-secrets-dev/': CI's IAM policies fence this stack's secrets and parameters by "
        "that prefix (ci/iam/README.md). To keep an existing secret under its name, list it "
        "in secretNamesOutsidePrefix: a Secrets Manager name cannot change in place, and a "
        "renamed secret is a new one whose readers and rotation start over",
        secret={"name": "payroll-db"},
    ),
    c(
        f"{k('secrets')}[{N}].name = '/payroll/db-url': must start with secretNamePrefix",
        secret={"name": "/payroll/db-url", "type": "ssmparameter"},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'x': must start with secretNamePrefix 'eks-secrets-dev/'",
        secret={"name": "x", "existingArn": SM_ARN, "import": True},
    ),
    c(
        f"{k('sidecarTlsSecretName')} = 'web-tls': must start with secretNamePrefix "
        "'eks-secrets-dev/'",
        {"sidecarTlsSecretName": "web-tls"},
    ),
    c(
        f"{k('sidecarTlsSecretName')} = 'web tls': must be 1-512 letters, digits or /_+=.@- "
        "(a Secrets Manager secret name)",
        {"sidecarTlsSecretName": "web tls"},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'eks-secrets-dev/db': must start with secretNamePrefix "
        "'eks-secrets-x/'",
        {"clusterName": "eks-secrets-x", "secretNamePrefix": ""},
        secret={"name": "eks-secrets-dev/db"},
    ),
    c(
        f"{k('secretNamePrefix')} = 'eks-secrets-dev': must be at most 256 letters, digits, "
        "_ . - or / (valid in both Secrets Manager and SSM parameter names), in non-empty "
        "levels ending with /, e.g. eks-secrets-dev/, so two stacks' prefixes never overlap",
        {"secretNamePrefix": "eks-secrets-dev"},
    ),
    c(
        f"{k('secretNamePrefix')} = 'team+a/': must be at most 256 letters, digits",
        {"secretNamePrefix": "team+a/"},
    ),
    c(
        f"{k('secretNamePrefix')} = '/eks-secrets-dev/': must be at most 256 letters",
        {"secretNamePrefix": "/eks-secrets-dev/"},
    ),
    c(
        f"{k('secretNamePrefix')} = 'a//': must be at most 256 letters",
        {"secretNamePrefix": "a//"},
    ),
    c(
        f"{k('secretNamePrefix')} = '{'a' * 257}/': must be at most 256 letters",
        {"secretNamePrefix": f"{'a' * 257}/"},
    ),
    c(
        f"{k('secretNamesOutsidePrefix')} lists 21 names: at most 20, so CI's IAM policies "
        "stay within IAM's managed-policy size limit; name new secrets under secretNamePrefix "
        "'eks-secrets-dev/'",
        {"secretNamesOutsidePrefix": json.dumps([f"old-{i}" for i in range(21)])},
    ),
    c(
        f"{k('secretNamesOutsidePrefix')}[4] = 'retired-db': is not a secret or parameter "
        "this stack creates or imports (a stale entry would keep CI's access to it); remove it",
        {"secretNamesOutsidePrefix": json.dumps([*OUTSIDE, "retired-db"])},
    ),
    c(
        f"{k('secretNamesOutsidePrefix')}[4] = 'x': is referenced by existingArn, never "
        "written by this stack, so CI needs no access to it; remove it",
        {"secretNamesOutsidePrefix": json.dumps([*OUTSIDE, "x"])},
        secret={"name": "x", "existingArn": SM_ARN},
    ),
    c(
        f"{k('secretNamesOutsidePrefix')}[4] = 'eks-secrets-dev/db': is already under "
        "secretNamePrefix 'eks-secrets-dev/'; remove it",
        {"secretNamesOutsidePrefix": json.dumps([*OUTSIDE, "eks-secrets-dev/db"])},
    ),
    c(
        f"{k('secretNamesOutsidePrefix')}[4] = 'redis-password': is listed twice",
        {"secretNamesOutsidePrefix": json.dumps([*OUTSIDE, "redis-password"])},
    ),
    c(
        f"{k('secretNamesOutsidePrefix')}[4] = 'a b': must be a Secrets Manager secret or SSM "
        "parameter name",
        {"secretNamesOutsidePrefix": json.dumps([*OUTSIDE, "a b"])},
    ),
    c(
        f"{k('secretNamesOutsidePrefix')} = '\"redis-password\"': must be a list of strings",
        {"secretNamesOutsidePrefix": '"redis-password"'},
    ),
    # --- keys and the driver ------------------------------------------------------------
    c(
        f"{k('secretsKmsKey')} = 'aws/secretsmanager': must be none, create, or a KMS key ARN",
        {"secretsKmsKey": "aws/secretsmanager"},
    ),
    c(
        "must be a key in the stack's region ap-southeast-1",
        {
            "secretsKmsKey": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        },
    ),
    c(
        f"{k('secretsKmsKey')} = '{SINGLE_KEY}': secrets with replicaRegions need a multi-Region key",
        {"secretsKmsKey": SINGLE_KEY},
        secret={"name": "x", "replicaRegions": ["ap-southeast-2"]},
    ),
    c(
        f"{k('rotationPollInterval')} = 'soon': must be a positive duration like 30s, 2m or 1h",
        {"rotationPollInterval": "soon"},
    ),
    c(
        f"{k('rotationPollInterval')} = '0s': must be a positive duration",
        {"rotationPollInterval": "0s"},
    ),
    c(
        f"{k('rotationPollInterval')} = '0m': must be a positive duration",
        {"rotationPollInterval": "0m"},
    ),
    c(
        f"{k('rotationPollInterval')} = '2h': must be shorter than the rotation period of secret 'x'",
        {"rotationPollInterval": "2h"},
        secret={"name": "x", "rotationLambdaArn": LAMBDA, "rotationSchedule": "rate(1 hour)"},
    ),
    c(
        f"{k('enableSecretRotation')} = False: secret(s) ['x'] rotate; set enableSecretRotation: true",
        {"enableSecretRotation": "false"},
        secret={"name": "x", "rotationLambdaArn": LAMBDA, "rotationDays": 30},
    ),
    c(
        f"{k('secretsStoreInstallMethod')} = 'kustomize': must be one of helm, eks-addon, none",
        {"secretsStoreInstallMethod": "kustomize"},
    ),
    c(
        f"{k('driverTolerations')} is not a key of this project",
        {"driverTolerations": '["gpu:NoSchedule"]'},
    ),
    c(f"{k('enableSyncSecret')} = 'on': must be true or false", {"enableSyncSecret": "on"}),
    # --- apps --------------------------------------------------------------------------
    c(f"{k('apps')} = {{'name': 'x'}}: must be a YAML list of mappings", {"apps": "name: x"}),
    c(f"{k('apps')}[{A}].name = '': must be a DNS-1123 label", app={"secrets": ["redis-password"]}),
    c(
        f"{k('apps')}[{A}].name = 'Team_A': must be a DNS-1123 label",
        app={"name": "Team_A", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].name = 'secrets-demo': is already used by apps[0]",
        app={"name": "secrets-demo", "namespace": "other", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}] = ['image']: unknown field(s); allowed: name, namespace",
        app={"name": "t", "image": "x", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].namespace = 'kube-system': belongs to the system",
        app={"name": "t", "namespace": "kube-system", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].namespace = 'kube-public': belongs to the system",
        app={"name": "t", "namespace": "kube-public", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].namespace = 'kube-node-lease': belongs to the system",
        app={"name": "t", "namespace": "kube-node-lease", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].namespace = 'default': belongs to the system",
        app={"name": "default", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].namespace = 'monitoring': is already used by monitoringNamespace",
        app={"name": "t", "namespace": "monitoring", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].namespace = 'secrets-demo': is already used by apps[0].namespace",
        app={"name": "t", "namespace": "secrets-demo", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[0].namespace = 'secrets-demo': is already used by sidecarNamespace",
        {"sidecarNamespace": "secrets-demo"},
    ),
    c(
        f"{k('apps')}[{A}].serviceAccount = 'Reader!': must be a DNS-1123 subdomain",
        app={"name": "t", "serviceAccount": "Reader!", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].identity = 'kiam': must be one of irsa, pod-identity, pod-identity-abac",
        app={"name": "t", "identity": "kiam", "secrets": ["redis-password"]},
    ),
    c(f"{k('apps')}[{A}].secrets = []: must name at least one secret", app={"name": "t"}),
    c(
        f"{k('apps')}[{A}].secrets[0] = 'nope': is not in the secrets list",
        app={"name": "t", "secrets": ["nope"]},
    ),
    c(
        f"{k('apps')}[{A}].syncSecret = True: needs enableSyncSecret: true",
        app={"name": "t", "secrets": ["redis-password"], "syncSecret": True},
    ),
    c(
        f"{k('apps')}[{A}].workload = 'wordpress': must be one of none, nginx-demo",
        app={"name": "t", "secrets": ["redis-password"], "workload": "wordpress"},
    ),
    c(
        f"{k('apps')}[{A}].ingress[0].podLabels = None: must be a non-empty mapping",
        app={
            "name": "t",
            "secrets": ["redis-password"],
            "ingress": [{"name": "web", "ports": [80], "fromPodLabels": {"a": "b"}}],
        },
    ),
    c(
        f"{k('apps')}[{A}].ingress[0].ports = [0]: must be a non-empty list of TCP ports",
        app={
            "name": "t",
            "secrets": ["redis-password"],
            "ingress": [
                {"name": "web", "podLabels": {"a": "b"}, "ports": [0], "fromPodLabels": {"a": "b"}}
            ],
        },
    ),
    c(
        f"{k('apps')}[{A}].egress[0].cidr = '10.0.0.0/8': give exactly one of cidr or toPodLabels",
        app={
            "name": "t",
            "secrets": ["redis-password"],
            "egress": [
                {
                    "name": "db",
                    "podLabels": {"a": "b"},
                    "ports": [5432],
                    "cidr": "10.0.0.0/8",
                    "toPodLabels": {"c": "d"},
                }
            ],
        },
    ),
    c(
        f"{k('apps')}[{A}].quota.pods = 0: must be a whole number of pods between 1 and 1000",
        app={"name": "t", "secrets": ["redis-password"], "quota": {"pods": 0}},
    ),
    c(
        f"{k('apps')}[{A}].quota.limitsCpu = 'lots': must be a Kubernetes quantity",
        app={"name": "t", "secrets": ["redis-password"], "quota": {"limitsCpu": "lots"}},
    ),
    c(
        f"{k('apps')}[{A}].formerly = 'web': must be one of demo, podid-demo or empty",
        app={"name": "t", "secrets": ["redis-password"], "formerly": "web"},
    ),
    c(
        f"{k('apps')}[{A}].formerly = 'demo': is already used by apps[0]",
        app={"name": "t", "secrets": ["redis-password"], "formerly": "demo"},
    ),
    c(
        f"{k('apps')}[{A}].secrets = ['demo-app-credentials', 'demo-podid-credentials']: mounted file names collide: ['password', 'username']",
        app={"name": "t", "secrets": ["demo-app-credentials", "demo-podid-credentials"]},
    ),
    c(
        f"{k('apps')}[{A}].secrets = 'redis-password': pod-identity-abac reads only Secrets Manager secrets this stack creates or imports, tagged with the workload's namespace: set namespace: t on secret 'redis-password'",
        app={"name": "t", "identity": "pod-identity-abac", "secrets": ["redis-password"]},
    ),
    c(
        "aws:region = 'cn-north-1': EKS Pod Identity is not available in the China regions",
        {"aws:region": "cn-north-1"},
    ),
    c(
        f"{k('apps')}[{A}].name = 'sidecar': is the name of the sidecar example's unit",
        app={"name": "sidecar", "namespace": "web", "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].name = 'init-container': is the name of the init_container example's unit",
        app={"name": "init-container", "namespace": "web", "secrets": ["redis-password"]},
    ),
    # --- examples ----------------------------------------------------------------------
    c(
        f"{k('sidecarNamespace')} = 'kube-system': belongs to the system",
        {"sidecarNamespace": "kube-system"},
    ),
    c(
        f"{k('sidecarTlsHostname')} = 'a..example.com': must be a DNS-1123 subdomain",
        {"sidecarTlsHostname": "a..example.com"},
    ),
    c(
        f"{k('sidecarTlsHostname')} = '{'a' * 64}.io': must be a DNS name of at most 64 characters",
        {"sidecarTlsHostname": f"{'a' * 64}.io"},
    ),
    c(
        f"{k('sidecarTlsHostname')} = '{'a' * 64}': must be a DNS-1123 subdomain",
        {"sidecarTlsHostname": "a" * 64},
    ),
    c(
        f"{k('sidecarTlsHostname')} = 'Web.Example.com': must be a DNS-1123 subdomain",
        {"sidecarTlsHostname": "Web.Example.com"},
    ),
    c(
        f"{k('sidecarServiceType')} = 'NodePort': must be one of ClusterIP, LoadBalancer",
        {"sidecarServiceType": "NodePort"},
    ),
    c(
        f"{k('sidecarLoadBalancerScheme')} = 'public': must be one of internal, internet-facing",
        {"sidecarLoadBalancerScheme": "public"},
    ),
    c(
        f"{k('ambassadorServer1Weight')} = 0: must be between 1 and 100",
        {"ambassadorServer1Weight": "0"},
    ),
    c(
        f"{k('ambassadorServer2Weight')} = 101: must be between 1 and 100",
        {"ambassadorServer2Weight": "101"},
    ),
    c(
        f"{k('ambassadorNamespace')} = 'default': belongs to the system",
        {"ambassadorNamespace": "default"},
    ),
    c(
        f"{k('sidecarNamespace')} = 'sidecar-example': is already used by adapterNamespace",
        {"adapterNamespace": "sidecar-example"},
    ),
    c(
        f"{k('monitoringNamespace')} = 'kube-system': belongs to the system",
        {"monitoringNamespace": "kube-system"},
    ),
    c(
        f"{k('adapterNamespace')} = 'adapter-example': is already used by monitoringNamespace",
        {"monitoringNamespace": "adapter-example"},
    ),
    c(
        f"{k('initContainerSource')} = 'svn': must be one of configmap, git",
        {"initContainerSource": "svn"},
    ),
    c(
        f"{k('initContainerGitRepo')} = '': must be set when initContainerSource is git",
        {"initContainerSource": "git"},
    ),
    c(
        f"{k('initContainerGitRepo')} = 'http://example.com/r.git'",
        {"initContainerSource": "git", "initContainerGitRepo": "http://example.com/r.git"},
    ),
    c(
        f"{k('initContainerGitRef')} = 'main;rm': must be a branch or tag name",
        {"initContainerGitRef": "main;rm"},
    ),
    c(
        f"{k('redisSecretName')} = 'nope': must name a secret in the secrets list",
        {"redisSecretName": "nope"},
    ),
    c(
        f"{k('redisSecretName')} = 'demo-app-credentials': must name a plain-string secret",
        {"redisSecretName": "demo-app-credentials"},
    ),
    c(
        f"{k('redisSecretNamespace')} = 'kube-public': belongs to the system",
        {"redisSecretNamespace": "kube-public"},
    ),
    c(
        f"{k('enableAdapterExample')} = 'sure': must be true or false",
        {"enableAdapterExample": "sure"},
    ),
    # --- keys Pulumi.yaml does not declare ---------------------------------------------
    c(
        f"{k('clusterVersion')} is not a key of this project (Pulumi.yaml declares none); did you mean {k('kubernetesVersion')}?",
        {"clusterVersion": "1.35"},
    ),
    c(f"{k('enableDemo')} is not a key of this project", {"enableDemo": "true"}),
    c(
        f"{k('nodeInstanceType')} is not a key of this project (Pulumi.yaml declares none); did you mean {k('nodeInstanceTypes')}?",
        {"nodeInstanceType": "t3.large"},
    ),
    # --- AWS and Kubernetes limits (stacks/config/rules.py cites each) ------------------
    c(
        f"{k('nodeInstanceTypes')}[0] = 't3.larg': is not an EC2 instance type the AWS SDK "
        "knows; t3 has 2xlarge, large, medium, micro, nano, small, xlarge",
        {"nodeInstanceTypes": '["t3.larg"]'},
    ),
    c(
        f"{k('publicAccessCidrs')} = {PUBLIC_39!r}: with ciRunnerCidrs (2) makes 41 distinct "
        "public endpoint CIDRs; EKS allows at most 40 per cluster (quota not adjustable)",
        {"publicAccessCidrs": json.dumps(PUBLIC_39), **CI_TWO},
    ),
    c(
        f"{k('publicAccessCidrs')} = {PUBLIC_41!r}: with ciRunnerCidrs (0) makes 41 distinct "
        "public endpoint CIDRs; EKS allows at most 40",
        {
            "publicAccessCidrs": json.dumps(PUBLIC_41),
            "ciRunnerCidrs": "[]",
            "ciRunnerLabel": "",
            "ciDeployRoleArn": "",
        },
    ),
    c(
        f"{k('nodeLabels')}[0] = 'role=': value is 0 characters long; EKS node labels allow 1-63",
        {"nodeLabels": '["role="]'},
    ),
    c(
        f"{k('nodeLabels')}[0] = 'role={'v' * 64}': label value is 64 characters long; "
        "Kubernetes allows at most 63",
        {"nodeLabels": json.dumps([f"role={'v' * 64}"])},
    ),
    c(
        f"{k('nodeLabels')}[0] = 'example.com/{'k' * 52}=v': key is 64 characters long; EKS "
        "node labels allow 1-63",
        {"nodeLabels": json.dumps([f"example.com/{'k' * 52}=v"])},
    ),
    c(
        f"{k('nodeTaints')}[0] = 'example.com/{'k' * 52}:NoSchedule': key may have at most 63 "
        "characters and value at most 63 (EKS)",
        {"nodeTaints": json.dumps([f"example.com/{'k' * 52}:NoSchedule"])},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'café': must be 1-512 ASCII letters, digits or /_+=.@-",
        secret={"name": "café"},
    ),
    c(
        f"{k('secrets')}[{N}].name = '{'s' * 513}': must be 1-512 ASCII letters",
        secret={"name": "s" * 513},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'team/{'f' * 251}': makes the mounted file name 256 "
        "characters long; a file name has at most 255: give objectAlias",
        secret={"name": f"team/{'f' * 251}"},
    ),
    c(
        f"{k('secrets')}[{N}].description = '{'d' * 2049}': is 2049 characters long; "
        "secretsmanager allows at most 2048",
        secret={"name": "described", "description": "d" * 2049},
    ),
    c(
        f"{k('secrets')}[{N}].description = '{'d' * 1025}': is 1025 characters long; ssm "
        "allows at most 1024",
        secret={"name": "/described", "type": "ssmparameter", "description": "d" * 1025},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'awsParam': must not begin with aws or ssm (any case, also "
        "after /): AWS reserves them",
        secret={"name": "awsParam", "type": "ssmparameter"},
    ),
    c(
        f"{k('secrets')}[{N}].name = '/SSM/team/db': must not begin with aws or ssm",
        secret={"name": "/SSM/team/db", "type": "ssmparameter"},
    ),
    c(
        f"{k('secrets')}[{N}].name = 'team/db': is in a hierarchy but not fully qualified: "
        "start it with /, e.g. /team/db",
        secret={"name": "team/db", "type": "ssmparameter"},
    ),
    c(
        f"{k('secrets')}[{N}].name = '{SSM_16_LEVELS}': has 16 hierarchy levels; SSM allows at "
        "most 15",
        secret={"name": SSM_16_LEVELS, "type": "ssmparameter"},
    ),
    c(
        f"{k('secrets')}[{N}].name = '/{'p' * 962}': is too long: with its ARN it is 1012 "
        "characters; SSM allows at most 1011",
        secret={"name": "/" + "p" * 962, "type": "ssmparameter"},
    ),
    c(
        f"{k('secrets')}[{N}].name = '/team/caf\u00e9': must be an SSM parameter name: ASCII "
        "letters",
        secret={"name": "/team/caf\u00e9", "type": "ssmparameter"},
    ),
    c(
        f"{k('apps')}[{A}].name = '{'a' * 39}': is too long for identity irsa: makes the IAM "
        f"role name {'a' * 39}-secrets-irsa-role-<7 random characters> 65 characters long; AWS "
        "allows at most 64 (shorten it by 1)",
        app={"name": "a" * 39, "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].name = '{'p' * 38}': is too long for identity pod-identity: makes the "
        f"IAM role name {'p' * 38}-secrets-podid-role-<7 random characters> 65 characters long",
        app={"name": "p" * 38, "secrets": ["redis-password"], "identity": "pod-identity"},
    ),
    c(
        f"{k('apps')}[{A}].serviceAccount = '{SA_64}': is 64 characters long; it becomes the "
        "label app.kubernetes.io/name of its ServiceAccount, and label values have at most 63",
        app={"name": "t", "serviceAccount": SA_64, "secrets": ["redis-password"]},
    ),
    c(
        f"{k('apps')}[{A}].ingress[0].podLabels = {{'app': '{'w' * 64}'}}: app={'w' * 64} is "
        "not a valid Kubernetes label: label value is 64 characters long; Kubernetes allows at "
        "most 63",
        app={
            "name": "t",
            "secrets": ["redis-password"],
            "ingress": [
                {
                    "name": "web",
                    "podLabels": {"app": "w" * 64},
                    "ports": [80],
                    "fromPodLabels": {"a": "b"},
                }
            ],
        },
    ),
    c(
        f"{k('apps')}[{A}].ingress[0].name = '{RULE_240}': makes the NetworkPolicy name "
        "allow-ingress-<name> 254 characters long; Kubernetes object names have at most 253 "
        "(so at most 239 here)",
        app={
            "name": "t",
            "secrets": ["redis-password"],
            "ingress": [
                {
                    "name": RULE_240,
                    "podLabels": {"app": "web"},
                    "ports": [80],
                    "fromPodLabels": {"a": "b"},
                }
            ],
        },
    ),
    c(
        f"{k('apps')}[{A}].egress[0].ports = {list(range(1, 26))}: lists 25 distinct ports; the "
        "VPC CNI network policy agent accepts at most 24 per protocol in one ingress or egress "
        "rule: split it into several rules",
        app={
            "name": "t",
            "secrets": ["redis-password"],
            "egress": [
                {
                    "name": "out",
                    "podLabels": {"app": "web"},
                    "ports": list(range(1, 26)),
                    "cidr": "10.0.0.0/8",
                }
            ],
        },
    ),
    c(
        f"{k('apps')}[{A}].ingress[0].ports = {list(range(100, 125))}: lists 25 distinct ports",
        app={
            "name": "t",
            "secrets": ["redis-password"],
            "ingress": [
                {
                    "name": "in",
                    "podLabels": {"app": "web"},
                    "ports": list(range(100, 125)),
                    "fromPodLabels": {"a": "b"},
                }
            ],
        },
    ),
]


def test_the_table_is_large_and_has_no_duplicate_case():
    assert len(CASES) >= 100
    assert len({repr(case.values) for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("overrides", "lists", "message"), CASES)
def test_bad_configuration_is_refused_with_its_message(overrides, lists, message):
    found = problems(overrides, **lists)
    assert any(message in p for p in found), "\n".join(found)


@pytest.mark.parametrize(
    "overrides",
    [
        {key("publicAccessCidrs"): '["0.0.0.0/0"]'},
        {key("nodeInstanceTypes"): '["t3.large", "m7g.large"]'},
        {"aws:region": "mars-north-1"},
    ],
    ids=["open-endpoint", "mixed-architectures", "unknown-region"],
)
def test_rules_the_components_also_assert_stop_the_program_before_any_resource(overrides):
    """These once failed inside component Args, after the cluster was registered."""
    from stacks.config.reader import ConfigError
    from tests.stacks.configs import raw_config

    recorder = Recorder()
    with pytest.raises(ConfigError):
        run_program("dev", raw_config(overrides), recorder=recorder)
    assert recorder.resources == []


def _cluster_args(cidrs):
    from eksplatform.cluster import ClusterArgs

    return ClusterArgs("c", "1.35", "vpc-1", [], [], public_access_cidrs=cidrs)


def _node_args(**kwargs):
    from eksplatform.nodegroup import NodeGroupArgs, ami_type_for

    args = NodeGroupArgs("c", "1.35", [], **kwargs)
    return ami_type_for(args.instance_types)


def _sidecar_args(hostname):
    from eksplatform.workloads.sidecar import SidecarExampleArgs

    return SidecarExampleArgs("web", hostname, "web-tls", "web-tls")


def _ingress(ports):
    from eksplatform.namespace_baseline import IngressAllow

    return IngressAllow("web", {"app": "web"}, ports, {"app": "client"})


def _named_ingress(name):
    from eksplatform.namespace_baseline import IngressAllow

    return IngressAllow(name, {"app": "web"}, [80], {"app": "client"})


def _irsa_args(service_account):
    from eksplatform.irsa import IrsaRoleArgs

    return IrsaRoleArgs("arn:aws:iam::1:oidc-provider/x", "x", "team", service_account)


def _app_with_ingress(name, ports):
    rule = {"name": name, "podLabels": {"app": "web"}, "ports": ports}
    return {
        "app": {
            "name": "t",
            "secrets": ["redis-password"],
            "ingress": [{**rule, "fromPodLabels": {"app": "client"}}],
        }
    }


def _parameter_args(name):
    from eksplatform.secrets import ManagedParameterArgs

    return ManagedParameterArgs(name, value="v")


def _quota(pods):
    from eksplatform.namespace_baseline import Quota

    return Quota(pods=pods)


def _init_args(repo):
    from eksplatform.modes import InitContainerSource
    from eksplatform.workloads.init_container import InitContainerExampleArgs

    return InitContainerExampleArgs("web", InitContainerSource.GIT, repo)


INVARIANTS = [
    (lambda: _cluster_args(["0.0.0.0/0"]), {"publicAccessCidrs": '["0.0.0.0/0"]'}, {}),
    (
        lambda: _node_args(instance_types=["t3.large", "m7g.large"]),
        {"nodeInstanceTypes": '["t3.large", "m7g.large"]'},
        {},
    ),
    (
        lambda: _node_args(min_size=3, desired_size=2, max_size=4),
        {"nodeMinSize": "3", "nodeDesiredSize": "2", "nodeMaxSize": "4"},
        {},
    ),
    (lambda: _sidecar_args("a..example.com"), {"sidecarTlsHostname": "a..example.com"}, {}),
    (lambda: _sidecar_args("a" * 70), {"sidecarTlsHostname": "a" * 70}, {}),
    (
        lambda: _ingress([0]),
        {},
        {
            "app": {
                "name": "t",
                "secrets": ["redis-password"],
                "ingress": [
                    {
                        "name": "web",
                        "podLabels": {"app": "web"},
                        "ports": [0],
                        "fromPodLabels": {"app": "c"},
                    }
                ],
            }
        },
    ),
    (lambda: _ingress(list(range(1, 26))), {}, _app_with_ingress("web", list(range(1, 26)))),
    (lambda: _named_ingress(RULE_240), {}, _app_with_ingress(RULE_240, [80])),
    (
        lambda: _parameter_args("/SSM/db"),
        {},
        {"secret": {"name": "/SSM/db", "type": "ssmparameter"}},
    ),
    (
        lambda: _irsa_args(SA_64),
        {},
        {"app": {"name": "t", "serviceAccount": SA_64, "secrets": ["redis-password"]}},
    ),
    (
        lambda: _quota(0),
        {},
        {"app": {"name": "t", "secrets": ["redis-password"], "quota": {"pods": 0}}},
    ),
    (
        lambda: _init_args("http://example.com/r.git"),
        {"initContainerSource": "git", "initContainerGitRepo": "http://example.com/r.git"},
        {},
    ),
]


@pytest.mark.parametrize(("refused_by_args", "overrides", "lists"), INVARIANTS)
def test_config_never_lets_through_a_value_a_component_would_refuse(
    refused_by_args, overrides, lists
):
    """Components keep their invariants; the config layer refuses the same values first."""
    with pytest.raises(ValueError):
        refused_by_args()
    given = {(name if ":" in name else key(name)): v for name, v in overrides.items()}
    if "app" in lists:
        lists = {"apps": [*APPS, lists["app"]]}
    if "secret" in lists:
        lists = {"secrets": [*SECRETS, lists["secret"]]}
    assert problems(given, **lists)
