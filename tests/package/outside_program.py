"""A program outside the repository: it knows the package only as the installed `eksplatform`.

Run by test_wheel.py with the fresh virtualenv's interpreter, from a temporary directory. It
builds components under Pulumi mocks and prints, as JSON, where `eksplatform` came from,
every resource it registered and the loaded modules no declared dependency provides.
"""

import importlib.util
import json
import sys
from typing import Any

import pulumi
from dependency_check import undeclared  # copied beside this program


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
        outputs = dict(args.inputs)
        if args.typ == "aws:iam/role:Role":
            outputs["arn"] = f"arn:aws:iam::123456789012:role/{args.name}"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


mocks = Mocks()
pulumi.runtime.set_mocks(mocks, project="outside", stack="test", preview=False)

import eksplatform  # noqa: E402
from eksplatform.irsa import IrsaRole, IrsaRoleArgs  # noqa: E402
from eksplatform.provider import SecretProviderClass as HostedSecretProviderClass  # noqa: E402
from eksplatform.secret_provider_class import (  # noqa: E402
    SecretObject,
    SecretProviderClass,
    SecretProviderClassArgs,
)

seen: dict[str, Any] = {}


@pulumi.runtime.test
def build() -> pulumi.Output[Any]:
    role = IrsaRole(
        "orders",
        IrsaRoleArgs(
            oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            oidc_issuer="https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            namespace="orders",
            service_account="orders",
            policy_arns=["arn:aws:iam::123456789012:policy/orders-read"],
        ),
    )
    SecretProviderClass(
        "orders-secrets",
        SecretProviderClassArgs(
            namespace="orders",
            class_name="orders-secrets",
            objects=[SecretObject(object_name="orders/db-url", object_alias="db-url")],
            region="eu-west-1",
        ),
    )
    HostedSecretProviderClass(
        "hosted",
        {
            "namespace": "orders",
            "class_name": "hosted",
            "objects": [{"object_name": "x/y"}],
            "region": "eu-west-1",
        },
    )
    return role.role_arn.apply(lambda arn: seen.update(role_arn=arn))


build()
json.dump(
    {
        "eksplatform_file": eksplatform.__file__,
        "version": eksplatform.__version__,
        "components_importable": importlib.util.find_spec("components") is not None,
        "sys_path": sys.path,
        "role_arn": seen.get("role_arn"),
        "registered": mocks.registered,
        "dependencies": undeclared(),
    },
    sys.stdout,
    default=str,
)
