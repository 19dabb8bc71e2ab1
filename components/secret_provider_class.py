"""SecretProviderClass: which AWS secrets the CSI driver mounts, and under which file names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from .k8s import app_labels
from .validation import check_dns1123_label, check_dns1123_subdomain

API_VERSION = "secrets-store.csi.x-k8s.io/v1"
OBJECT_TYPES = ("secretsmanager", "ssmparameter")


@dataclass(frozen=True)
class JmesPath:
    """One JSON key of a secret, mounted as its own file named `object_alias`."""

    path: str
    """JMESPath of one key in the secret's JSON, e.g. `username`. Required."""
    object_alias: str
    """File name the key is mounted as (no `/`, not `.` or `..`). Required."""


@dataclass(frozen=True)
class SecretObject:
    """One secret or parameter to mount. `object_name` is a name or a full ARN."""

    object_name: str
    """The secret's or parameter's name or full ARN. Required."""
    object_type: str = "secretsmanager"
    """`secretsmanager` or `ssmparameter`. Default: `secretsmanager`."""
    object_alias: str = ""
    """File name it is mounted as. Default: empty, the name with `/` as `_`."""
    jmes_path: Sequence[JmesPath] = ()
    """JSON keys also mounted as files of their own. Default: none."""

    def __post_init__(self) -> None:
        if self.object_type not in OBJECT_TYPES:
            raise ValueError(f"object_type {self.object_type!r} is not one of {OBJECT_TYPES}")

    @property
    def file_name(self) -> str:
        """The file ASCP writes: the alias, else the name with `/` translated to `_` (ASCP's
        default `pathTranslation`), so `/app/db-url` becomes `_app_db-url`."""
        if self.object_alias:
            return self.object_alias
        if self.object_name.startswith("arn:"):
            return self.object_name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        return self.object_name.replace("/", "_")

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"objectName": self.object_name, "objectType": self.object_type}
        if self.object_alias:
            item["objectAlias"] = self.object_alias
        if self.jmes_path:
            item["jmesPath"] = [
                {"path": j.path, "objectAlias": j.object_alias} for j in self.jmes_path
            ]
        return item


@dataclass(frozen=True)
class SyncedSecret:
    """A Kubernetes Secret the driver keeps in step with mounted files (`secretObjects`)."""

    secret_name: str
    """Name of the Kubernetes Secret the driver creates in the pod's namespace. Required."""
    data: Sequence[tuple[str, str]]
    """(key in the Kubernetes Secret, mounted file name) pairs. Required."""


def objects_yaml(objects: Sequence[SecretObject]) -> str:
    """The `objects` parameter: a YAML string, as the AWS provider expects."""
    return yaml.safe_dump([o.as_dict() for o in objects], sort_keys=False, default_flow_style=False)


def file_names(objects: Sequence[SecretObject]) -> list[str]:
    """Every file the driver will write under the mount path."""
    names = []
    for obj in objects:
        names.append(obj.file_name)
        names.extend(j.object_alias for j in obj.jmes_path)
    return names


def secret_provider_class_spec(
    objects: Sequence[SecretObject],
    *,
    region: str,
    synced_secrets: Sequence[SyncedSecret] = (),
    use_pod_identity: bool = False,
    failover_region: str = "",
) -> dict[str, Any]:
    """The `spec` of a SecretProviderClass for the AWS provider."""
    if not objects:
        raise ValueError("a SecretProviderClass needs at least one object")
    names = file_names(objects)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"mounted file names collide: {duplicates}")
    for synced in synced_secrets:
        missing = [f for _, f in synced.data if f not in names]
        if missing:
            raise ValueError(f"synced secret {synced.secret_name!r} reads unknown files {missing}")
    if failover_region and failover_region == region:
        raise ValueError(f"failover_region {failover_region!r} must differ from region")
    parameters: dict[str, str] = {"objects": objects_yaml(objects), "region": region}
    if failover_region:
        parameters["failoverRegion"] = failover_region
    if use_pod_identity:
        parameters["usePodIdentity"] = "true"
    spec: dict[str, Any] = {"provider": "aws", "parameters": parameters}
    if synced_secrets:
        spec["secretObjects"] = [
            {
                "secretName": s.secret_name,
                "type": "Opaque",
                "data": [{"key": key, "objectName": file} for key, file in s.data],
            }
            for s in synced_secrets
        ]
    return spec


@dataclass(frozen=True)
class SecretProviderClassArgs:
    """Inputs of SecretProviderClass."""

    namespace: pulumi.Input[str]
    """Namespace of the SecretProviderClass; only pods there can use it (DNS-1123 label; checked
    when plain). Required."""
    class_name: str
    """Its Kubernetes name, which pods name in their CSI volume. Plain `str`: it is also the
    `app.kubernetes.io/name` label and the `class_name` output a pod spec is built from when the
    program runs. Required."""
    objects: Sequence[SecretObject]
    """The secrets and parameters to mount. Required, at least one."""
    region: str
    """AWS region ASCP reads from. Required."""
    synced_secrets: Sequence[SyncedSecret] = ()
    """Kubernetes Secrets kept in step with mounted files. Default: none."""
    use_pod_identity: bool = False
    """ASCP authenticates with EKS Pod Identity instead of IRSA. Default: False."""
    failover_region: str = ""
    """Region ASCP reads the replicas from when `region` fails. Default: empty, none."""
    wait_for: Sequence[pulumi.Resource] = ()
    """The CSI driver releases (they install the CRD) and the Namespace. Default: none."""

    def __post_init__(self) -> None:
        if isinstance(self.namespace, str) and (problem := check_dns1123_label(self.namespace)):
            raise ValueError(f"namespace {self.namespace!r} {problem}")
        if problem := check_dns1123_subdomain(self.class_name):
            raise ValueError(f"class_name {self.class_name!r} {problem}")


class SecretProviderClass(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: SecretProviderClassArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksplatform:secrets:SecretProviderClass", name, None, opts)
        spec = secret_provider_class_spec(
            args.objects,
            region=args.region,
            synced_secrets=args.synced_secrets,
            use_pod_identity=args.use_pod_identity,
            failover_region=args.failover_region,
        )
        self.resource = k8s.apiextensions.CustomResource(
            f"{name}-spc",
            api_version=API_VERSION,
            kind="SecretProviderClass",
            metadata={
                "name": args.class_name,
                "namespace": args.namespace,
                "labels": app_labels(args.class_name, "secrets"),
            },
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )
        self.class_name = args.class_name
        self.file_names = file_names(args.objects)
        self.register_outputs({"class_name": self.class_name, "file_names": self.file_names})
