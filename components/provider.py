"""The public components, hosted for every Pulumi language (`pulumi package add`).

Each hosted class is a thin adapter over the one Python implementation: it registers the type
the engine asks for, `eksplatform:index:<Name>`, and builds the real component (its Args filled
from the same field names) as its only child. The Python API stays the dataclass Args; this
module is only the shape other languages see.

How the host behaves was read in pulumi 3.272.0 (the SDK pinned in requirements.txt),
`pulumi/provider/experimental/`:
- `host.py`: `component_provider_host(components, name, namespace, version)` builds a
  `ComponentProvider` and serves it with `pulumi.provider.main`, which prints its port.
- `component.py`: the provider's schema is inferred once, in its constructor; `construct` calls
  `cls(name, inputs, opts)` with `inputs` a dict keyed by the Python field names, and reads the
  outputs back from the attributes annotated on the class.
- `analyzer.py`: the inputs are the annotations of the `args` parameter of `__init__` (a
  TypedDict: `pulumi.Input[T]` is an input, bare `T` a plain value, `NotRequired[T]` optional;
  T is str, int, float, bool, list, dict with str keys, an Enum or another TypedDict; no other
  unions); the description of each field is the string literal right after it. Annotations
  must be real objects, so this module does not use `from __future__ import annotations`.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from . import __version__, irsa, namespace_baseline, pod_identity, secrets, secrets_store
from . import secret_provider_class as spc
from .modes import InstallMethod

PACKAGE = "eksplatform"
"""The Pulumi package name: resource types are `eksplatform:index:<Name>`."""


def _child(parent: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent)


class IrsaRoleArgs(TypedDict):
    """Inputs of IrsaRole."""

    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider, the trusted federated principal. Required."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL, with or without https://. Required."""
    namespace: pulumi.Input[str]
    """Namespace of the ServiceAccount the role trusts (DNS-1123 label; checked when known).
    Required."""
    service_account: pulumi.Input[str]
    """The only ServiceAccount the role trusts (DNS-1123 subdomain; checked when known).
    Required."""
    policy_arns: NotRequired[list[pulumi.Input[str]]]
    """IAM policy ARNs attached to the role. Default: none (the role can do nothing)."""
    tags: NotRequired[dict[str, str]]
    """AWS tags added to every AWS resource it creates. Default: none."""
    create_service_account: NotRequired[bool]
    """Create the annotated ServiceAccount (needs the Kubernetes provider passed in `providers`).
    Default: true."""


class IrsaRole(pulumi.ComponentResource):
    """An IAM role only one Kubernetes service account can assume (IRSA), its policy attachments
    and the annotated ServiceAccount."""

    role_arn: pulumi.Output[str]
    """ARN of the role; the ServiceAccount carries it as `eks.amazonaws.com/role-arn`."""

    def __init__(
        self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:IrsaRole", name, None, opts)
        role = irsa.IrsaRole(name, irsa.IrsaRoleArgs(**args), _child(self))
        self.role_arn = role.role_arn
        self.register_outputs({"role_arn": self.role_arn})


class PodIdentityRoleArgs(TypedDict):
    """Inputs of PodIdentityRole."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster the Pod Identity association is made in. Required."""
    namespace: pulumi.Input[str]
    """Namespace of the ServiceAccount (DNS-1123 label; checked when known). Required."""
    service_account: pulumi.Input[str]
    """The only ServiceAccount bound to the role (DNS-1123 subdomain; checked when known).
    Required."""
    policy_arns: NotRequired[list[pulumi.Input[str]]]
    """IAM policy ARNs attached to the role. Default: none."""
    cluster_arn: NotRequired[pulumi.Input[str]]
    """Pins the trust to this cluster's session tag. Default: unset, which trusts Pod Identity in
    any cluster of the account that has an association to the role."""
    tags: NotRequired[dict[str, str]]
    """AWS tags added to every AWS resource it creates. Default: none."""
    create_service_account: NotRequired[bool]
    """Create the ServiceAccount (needs the Kubernetes provider passed in `providers`).
    Default: true."""


class PodIdentityRole(pulumi.ComponentResource):
    """A role only one service account of one cluster can use, through EKS Pod Identity (the
    cluster needs the eks-pod-identity-agent add-on)."""

    role_arn: pulumi.Output[str]
    """ARN of the role the association binds to the ServiceAccount."""

    def __init__(
        self, name: str, args: PodIdentityRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:PodIdentityRole", name, None, opts)
        role_args = pod_identity.PodIdentityRoleArgs(**args)
        role = pod_identity.PodIdentityRole(name, role_args, _child(self))
        self.role_arn = role.role_arn
        self.register_outputs({"role_arn": self.role_arn})


class JmesPath(TypedDict):
    """One JSON key of a secret, mounted as its own file."""

    path: str
    """JMESPath of one key in the secret's JSON, e.g. `username`. Required."""
    object_alias: str
    """File name the key is mounted as (no `/`, not `.` or `..`). Required."""


class SecretObject(TypedDict):
    """One secret or parameter to mount."""

    object_name: str
    """The secret's or parameter's name or full ARN. Required."""
    object_type: NotRequired[str]
    """`secretsmanager` or `ssmparameter`. Default: `secretsmanager`."""
    object_alias: NotRequired[str]
    """File name it is mounted as. Default: the name with `/` as `_`."""
    jmes_path: NotRequired[list[JmesPath]]
    """JSON keys also mounted as files of their own. Default: none."""


class SyncedSecret(TypedDict):
    """A Kubernetes Secret the driver keeps in step with mounted files."""

    secret_name: str
    """Name of the Kubernetes Secret the driver creates in the pod's namespace. Required."""
    data: dict[str, str]
    """Key in the Kubernetes Secret -> mounted file name it is read from. Required."""


class SecretProviderClassArgs(TypedDict):
    """Inputs of SecretProviderClass."""

    namespace: pulumi.Input[str]
    """Namespace of the SecretProviderClass; only pods there can use it (DNS-1123 label; checked
    when known). Required."""
    class_name: str
    """Its Kubernetes name, which pods name in their CSI volume (DNS-1123 subdomain). Required."""
    objects: list[SecretObject]
    """The secrets and parameters to mount; at least one. Required."""
    region: str
    """AWS region ASCP reads from. Required."""
    synced_secrets: NotRequired[list[SyncedSecret]]
    """Kubernetes Secrets kept in step with mounted files. Default: none."""
    use_pod_identity: NotRequired[bool]
    """ASCP authenticates with EKS Pod Identity instead of IRSA. Default: false."""
    failover_region: NotRequired[str]
    """Region ASCP reads the replicas from when `region` fails. Default: none."""


def secret_provider_class_args(args: SecretProviderClassArgs) -> spc.SecretProviderClassArgs:
    """The Python Args of SecretProviderClass from the hosted inputs."""
    objects = [
        spc.SecretObject(
            **{k: v for k, v in o.items() if k != "jmes_path"},  # type: ignore[arg-type]
            jmes_path=tuple(spc.JmesPath(**j) for j in o.get("jmes_path", [])),
        )
        for o in args["objects"]
    ]
    synced = tuple(
        spc.SyncedSecret(secret_name=s["secret_name"], data=tuple(s["data"].items()))
        for s in args.get("synced_secrets", [])
    )
    rest = {k: v for k, v in args.items() if k not in ("objects", "synced_secrets")}
    return spc.SecretProviderClassArgs(objects=objects, synced_secrets=synced, **rest)  # type: ignore[arg-type]


class SecretProviderClass(pulumi.ComponentResource):
    """A SecretProviderClass of the AWS provider (ASCP): which secrets the Secrets Store CSI
    driver mounts into a pod, and under which file names."""

    class_name: pulumi.Output[str]
    """Its Kubernetes name, for the pod's CSI volume (`secretProviderClass`)."""
    file_names: pulumi.Output[list[str]]
    """Every file the driver writes under the volume's mount path."""

    def __init__(
        self,
        name: str,
        args: SecretProviderClassArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(f"{PACKAGE}:index:SecretProviderClass", name, None, opts)
        class_args = secret_provider_class_args(args)
        provider_class = spc.SecretProviderClass(name, class_args, _child(self))
        self.class_name = pulumi.Output.from_input(provider_class.class_name)
        self.file_names = pulumi.Output.from_input(provider_class.file_names)
        self.register_outputs({"class_name": self.class_name, "file_names": self.file_names})


class Toleration(TypedDict):
    """A taint the driver and provider DaemonSets tolerate."""

    key: str
    """Taint key to tolerate. Required."""
    value: str
    """Taint value; empty tolerates any value of the key. Required."""
    effect: str
    """NoSchedule, NoExecute or PreferNoSchedule. Required."""


class SecretsStoreCsiArgs(TypedDict):
    """Inputs of SecretsStoreCsi."""

    aws_region: str
    """The region ASCP calls Secrets Manager and SSM in. Required."""
    enable_sync_secret: NotRequired[bool]
    """Lets the driver create Kubernetes Secrets from `secretObjects`. Default: false."""
    enable_secret_rotation: NotRequired[bool]
    """The driver re-reads mounted secrets every `rotationPollInterval`. Default: true."""
    rotation_poll_interval: NotRequired[str]
    """A Go duration (`90s`, `2m`); ignored without rotation. Default: `2m`."""
    tolerate_every_taint: NotRequired[bool]
    """The DaemonSets tolerate every taint, so they run on every node. Default: true."""
    tolerations: NotRequired[list[Toleration]]
    """Used when `tolerateEveryTaint` is false. Default: none."""
    install_method: NotRequired[InstallMethod]
    """`helm` (the two pinned charts), `eks-addon` (the ASCP add-on, driver included) or `none`
    (the cluster already runs both).
    Default: `helm`."""
    cluster_name: NotRequired[pulumi.Input[str]]
    """The EKS cluster; `eks-addon` only. Default: unset."""
    kubernetes_version: NotRequired[str]
    """The cluster's `major.minor`; `eks-addon` installs the ASCP build pinned for it.
    Default: unset; `eks-addon` then needs `addonVersion`."""
    addon_version: NotRequired[str]
    """An ASCP add-on build (`eks-addon` only), for a version without a pinned one. Default: the
    build pinned for `kubernetesVersion`."""
    namespace: NotRequired[pulumi.Input[str]]
    """Namespace of both Helm releases (`helm` only); it must exist and admit privileged pods.
    Changing it replaces both releases. Default: `kube-system`."""
    driver_release_name: NotRequired[str]
    """Helm release name of the driver (`helm` only). Default: `secrets-store-csi-driver`."""
    provider_release_name: NotRequired[str]
    """Helm release name of ASCP (`helm` only). Default:
    `secrets-store-csi-driver-provider-aws`."""
    driver_values: NotRequired[dict[str, Any]]
    """Extra secrets-store-csi-driver chart values, deep-merged over ours (theirs win) except
    the keys the component keeps (`tokenRequests`, `syncSecret`, `enableSecretRotation`,
    `rotationPollInterval`, `linux.tolerations`), which fail; with `helm`, a key the pinned
    chart's values do not have fails too. Default: none."""
    provider_values: NotRequired[dict[str, Any]]
    """Extra ASCP chart values, deep-merged over ours (theirs win) except the keys the
    component keeps (`securityContext`, `secrets-store-csi-driver`, `awsRegion`,
    `tolerations`), which fail; with `helm`, a key the pinned chart's values do not have fails
    too. Default: none."""


class SecretsStoreCsi(pulumi.ComponentResource):
    """The Secrets Store CSI driver and its AWS provider (ASCP), at the pinned chart versions or
    as the EKS add-on. Give it the cluster's Kubernetes provider in `providers`."""

    def __init__(
        self, name: str, args: SecretsStoreCsiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:SecretsStoreCsi", name, None, opts)
        fields = {k: v for k, v in args.items() if k != "tolerations"}
        tolerations = tuple(secrets_store.Toleration(**t) for t in args.get("tolerations", []))
        csi_args = secrets_store.SecretsStoreCsiArgs(tolerations=tolerations, **fields)  # type: ignore[arg-type]
        secrets_store.SecretsStoreCsi(name, csi_args, _child(self))
        self.register_outputs({})


class ManagedSecretArgs(TypedDict):
    """Inputs of ManagedSecret."""

    secret_name: str
    """The secret's name in Secrets Manager. Required."""
    value: NotRequired[pulumi.Input[str]]
    """The secret string; pass a Pulumi secret. Give exactly one of `value` or `existingArn`."""
    existing_arn: NotRequired[str]
    """Reference an existing secret instead: nothing is created, changed or deleted."""
    description: NotRequired[str]
    """The secret's description. Default: empty."""
    kms_key_id: NotRequired[pulumi.Input[str]]
    """A customer-managed KMS key (ARN or id). Default: the AWS managed key
    aws/secretsmanager."""
    recovery_window_in_days: NotRequired[int]
    """Days a deleted secret stays recoverable (7-30), or 0 to delete at once. Default: 7."""
    tags: NotRequired[dict[str, str]]
    """AWS tags of the secret. Default: none."""


class ManagedSecret(pulumi.ComponentResource):
    """A Secrets Manager secret, created with its value or referenced by ARN."""

    arn: pulumi.Output[str]
    """ARN of the secret, whether it was created or referenced."""

    def __init__(
        self, name: str, args: ManagedSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:ManagedSecret", name, None, opts)
        secret = secrets.ManagedSecret(name, secrets.ManagedSecretArgs(**args), _child(self))
        self.arn = secret.arn
        self.register_outputs({"arn": self.arn})


class NamespaceBaselineArgs(TypedDict):
    """Inputs of NamespaceBaseline."""

    name: str
    """The namespace's name (DNS-1123 label); the Namespace is created. Required."""
    pod_security_level: NotRequired[str]
    """Pod Security Standard enforced, audited and warned: `restricted` or `baseline`.
    Default: `restricted`."""
    labels: NotRequired[dict[str, str]]
    """Extra labels of the Namespace. Default: none."""
    deny_egress: NotRequired[bool]
    """Default-deny egress too (DNS stays allowed). Default: true."""


class NamespaceBaseline(pulumi.ComponentResource):
    """A hardened namespace: Pod Security Admission labels, a LimitRange, a ResourceQuota and
    default-deny NetworkPolicies."""

    name: pulumi.Output[str]
    """The namespace's name, resolved once the Namespace exists."""

    def __init__(
        self, name: str, args: NamespaceBaselineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:NamespaceBaseline", name, None, opts)
        baseline = namespace_baseline.NamespaceBaseline(
            name, namespace_baseline.NamespaceBaselineArgs(**args), _child(self)
        )
        self.name = baseline.namespace.metadata.apply(lambda meta: meta.name or args["name"])
        self.register_outputs({"name": self.name})


HOSTED: list[type[pulumi.ComponentResource]] = [
    IrsaRole,
    PodIdentityRole,
    SecretProviderClass,
    SecretsStoreCsi,
    ManagedSecret,
    NamespaceBaseline,
]
"""The components other Pulumi languages get from `pulumi package add`."""


def main() -> None:
    """Serve the hosted components: the plugin's entry point (provider/__main__.py)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(HOSTED, name=PACKAGE, version=__version__)
