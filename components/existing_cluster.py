"""An EKS cluster this program did not create: read, never changed, and the one Kubernetes
provider derived from it.

The cluster is looked up with an invoke (`aws.eks.getCluster`), so `pulumi destroy` has
nothing of it to delete; only the Kubernetes provider and, when asked, the IAM OIDC provider
are resources of the stack. The handle has the same outputs as `Cluster` (name, ARN,
kubeconfig, OIDC issuer and provider ARN, `provider`), so whatever builds on a cluster takes
either.

Find or create the OIDC provider is a choice the caller states (`oidc_provider`): the only
invoke that reads one (`aws.iam.getOpenIdConnectProvider`) fails the whole run when the
provider does not exist, and no invoke lists them, so "create it when missing" cannot be
decided inside one program run without catching an invoke's failure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .k8s import exec_kubeconfig
from .modes import OidcProviderMode

STS_AUDIENCE = "sts.amazonaws.com"


def _field(value: Any, name: str) -> Any:
    """A field of an invoke's nested result: a typed object, or a plain mapping of it."""
    if isinstance(value, Mapping) and name in value:
        return value[name]
    return getattr(value, name)


def cluster_version_problem(stated: str, found: str) -> str | None:
    """None when the stated `major.minor` is the running cluster's, else what to do."""
    if stated == found:
        return None
    return (
        f"kubernetesVersion is {stated!r} but the existing cluster runs {found!r}: add-on builds "
        f"are pinned per version, so set kubernetesVersion to {found!r}"
    )


@dataclass(frozen=True)
class ExistingClusterArgs:
    """Inputs of ExistingCluster."""

    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster, in the region of the AWS provider. Required."""
    kubernetes_version: str
    """The `major.minor` the caller pins add-on builds for; the run fails when the cluster runs
    another. Required."""
    oidc_provider: OidcProviderMode = OidcProviderMode.FIND
    """FIND reads the cluster's IAM OIDC provider (the run fails when it is missing); CREATE
    makes one, which a destroy deletes. Default: FIND."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags on the OIDC provider when it is created. Default: none."""

    def __post_init__(self) -> None:
        OidcProviderMode(self.oidc_provider)
        if not self.kubernetes_version:
            raise ValueError("kubernetes_version must state the cluster's major.minor")


class _Found:
    """The looked-up cluster's fields as Outputs, from either kind of lookup."""

    def __init__(self, result: Any) -> None:
        self.name: pulumi.Output[str] = pulumi.Output.from_input(result.name)
        self.arn: pulumi.Output[str] = pulumi.Output.from_input(result.arn)
        self.endpoint: pulumi.Output[str] = pulumi.Output.from_input(result.endpoint)
        self.certificate_authorities: pulumi.Output[Any] = pulumi.Output.from_input(
            result.certificate_authorities
        )
        self.version: pulumi.Output[str] = pulumi.Output.from_input(result.version)
        self.identities: pulumi.Output[Any] = pulumi.Output.from_input(result.identities)


def _aws_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource | None:
    """The AWS provider the caller gave the component (`provider`, or `providers` as a map or
    a list): the lookup before registration reads the cluster through it, as the component's
    children would."""
    if opts is None:
        return None
    if opts.provider is not None:
        return opts.provider
    providers = opts.providers
    if isinstance(providers, Mapping):
        return providers.get("aws")
    return next((p for p in providers or [] if getattr(p, "package", None) == "aws"), None)


def _look_up_now(args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None) -> _Found | None:
    """A plain cluster name is looked up at once, before anything is registered: a cluster
    that runs another version than the one add-ons are pinned for stops the program before it
    creates anything (a stack's secrets and keys included). A name that is an Output is looked
    up when it resolves and checked before anything uses the cluster (`kubeconfig`), and so is
    a cluster the lookup could not read yet."""
    if not isinstance(args.cluster_name, str):
        return None
    invoke = pulumi.InvokeOptions(
        parent=opts.parent if opts else None, provider=_aws_provider(opts)
    )
    result = aws.eks.get_cluster(name=args.cluster_name, opts=invoke)
    if not result.version:
        # A preview whose AWS provider is not configured yet (say, a role the same program
        # creates) answers invokes with nothing: look it up again as an Output, which stays
        # unknown in that preview, instead of calling the version `None`.
        return None
    if problem := cluster_version_problem(args.kubernetes_version, result.version):
        raise ValueError(f"cluster {args.cluster_name}: {problem}")
    return _Found(result)


class ExistingCluster(pulumi.ComponentResource):
    """A looked-up cluster, its OIDC provider (found or created) and a Kubernetes provider."""

    def __init__(
        self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ):
        found = _look_up_now(args, opts)
        super().__init__("eksplatform:cluster:ExistingCluster", name, None, opts)
        if found is None:
            found = _Found(
                aws.eks.get_cluster_output(
                    name=args.cluster_name, opts=pulumi.InvokeOutputOptions(parent=self)
                )
            )

        def checked(values: list[Any]) -> str:
            cluster_name, arn, endpoint, authorities, version = values
            if problem := cluster_version_problem(args.kubernetes_version, version):
                raise ValueError(f"cluster {cluster_name}: {problem}")
            region = arn.split(":")[3]
            return json.dumps(
                exec_kubeconfig(cluster_name, endpoint, _field(authorities[0], "data"), region)
            )

        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(
                found.name,
                found.arn,
                found.endpoint,
                found.certificate_authorities,
                found.version,
            ).apply(checked)
        )
        # Read through the checked kubeconfig: nothing uses the cluster before its version
        # was compared with the one add-ons are pinned for. The name is no secret.
        self.cluster_name: pulumi.Output[str] = pulumi.Output.unsecret(
            pulumi.Output.all(found.name, self.kubeconfig).apply(lambda v: v[0])
        )
        self.cluster_arn: pulumi.Output[str] = found.arn
        self.kubernetes_version: pulumi.Output[str] = found.version
        issuer_url: pulumi.Output[str] = found.identities.apply(
            lambda i: _field(_field(i[0], "oidcs")[0], "issuer")
        )
        self.oidc_issuer: pulumi.Output[str] = issuer_url.apply(
            lambda url: url.removeprefix("https://")
        )
        if OidcProviderMode(args.oidc_provider) == OidcProviderMode.CREATE:
            self.oidc_provider: aws.iam.OpenIdConnectProvider | None = (
                aws.iam.OpenIdConnectProvider(
                    f"{name}-oidc",
                    url=issuer_url,
                    client_id_lists=[STS_AUDIENCE],
                    tags=dict(args.tags),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
            self.oidc_provider_arn: pulumi.Output[str] = self.oidc_provider.arn
        else:
            self.oidc_provider = None
            self.oidc_provider_arn = aws.iam.get_open_id_connect_provider_output(
                url=issuer_url, opts=pulumi.InvokeOutputOptions(parent=self)
            ).arn
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            delete_unreachable=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_arn": self.cluster_arn,
                "kubeconfig": self.kubeconfig,
                "kubernetes_version": self.kubernetes_version,
                "oidc_issuer": self.oidc_issuer,
                "oidc_provider_arn": self.oidc_provider_arn,
            }
        )
