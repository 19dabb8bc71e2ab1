"""An application a team deploys from its own stack onto a platform it did not build.

It owns what an `apps` entry of the platform stack gets: its namespace and baseline (Pod
Security, LimitRange, ResourceQuota, default-deny plus its own allows), its ServiceAccount
bound to an identity (IRSA or EKS Pod Identity), a read policy on exactly its secrets, and the
SecretProviderClass. It is built from the same components as an `apps` entry
(`NamespaceBaseline`, `WorkloadSecrets`), so "a workload reads secrets" has one code path. The
values it needs come as inputs: from the platform contract (`TeamAppArgs.from_contract`), or
from anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from .contract import ContractError, PlatformContract
from .modes import IdentityMode, SecretType
from .namespace_baseline import (
    EgressAllow,
    IngressAllow,
    NamespaceBaseline,
    NamespaceBaselineArgs,
    Quota,
)
from .secret_provider_class import SecretObject, SyncedSecret
from .validation import check_dns1123_label
from .workload_secrets import WorkloadSecrets, WorkloadSecretsArgs, with_replica

TYPE = "eksplatform:platform:TeamApp"


@dataclass(frozen=True)
class TeamAppArgs:
    """Inputs of TeamApp."""

    namespace: str
    """Kubernetes namespace created and owned by the app (DNS-1123 label); it must not exist
    yet. Required."""
    service_account: str
    """ServiceAccount the app's pods run as, bound to its identity. Required."""
    objects: Sequence[SecretObject]
    """The secrets and parameters mounted into the pods, by name. Required, at least one."""
    region: str
    """AWS region of the cluster and the secrets. Required."""
    secret_arns: Sequence[pulumi.Input[str]] = ()
    """ARNs of exactly the Secrets Manager secrets in `objects` (and their failover replicas):
    the read policy grants these and nothing else. Default: none."""
    parameter_arns: Sequence[pulumi.Input[str]] = ()
    """ARNs of the SSM parameters in `objects`. Default: none."""
    kms_key_arns: Sequence[pulumi.Input[str]] = ()
    """Customer-managed keys of those secrets; an empty string is skipped. Default: none."""
    identity: IdentityMode = IdentityMode.IRSA
    """IRSA, Pod Identity with a role of its own, or the platform's shared ABAC role.
    Default: IRSA."""
    oidc_provider_arn: pulumi.Input[str] | None = None
    """The cluster's IAM OIDC provider ARN; IRSA only. Default: None."""
    oidc_issuer: pulumi.Input[str] | None = None
    """The cluster's OIDC issuer, with or without https://; IRSA only. Default: None."""
    cluster_name: pulumi.Input[str] | None = None
    """The EKS cluster name; Pod Identity only. Default: None."""
    cluster_arn: pulumi.Input[str] | None = None
    """Pins a Pod Identity role's trust to this cluster. Default: None, any cluster of the
    account."""
    shared_role_arn: pulumi.Input[str] | None = None
    """The platform's shared ABAC role; `pod-identity-abac` only. Default: None."""
    failover_region: str = ""
    """Read the secrets' replicas there when `region` fails. Default: empty, none."""
    class_name: str = ""
    """Name of the SecretProviderClass. Default: empty, the component's name."""
    synced_secrets: Sequence[SyncedSecret] = ()
    """Kubernetes Secrets kept in step with mounted files. Default: none."""
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on the Namespace. Default: none."""
    ingress: Sequence[IngressAllow] = ()
    """Ingress allowed through the default-deny. Default: none."""
    egress: Sequence[EgressAllow] = ()
    """Egress allowed through the default-deny (DNS always is). Default: none."""
    deny_egress: bool = True
    """Default-deny egress as well as ingress. Default: True."""
    quota: Quota = field(default_factory=Quota)
    """ResourceQuota of the namespace. Default: `Quota()`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """AWS tags on every AWS resource it creates. Default: none."""

    def __post_init__(self) -> None:
        if problem := check_dns1123_label(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} {problem}")
        if not self.objects:
            raise ValueError("a TeamApp reads at least one secret or parameter")

    @classmethod
    def from_contract(
        cls,
        contract: pulumi.Input[PlatformContract],
        *,
        namespace: str,
        service_account: str,
        objects: Sequence[SecretObject],
        region: str,
        identity: IdentityMode = IdentityMode.IRSA,
        failover_region: str = "",
        class_name: str = "",
        synced_secrets: Sequence[SyncedSecret] = (),
        ingress: Sequence[IngressAllow] = (),
        egress: Sequence[EgressAllow] = (),
        quota: Quota | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> TeamAppArgs:
        """Inputs for reading `objects` (named as in the contract's `secrets`) from the platform
        `contract` (parsed, e.g. from a StackReference). `region` and `failover_region` are
        stated by the team (they shape the SecretProviderClass) and checked against the
        contract, like the identity mode and every secret's name and type: a mismatch fails
        the preview with a ContractError."""

        def checked(c: PlatformContract) -> PlatformContract:
            if c.region != region:
                raise ContractError(
                    f"region {region!r}: the platform's cluster and secrets are in {c.region!r}"
                )
            if failover_region and failover_region != c.failover_region:
                raise ContractError(
                    f"failover_region {failover_region!r}: the platform replicates its secrets "
                    f"to {c.failover_region or 'no region'!r}"
                )
            c.check_identity(identity)
            for o in objects:
                c.secret(o.object_name, o.object_type)
            return c

        ok = pulumi.Output.from_input(contract).apply(checked)

        def arn(name: str, type_: str) -> pulumi.Output[str]:
            return ok.apply(lambda c: c.secret(name, type_).arn)

        secret_arns: list[pulumi.Output[str]] = []
        parameter_arns: list[pulumi.Output[str]] = []
        for o in objects:
            if o.object_type == SecretType.SSM_PARAMETER:
                parameter_arns.append(arn(o.object_name, o.object_type))
            else:
                secret_arns.extend(with_replica(arn(o.object_name, o.object_type), failover_region))
        names = [o.object_name for o in objects]
        key_count = 2 if failover_region else 1
        kms_key_arns = [
            ok.apply(lambda c, i=i: [*c.kms_key_arns(names), "", ""][i]) for i in range(key_count)
        ]
        return cls(
            namespace=namespace,
            service_account=service_account,
            objects=objects,
            region=region,
            secret_arns=secret_arns,
            parameter_arns=parameter_arns,
            kms_key_arns=kms_key_arns,
            identity=identity,
            oidc_provider_arn=ok.apply(lambda c: c.oidc_provider_arn),
            oidc_issuer=ok.apply(lambda c: c.oidc_issuer),
            cluster_name=ok.apply(lambda c: c.cluster_name),
            cluster_arn=ok.apply(lambda c: c.cluster_arn),
            shared_role_arn=(
                ok.apply(lambda c: c.pod_identity_abac_role_arn)
                if identity == IdentityMode.POD_IDENTITY_ABAC
                else None
            ),
            failover_region=failover_region,
            class_name=class_name,
            synced_secrets=synced_secrets,
            ingress=ingress,
            egress=egress,
            quota=quota or Quota(),
            tags=dict(tags or {}),
        )


class TeamApp(pulumi.ComponentResource):
    """Exposes `baseline`, `access` (the WorkloadSecrets), `namespace`, `service_account`,
    `role_arn`, `class_name`, `file_names` and `ready` (what a pod mounting the secrets waits
    for). Kubernetes objects use the provider passed in `opts.providers`."""

    def __init__(self, name: str, args: TeamAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = args.namespace
        self.service_account = args.service_account
        self.baseline = NamespaceBaseline(
            f"{name}-ns",
            NamespaceBaselineArgs(
                name=args.namespace,
                labels=dict(args.namespace_labels),
                quota=args.quota,
                ingress=args.ingress,
                egress=args.egress,
                deny_egress=args.deny_egress,
            ),
            opts=child,
        )
        self.class_name = args.class_name or name
        self.access = WorkloadSecrets(
            f"{name}-secrets",
            WorkloadSecretsArgs(
                namespace=args.namespace,
                service_account=args.service_account,
                secret_provider_class=self.class_name,
                objects=args.objects,
                secret_arns=args.secret_arns,
                parameter_arns=args.parameter_arns,
                kms_key_arns=args.kms_key_arns,
                region=args.region,
                failover_region=args.failover_region,
                identity_mode=args.identity,
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                shared_role_arn=args.shared_role_arn,
                synced_secrets=args.synced_secrets,
                tags=args.tags,
                wait_for=self.baseline.ready,
            ),
            opts=child,
        )
        self.role_arn: pulumi.Output[str] = self.access.role_arn
        self.file_names = self.access.file_names
        self.ready: list[pulumi.Resource] = [*self.baseline.ready, *self.access.ready]
        self.register_outputs(
            {
                "namespace": self.namespace,
                "service_account": self.service_account,
                "class_name": self.class_name,
                "role_arn": self.role_arn,
                "file_names": self.file_names,
            }
        )
