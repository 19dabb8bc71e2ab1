"""A team's own stack: one app on the platform's cluster, deployed without touching the
platform stack. Everything it knows about the platform comes from the platform's `platform`
output (eksplatform.contract), read through a StackReference."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from eksplatform.app import TeamApp, TeamAppArgs
from eksplatform.contract import OUTPUT_NAME, parse_contract
from eksplatform.iam_guardrails import boundary_arn, guardrails_at
from eksplatform.modes import IdentityMode
from eksplatform.secret_provider_class import SecretObject

config = pulumi.Config()
region = pulumi.Config("aws").require("region")
namespace = config.get("namespace") or "orders"
service_account = config.get("serviceAccount") or "orders"
secret_names: list[str] = config.require_object("secretNames")

platform = pulumi.StackReference(config.require("platformStack"))
contract = platform.require_output(OUTPUT_NAME).apply(parse_contract)

# The role and policy go under the platform's IAM path, with its permissions boundary: the
# platform's permissions administrator may create them there and nowhere else.
boundary = pulumi.Output.all(
    aws.get_partition_output().partition, aws.get_caller_identity_output().account_id
).apply(lambda v: boundary_arn(*v))
team_path = contract.apply(lambda c: c.team_iam_path(pulumi.get_project()))
pulumi.runtime.register_stack_transformation(guardrails_at(team_path, boundary))

cluster = k8s.Provider(
    "platform-cluster",
    kubeconfig=contract.apply(lambda c: json.dumps(c.kubeconfig())),
    enable_server_side_apply=True,
)

app = TeamApp(
    "orders",
    TeamAppArgs.from_contract(
        contract,
        namespace=namespace,
        service_account=service_account,
        objects=[SecretObject(object_name=name) for name in secret_names],
        region=region,
        identity=IdentityMode(config.get("identity") or "irsa"),
        tags={"team": "orders", "stack": pulumi.get_stack()},
    ),
    opts=pulumi.ResourceOptions(providers={"kubernetes": cluster}),
)

pulumi.export("namespace", namespace)
pulumi.export("serviceAccount", service_account)
pulumi.export("secretProviderClass", app.class_name)
pulumi.export("roleArn", app.role_arn)
pulumi.export("files", app.file_names)
